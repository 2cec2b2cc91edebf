import Datasets
import Foundation
import TestSupport
import XCTest

/// `data prepare`, `data info`, `data export-images`, training on prepared and raw folders,
/// and `predict`, through the binary.
final class ImageFolderCommandTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "ringtrain-cli-images-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: temp)
    }

    static let tinyModel = """
    {"layers": [{"type": "conv", "out": 6, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
                {"type": "flatten"}, {"type": "linear"}],
     "epochs": 3, "batch_size": 16, "lr": 0.05, "validation_fraction": 0, "checkpoint_every": 0, "threads": 2,
     "schedule": {"type": "constant"}}
    """

    func writeConfig() throws -> String {
        let path = temp + "/tiny.json"
        try Data(Self.tinyModel.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testPrepareReportsSkipsAndStrictExitsTwo() throws {
        let src = try SyntheticImageFolder.write(root: temp + "/src", splits: ["train", "test"], perClass: 6)
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: src + "/train/dot/broken.png"))
        let r = try BinaryRunner.run(["data", "prepare", src, "--out", temp + "/prepared", "--threads", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 unreadable"), r.stdout)
        XCTAssertTrue(r.stderr.contains("1 file could not be decoded"), r.stderr)
        XCTAssertTrue(r.stdout.contains("16x16x3"), r.stdout)
        let strict = try BinaryRunner.run(["data", "prepare", src, "--out", temp + "/prepared", "--strict"])
        XCTAssertEqual(strict.status, 2, strict.stderr)
        XCTAssertTrue(strict.stdout.contains("decoded 0 images"), "an unchanged folder is not decoded again: \(strict.stdout)")

        let info = try BinaryRunner.run(["data", "info", temp + "/prepared", "--json"])
        XCTAssertEqual(info.status, 0, info.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(obj["format"] as? String, "prepared")
        XCTAssertEqual(obj["classes"] as? [String], SyntheticImageFolder.classNames)
        XCTAssertEqual((obj["skipped"] as? [String: Int])?["unreadable"], 1)
        XCTAssertEqual((obj["counts"] as? [String: Int])?["train"], 24)

        let folderInfo = try BinaryRunner.run(["data", "info", src])
        XCTAssertEqual(folderInfo.status, 0, folderInfo.stderr)
        XCTAssertTrue(folderInfo.stdout.contains("image folder"), folderInfo.stdout)
        XCTAssertTrue(folderInfo.stdout.contains("circle"), folderInfo.stdout)

        let single = temp + "/single"
        try SyntheticImageFolder.write(root: single, perClass: 2, classes: ["only"])
        let one = try BinaryRunner.run(["data", "prepare", single, "--out", temp + "/x"])
        XCTAssertEqual(one.status, 2)
        XCTAssertTrue(one.stderr.contains("only one class"), one.stderr)
    }

    /// Train on a prepared dataset and on the raw folder (through its cache), then predict.
    func testTrainFromPreparedAndRawFoldersThenPredict() throws {
        let src = try SyntheticImageFolder.write(root: temp + "/src", splits: ["train", "test"], perClass: 24)
        let config = try writeConfig()
        XCTAssertEqual(try BinaryRunner.run(["data", "prepare", src, "--out", temp + "/prepared"]).status, 0)
        let a = try BinaryRunner.run(["train", "--json", "--config", config, "--data", temp + "/prepared", "--run-dir", temp + "/run-a"])
        XCTAssertEqual(a.status, 0, a.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as! [String: Any]
        XCTAssertGreaterThan(try XCTUnwrap(summary["test_top1"] as? Double), 0.8, "the four classes are easy")

        let b = try BinaryRunner.run(["train", "--json", "--config", config, "--data", src, "--cache", temp + "/cache",
                                      "--run-dir", temp + "/run-b"])
        XCTAssertEqual(b.status, 0, b.stderr)
        let caches = try FileManager.default.contentsOfDirectory(atPath: temp + "/cache/prepared")
        XCTAssertEqual(caches.count, 1)
        // The cache holds the same records as `data prepare` made: the same run, to the bit.
        let cached = try JSONSerialization.jsonObject(with: Data(b.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(cached["test_top1"] as? Double, summary["test_top1"] as? Double)
        XCTAssertEqual(cached["test_loss"] as? Double, summary["test_loss"] as? Double)

        let checkpoint = temp + "/run-a"
        let p = try BinaryRunner.run(["predict", "--checkpoint", checkpoint, "--json", "--top-k", "2", src + "/test/dot"])
        XCTAssertEqual(p.status, 0, p.stderr)
        let lines = p.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 24)
        var right = 0
        for line in lines {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let top = o["top"] as! [[String: Any]]
            XCTAssertEqual(top.count, 2)
            if top[0]["class"] as? String == "dot" { right += 1 }
            let p0 = top[0]["probability"] as! Double, p1 = top[1]["probability"] as! Double
            XCTAssertGreaterThanOrEqual(p0, p1)
        }
        XCTAssertGreaterThan(right, 18, p.stdout)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: temp + "/bad.png"))
        let bad = try BinaryRunner.run(["predict", "--checkpoint", checkpoint, temp + "/bad.png"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("bad.png"), bad.stderr)
    }

    /// An IDX dataset written out as PNG files and prepared again gives its own pixels back.
    func testExportImagesThenPrepareGivesTheSamePixels() throws {
        let idx = try SyntheticDataset.writeIDX(train: 40, test: 12, seed: 5)
        defer { try? FileManager.default.removeItem(atPath: idx) }
        let folder = temp + "/png"
        let e = try BinaryRunner.run(["data", "export-images", idx, "--out", folder])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/train/00-0/00000.png"), e.stdout)
        XCTAssertEqual(try BinaryRunner.run(["data", "export-images", idx, "--out", folder]).status, 2, "never over an existing folder")
        let prepared = temp + "/prepared"
        XCTAssertEqual(try BinaryRunner.run(["data", "prepare", folder, "--out", prepared, "--keep-duplicates", "--keep-near-constant"]).status, 0)
        try assertRecordsEqualSource(prepared: prepared, source: idx)
    }

    /// Real data: Fashion-MNIST's 70,000 images as PNG files at 28x28 are prepared without a
    /// resize, so every record must be its IDX image, pixel for pixel, under its IDX label.
    func testRealFashionMNISTAsAPNGFolderKeepsEveryPixel() throws {
        let idx = "/usr/share/datasets/fashion-mnist"
        let folder = temp + "/fashion-png", prepared = temp + "/fashion-prepared"
        let e = try BinaryRunner.run(["data", "export-images", idx, "--out", folder], timeout: 600)
        XCTAssertEqual(e.status, 0, e.stderr)
        let p = try BinaryRunner.run(["data", "prepare", folder, "--out", prepared, "--keep-duplicates", "--keep-near-constant"],
                                     timeout: 600)
        XCTAssertEqual(p.status, 0, p.stderr)
        let manifest = try PreparedDataset.open(directory: prepared).manifest
        XCTAssertEqual(manifest.image, PreparedManifest.ImageShape(channels: 1, height: 28, width: 28), "no resize")
        XCTAssertEqual(manifest.classes.count, 10)
        try assertRecordsEqualSource(prepared: prepared, source: idx)
    }

    /// Records of a prepared export equal the source dataset's images, matched through
    /// each record's file name (the source index).
    func assertRecordsEqualSource(prepared: String, source: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let original = try Dataset.load(directory: source)
        let data = try PreparedDataset.open(directory: prepared)
        for (split, images) in [(DatasetSplit.train, original.train), (.test, original.test)] {
            let records = try String(contentsOfFile: prepared + "/\(split.rawValue).records.jsonl", encoding: .utf8)
                .split(separator: "\n")
            let mine = try XCTUnwrap(data.splits[split], file: file, line: line)
            XCTAssertEqual(mine.count, images.count, "\(split)", file: file, line: line)
            for (i, text) in records.enumerated() {
                let r = try JSONDecoder().decode(PreparedRecord.self, from: Data(text.utf8))
                let index = Int((r.path as NSString).lastPathComponent.prefix(5))!
                XCTAssertEqual(Int(mine.labels[i]), Int(images.labels[index]), file: file, line: line)
                guard mine.imageBytes(i) == images.imageBytes(index) else {
                    XCTFail("\(split) record \(i) (\(r.path)) differs from source image \(index)", file: file, line: line)
                    return
                }
            }
        }
    }
}
