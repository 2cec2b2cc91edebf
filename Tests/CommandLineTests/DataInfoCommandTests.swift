import Foundation
import XCTest

final class DataInfoCommandTests: XCTestCase {
    func testHelpListsEverySubcommandOfTheContract() throws {
        let r = try BinaryRunner.run(["--help"])
        XCTAssertEqual(r.status, 0)
        for name in ["train", "launch", "coordinator", "worker", "evaluate", "checkpoint", "bench", "report", "tune", "data"] {
            XCTAssertTrue(r.stdout.contains("  \(name) "), "--help does not list \(name):\n\(r.stdout)")
        }
    }

    /// A mistyped subcommand is named, with the ones that exist, at any level.
    func testAnUnknownSubcommandIsNamed() throws {
        let r = try BinaryRunner.run(["trian", "--epochs", "3"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("unknown subcommand 'trian' of ringtrain (one of: train, launch"), r.stderr)
        let nested = try BinaryRunner.run(["data", "inf", "x"])
        XCTAssertEqual(nested.status, 2)
        XCTAssertTrue(nested.stderr.contains("unknown subcommand 'inf' of ringtrain data (one of: info, prepare, export-images"), nested.stderr)
        XCTAssertEqual(try BinaryRunner.run(["help", "train"]).status, 0)
    }

    func testFashionMNISTInfoAsJSON() throws {
        let r = try BinaryRunner.run(["data", "info", "/usr/share/datasets/fashion-mnist", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(obj["format"] as? String, "idx")
        XCTAssertEqual(obj["image_shape"] as? [Int], [28, 28, 1])
        XCTAssertEqual((obj["classes"] as? [String])?.count, 10)
        let train = obj["train"] as! [String: Any], test = obj["test"] as! [String: Any]
        XCTAssertEqual(train["count"] as? Int, 60000)
        XCTAssertEqual(test["count"] as? Int, 10000)
        XCTAssertEqual(train["class_counts"] as? [Int], Array(repeating: 6000, count: 10))
        XCTAssertEqual(test["class_counts"] as? [Int], Array(repeating: 1000, count: 10))
        XCTAssertEqual((train["mean"] as! [Double])[0], 0.286, accuracy: 0.001)
        XCTAssertEqual((train["std"] as! [Double])[0], 0.353, accuracy: 0.001)
        XCTAssertEqual(train["imbalance_ratio"] as? Double, 1)
    }

    func testBadDatasetExitsTwoNamingFileAndOffset() throws {
        let dir = NSTemporaryDirectory() + "ringtrain-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func header(_ dims: [Int]) -> [UInt8] {
            var h: [UInt8] = [0, 0, 8, UInt8(dims.count)]
            for d in dims {
                let be: [UInt8] = [UInt8((d >> 24) & 255), UInt8((d >> 16) & 255), UInt8((d >> 8) & 255), UInt8(d & 255)]
                h.append(contentsOf: be)
            }
            return h
        }
        let files: [String: [UInt8]] = [
            "train-images-idx3-ubyte": header([4, 2, 2]) + [UInt8](repeating: 1, count: 16),
            "train-labels-idx1-ubyte": header([4]) + [0, 1, 12, 3],
            "t10k-images-idx3-ubyte": header([1, 2, 2]) + [UInt8](repeating: 1, count: 4),
            "t10k-labels-idx1-ubyte": header([1]) + [0],
        ]
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name)) }
        // The class list says 10 classes, so label 12 is out of range (without one, the labels
        // themselves define the classes).
        try Data((0..<10).map { "class \($0)" }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: dir + "/classes.txt"))
        let r = try BinaryRunner.run(["data", "info", dir])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("train-labels-idx1-ubyte: label of item 2 at byte offset 10: label 12 is out of range"), r.stderr)

        let missing = try BinaryRunner.run(["data", "info", dir + "/nope"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nope"), missing.stderr)
    }

    /// Every subcommand of the contract runs: bench train times one worker's training step.
    func testBenchTrainTimesATrainingStep() throws {
        let r = try BinaryRunner.run(["bench", "train", "--batch", "8", "--steps", "2", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(obj["model"] as? String, "fashion-cnn")
        XCTAssertGreaterThan(obj["images_per_sec"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(obj["update_ms"] as? Double ?? 0, 0)
        XCTAssertEqual(try BinaryRunner.run(["bench", "train", "--model", "nothing"]).status, 2)
    }
}
