import Foundation
import XCTest
import Datasets
import ImageCodecs
import Imaging
import TestSupport

final class PrepareTests: XCTestCase {
    var dirs: [String] = []
    override func tearDown() {
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
        dirs = []
    }

    func temporary() -> String {
        let d = NSTemporaryDirectory() + "ringtrain-prepare-\(UUID().uuidString)"
        dirs.append(d)
        return d
    }

    func prepare(_ source: String, _ out: String, _ options: ImageFolderOptions = ImageFolderOptions(),
                 threads: Int = 2, shardBytes: Int = PreparedFormat.defaultShardBytes) throws -> PrepareSummary {
        var run = PrepareRunOptions()
        run.threads = threads
        run.shardBytes = shardBytes
        return try DatasetPreparer.prepare(source: source, output: out, options: options, run: run)
    }

    /// Every file of a directory, by relative path, with its bytes.
    func contents(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: dir)
        while let rel = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + rel, isDirectory: &isDir), !isDir.boolValue, rel != "lock" {
                out[rel] = FileManager.default.contents(atPath: dir + "/" + rel)
            }
        }
        return out
    }

    /// PNG at the record size: no resize, so every record is the source's pixels (CHW).
    func testSameSizePNGRecordsAreTheSourcePixels() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), splits: ["train", "test"], perClass: 5)
        let out = temporary()
        let before = SyntheticImageFolder.listing(src)
        let summary = try prepare(src, out)
        XCTAssertEqual(SyntheticImageFolder.listing(src), before, "nothing is written into the source folder")
        XCTAssertEqual(summary.manifest.image, PreparedManifest.ImageShape(channels: 3, height: 16, width: 16))
        XCTAssertEqual(summary.manifest.classes, SyntheticImageFolder.classNames)
        XCTAssertEqual(summary.decoded, 40)
        let data = try Dataset.load(directory: out)
        XCTAssertEqual(data.format, .prepared)
        XCTAssertTrue(data.train.isMapped)
        XCTAssertEqual(data.train.count, 20)
        XCTAssertEqual(data.test.count, 20)
        XCTAssertEqual(data.classNames, SyntheticImageFolder.classNames)
        for i in 0..<data.train.count {
            let label = Int(data.train.labels[i]), index = i % 5
            let hwc = SyntheticImageFolder.pixels(label: label, index: index, width: 16, height: 16, channels: 3)
            let record = data.train.imageBytes(i)
            for c in 0..<3 { for p in 0..<256 { XCTAssertEqual(record[c * 256 + p], hwc[p * 3 + c]) } }
        }
        // The manifest's statistics are those of the training records.
        let stats = DatasetStatistics(data.train)
        XCTAssertEqual(data.normalization.mean, stats.mean)
        XCTAssertEqual(data.normalization.std, stats.std)
    }

    func testPreparedTwiceIsBitIdenticalAndAReRunDoesNothing() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), perClass: 9, width: 20, height: 14, format: .jpeg)
        var options = ImageFolderOptions()
        options.width = 12
        options.height = 12
        let a = temporary(), b = temporary()
        _ = try prepare(src, a, options, threads: 1)
        _ = try prepare(src, b, options, threads: 2, shardBytes: PreparedFormat.defaultShardBytes)
        XCTAssertEqual(try contents(a), try contents(b), "another thread count, the same bytes")
        let again = try prepare(src, a, options)
        XCTAssertEqual(again.decoded, 0)
        XCTAssertEqual(again.kept, 36)
        XCTAssertEqual(try contents(a), try contents(b))
    }

    func testAddedAndRemovedFilesAreIncremental() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), splits: ["train", "test"], perClass: 4)
        let out = temporary()
        _ = try prepare(src, out, shardBytes: 3 * 768)
        let extra = DecodedImage(width: 16, height: 16, channels: 3,
                                 pixels: SyntheticImageFolder.pixels(label: 2, index: 77, width: 16, height: 16, channels: 3))
        try SyntheticImageFolder.write(extra, to: "\(src)/train/dot/new.png", format: .png)
        try FileManager.default.removeItem(atPath: "\(src)/train/circle/img-000.png")
        let second = try prepare(src, out, shardBytes: 3 * 768)
        XCTAssertEqual(second.decoded, 1)
        XCTAssertEqual(second.kept, 31)
        let data = try Dataset.load(directory: out)
        XCTAssertEqual(data.train.count, 16)
        XCTAssertEqual(data.train.classCounts, [3, 4, 5, 4])
        // Equal to a fresh prepare of the folder as it is now, image for image.
        let fresh = try Dataset.load(directory: { let f = temporary(); _ = try prepare(src, f); return f }())
        XCTAssertEqual(data.train.pixels, fresh.train.pixels)
        XCTAssertEqual(data.train.labels, fresh.train.labels)
    }

    /// A prepare stopped after some shards continues with the rest and ends as an
    /// uninterrupted one does.
    func testInterruptedPrepareResumes() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), splits: ["train", "test"], perClass: 6)
        let whole = temporary(), resumed = temporary()
        _ = try prepare(src, whole, shardBytes: 4 * 768)
        var run = PrepareRunOptions()
        run.shardBytes = 4 * 768
        run.stopAfterShards = 3
        XCTAssertThrowsError(try DatasetPreparer.prepare(source: src, output: resumed, options: ImageFolderOptions(), run: run))
        XCTAssertFalse(PreparedDataset.isPrepared(directory: resumed), "no manifest before the end")
        let second = try prepare(src, resumed, shardBytes: 4 * 768)
        XCTAssertEqual(second.decoded, 48 - 12, "the three journalled shards (12 records) were kept")
        XCTAssertEqual(try contents(resumed), try contents(whole))
    }

    func testDataChecksSkipAndReport() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), splits: ["train", "test"], perClass: 4)
        let png = try Data(contentsOf: URL(fileURLWithPath: "\(src)/train/cross/img-001.png"))
        try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: "\(src)/train/cross/truncated.png"))
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(src)/train/cross/text.jpg"))
        try png.write(to: URL(fileURLWithPath: "\(src)/train/cross/z-copy.png"))                 // duplicate in train
        try Data(contentsOf: URL(fileURLWithPath: "\(src)/train/dot/img-002.png"))
            .write(to: URL(fileURLWithPath: "\(src)/test/dot/leak.png"))                          // train/test leakage
        let flat = DecodedImage(width: 16, height: 16, channels: 3, pixels: [UInt8](repeating: 77, count: 768))
        try SyntheticImageFolder.write(flat, to: "\(src)/train/ring/blank.png", format: .png)
        let tiny = DecodedImage(width: 4, height: 30, channels: 3, pixels: [UInt8](repeating: 9, count: 360))
        try SyntheticImageFolder.write(tiny, to: "\(src)/train/ring/tiny.png", format: .png)
        // A PNG named .jpg is read by its contents.
        let other = DecodedImage(width: 16, height: 16, channels: 3,
                                 pixels: SyntheticImageFolder.pixels(label: 1, index: 99, width: 16, height: 16, channels: 3))
        try SyntheticImageFolder.write(other, to: "\(src)/train/cross/renamed.jpg", format: .png)
        var options = ImageFolderOptions()
        options.width = 16
        options.height = 16
        let out = temporary()
        let summary = try prepare(src, out, options)
        let r = summary.report
        let skipped = Dictionary(uniqueKeysWithValues: r.skipped.map { ($0.path, $0.kind) })
        XCTAssertEqual(skipped["train/cross/truncated.png"], .unreadable)
        XCTAssertEqual(skipped["train/cross/text.jpg"], .unreadable)
        XCTAssertEqual(skipped["train/cross/z-copy.png"], .duplicate)
        XCTAssertEqual(skipped["train/ring/blank.png"], .nearConstant)
        XCTAssertEqual(skipped["train/ring/tiny.png"], .tooSmall)
        XCTAssertNil(skipped["train/cross/renamed.jpg"])
        XCTAssertEqual(summary.manifest.splits["train"]?.count, 16 + 1)
        XCTAssertTrue(r.skipped.first { $0.path == "train/cross/truncated.png" }!.reason.contains("truncated")
                      || r.skipped.first { $0.path == "train/cross/truncated.png" }!.reason.contains("corrupt"))
        XCTAssertEqual(r.leakage.map(\.duplicate), ["test/dot/leak.png"])
        XCTAssertTrue(r.summaryLine.contains("2 unreadable"), r.summaryLine)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.json"))
        // A re-run decodes none of them again, and the report stays.
        let again = try prepare(src, out, options)
        XCTAssertEqual(again.decoded, 0)
        XCTAssertEqual(again.report.skipped, r.skipped)
    }

    func testBlurryImagesWithMinimumSharpness() throws {
        let src = temporary()
        for (c, name) in ["sharp", "soft"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(src)/\(name)", withIntermediateDirectories: true)
            for i in 0..<3 {
                // Checkerboards (high Laplacian variance) against smooth ramps (zero).
                let pixels = (0..<(16 * 16)).map { p -> UInt8 in
                    c == 0 ? (((p / 16) / (i + 1) + p % 16) % 2 == 0 ? 0 : 255) : UInt8(p / 16 * 8 + i)
                }
                try SyntheticImageFolder.write(DecodedImage(width: 16, height: 16, channels: 1, pixels: pixels),
                                               to: "\(src)/\(name)/\(i).png", format: .png)
            }
        }
        var options = ImageFolderOptions()
        options.testFraction = 0
        options.checks.minSharpness = 100
        let summary = try prepare(src, temporary(), options)
        XCTAssertEqual(summary.report.skipped.map(\.kind), [.blurry, .blurry, .blurry])
        XCTAssertEqual(summary.manifest.image.channels, 1, "grey images give a grey dataset")
    }

    /// A hold-out test split when the folder has none: stratified, from the seed.
    func testHoldOutIsStratifiedAndStable() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), perClass: 10)
        var options = ImageFolderOptions()
        options.testFraction = 0.2
        let summary = try prepare(src, temporary(), options)
        XCTAssertEqual(summary.report.classCounts["test"], [2, 2, 2, 2])
        XCTAssertEqual(summary.report.classCounts["train"], [8, 8, 8, 8])
        let again = try prepare(src, temporary(), options)
        XCTAssertEqual(again.report.counts, summary.report.counts)
    }

    func testDamagedShardsAreRefusedNamingTheShard() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), splits: ["train", "test"], perClass: 3)
        let out = temporary()
        _ = try prepare(src, out)
        let shard = out + "/shards/train-00000.rtshard"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: shard))
        bytes[bytes.count - 1] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: shard))
        XCTAssertThrowsError(try Dataset.load(directory: out)) { e in
            XCTAssertTrue("\(e)".contains("train-00000.rtshard: sha256"), "\(e)")
        }
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: shard))
        XCTAssertThrowsError(try Dataset.load(directory: out)) { e in
            XCTAssertTrue("\(e)".contains("train-00000.rtshard: size"), "\(e)")
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
    }

    func testOutputInsideTheSourceAndOtherSettingsAreRefused() throws {
        let src = try SyntheticImageFolder.write(root: temporary(), perClass: 3)
        XCTAssertThrowsError(try prepare(src, src + "/prepared")) { XCTAssertTrue("\($0)".contains("inside the source folder"), "\($0)") }
        let out = temporary()
        _ = try prepare(src, out)
        var other = ImageFolderOptions()
        other.width = 8
        other.height = 8
        XCTAssertThrowsError(try prepare(src, out, other)) { XCTAssertTrue("\($0)".contains("prepared with other settings"), "\($0)") }
        // Mixed sizes without a size: the error asks for one and names examples.
        try SyntheticImageFolder.write(DecodedImage(width: 9, height: 7, channels: 3, pixels: [UInt8](repeating: 50, count: 189)),
                                       to: "\(src)/cross/odd.png", format: .png)
        XCTAssertThrowsError(try prepare(src, temporary())) { e in
            XCTAssertTrue("\(e)".contains("differ in size"), "\(e)")
            XCTAssertTrue("\(e)".contains("--size"), "\(e)")
        }
    }

    /// Resize modes land the image where they say: centre crop fills, pad letterboxes in black.
    func testResizeModes() throws {
        let src = temporary()
        for name in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(src)/\(name)", withIntermediateDirectories: true)
            // 32x16, left half 200, right half 100.
            let pixels = (0..<(32 * 16)).map { p -> UInt8 in p % 32 < 16 ? 200 : 100 }
            try SyntheticImageFolder.write(DecodedImage(width: 32, height: 16, channels: 1, pixels: pixels),
                                           to: "\(src)/\(name)/x.png", format: .png)
        }
        func first(_ mode: ResizeMode) throws -> [UInt8] {
            var o = ImageFolderOptions()
            o.width = 8
            o.height = 8
            o.resize = mode
            o.testFraction = 0
            o.checks.skipDuplicates = false
            let out = temporary()
            _ = try prepare(src, out, o)
            let d = try Dataset.load(directory: out)
            return d.train.imageBytes(0)
        }
        let crop = try first(.centerCrop)
        XCTAssertEqual(crop[0], 200)
        XCTAssertEqual(crop[7], 100)
        let pad = try first(.letterbox)
        XCTAssertEqual(Array(pad[0..<8]), [UInt8](repeating: 0, count: 8), "top rows are padding")
        XCTAssertEqual(pad[4 * 8], 200)
        let stretch = try first(.stretch)
        XCTAssertEqual(stretch[0], 200)
        XCTAssertEqual(stretch[63], 100)
    }
}
