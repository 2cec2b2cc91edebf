import Foundation
import TestSupport
import XCTest

/// `ringtrain export` on a run the binary trained: the file onnx.checker accepts, the three
/// ways to name the checkpoint, and no silent overwrite.
final class ExportCommandTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "ringtrain-cli-export-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: temp)
    }

    private func trainFashionCNN() throws -> String {
        let data = try SyntheticDataset.writeIDX()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: data) }
        let config = temp + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 1).utf8).write(to: URL(fileURLWithPath: config))
        let run = temp + "/run"
        let r = try BinaryRunner.run(["train", "--config", config, "--model", "fashion-cnn", "--run-dir", run])
        XCTAssertEqual(r.status, 0, r.stderr)
        return run
    }

    func testExportRefusesToOverwriteAndPassesTheChecker() throws {
        let run = try trainFashionCNN()
        let out = temp + "/model.onnx"
        let first = try BinaryRunner.run(["export", run, "--format", "onnx", "--out", out])
        XCTAssertEqual(first.status, 0, first.stderr)
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int)
        XCTAssertEqual(first.stdout, "\(out): \(size) bytes, ONNX opset 17, 13 nodes (from \(run)/checkpoints/step-00000012.safetensors)\n")
        let written = try Data(contentsOf: URL(fileURLWithPath: out))

        // An existing file: exit 2 naming it, the file untouched; --force replaces it.
        let again = try BinaryRunner.run(["export", run + "/checkpoints/step-00000004.safetensors", "--out", out])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("\(out): exists; pass --force to replace it"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), written)
        let forced = try BinaryRunner.run(["export", run + "/checkpoints/step-00000004.safetensors", "--out", out, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: out)), written, "the step-4 weights replaced step 12's")

        // The `latest` pointer and the checkpoints directory name the newest checkpoint.
        let viaLatest = temp + "/latest.onnx", viaDirectory = temp + "/directory.onnx"
        XCTAssertEqual(try BinaryRunner.run(["export", run + "/checkpoints/latest", "--out", viaLatest]).status, 0)
        XCTAssertEqual(try BinaryRunner.run(["export", run + "/checkpoints", "--out", viaDirectory]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: viaLatest)), written)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: viaDirectory)), written)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: temp).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "no temporary file is left behind")

        let check = try ScriptRunner.run("scripts/check-onnx.sh", [out, "--check-only"], timeout: 900)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("onnx.checker (full_check): ok"), check.output)
        // The synthetic dataset has 4 classes, and the model's head follows the data.
        XCTAssertTrue(check.output.contains("outputs [('logits', ['batch', 4]), ('probabilities', ['batch', 4])]"),
                      check.output)
    }

    /// A run directory whose newest checkpoint is corrupt exports the one before, saying so.
    func testRunDirectorySkipsACorruptCheckpoint() throws {
        let run = try trainFashionCNN()
        let newest = run + "/checkpoints/step-00000012.safetensors"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: newest)))
        bytes[bytes.count - 100] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: newest))
        let r = try BinaryRunner.run(["export", run, "--out", temp + "/model.onnx"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipping checkpoint"), r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("(from \(run)/checkpoints/step-00000008.safetensors)\n"), r.stdout)
    }

    func testBadArgumentsExitTwoNamingWhatIsWrong() throws {
        let missing = try BinaryRunner.run(["export", temp + "/nothing", "--out", temp + "/m.onnx"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("\(temp)/nothing: does not exist"), missing.stderr)
        let empty = try BinaryRunner.run(["export", temp, "--out", temp + "/m.onnx"])
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("no valid checkpoint in \(temp)/checkpoints"), empty.stderr)
        let format = try BinaryRunner.run(["export", temp, "--format", "tflite", "--out", temp + "/m.onnx"])
        XCTAssertEqual(format.status, 2)
        XCTAssertTrue(format.stderr.contains("tflite"), format.stderr)
        let pointer = temp + "/latest"
        try Data("step-00000099.safetensors\n".utf8).write(to: URL(fileURLWithPath: pointer))
        let dangling = try BinaryRunner.run(["export", pointer, "--out", temp + "/m.onnx"])
        XCTAssertEqual(dangling.status, 2)
        XCTAssertTrue(dangling.stderr.contains("\(pointer): names step-00000099.safetensors, which does not exist"),
                      dangling.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp + "/m.onnx"))
    }
}
