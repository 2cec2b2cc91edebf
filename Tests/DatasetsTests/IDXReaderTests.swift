import Datasets
import XCTest

final class IDXReaderTests: XCTestCase {
    func testReadsRawAndGzippedDatasetIdentically() throws {
        let raw = try FixtureDirectory()
        try raw.writeIDXDataset()
        let gz = try FixtureDirectory()
        try gz.writeIDXDataset()
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try gz.gzip(name)
        }
        let a = try Dataset.load(directory: raw.path)
        let b = try Dataset.load(directory: gz.path)
        XCTAssertEqual(a.format, .idx)
        XCTAssertEqual(a.train.count, 30)
        XCTAssertEqual(a.test.count, 10)
        XCTAssertEqual([a.train.channels, a.train.height, a.train.width], [1, 5, 4])
        XCTAssertEqual(a.train.pixels, b.train.pixels)
        XCTAssertEqual(a.train.labels, b.train.labels)
        XCTAssertEqual(a.train.pixels, Array(FixtureDirectory.idxImages(count: 30)[16...]))
        XCTAssertEqual(a.train.labels.map(Int.init), (0..<30).map { $0 % 10 })
    }

    private func assertLoadFails(_ dir: FixtureDirectory, file: String, mentions: [String],
                                 line: UInt = #line) {
        XCTAssertThrowsError(try Dataset.load(directory: dir.path), line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(file), "message does not name \(file): \(text)", line: line)
            for m in mentions {
                XCTAssertTrue(text.contains(m), "message does not mention '\(m)': \(text)", line: line)
            }
        }
    }

    func testTruncatedImageFileNamesFileAndOffset() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        let full = FixtureDirectory.idxImages(count: 30)
        try dir.write("train-images-idx3-ubyte", Array(full[0..<(full.count - 7)]))
        assertLoadFails(dir, file: "train-images-idx3-ubyte", mentions: ["truncated", "byte offset \(full.count - 7)"])
    }

    func testTruncatedHeader() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        try dir.write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0])
        assertLoadFails(dir, file: "t10k-labels-idx1-ubyte", mentions: ["dimension sizes", "truncated"])
    }

    func testTruncatedGzipStream() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        try dir.gzip("train-images-idx3-ubyte")
        let path = dir.path + "/train-images-idx3-ubyte.gz"
        let gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try dir.write("train-images-idx3-ubyte.gz", Array(gz[0..<(gz.count / 2)]))
        assertLoadFails(dir, file: "train-images-idx3-ubyte.gz", mentions: ["gzip", "byte offset"])
    }

    /// A header claiming 2^31-1 images names the count (offset 4), not a later dimension.
    func testAnInflatedCountNamesTheCountField() throws {
        var bytes = FixtureDirectory.idxImages(count: 3)
        bytes[4] = 0x7f; bytes[5] = 0xff; bytes[6] = 0xff; bytes[7] = 0xff
        XCTAssertThrowsError(try IDXReader.parse(bytes, path: "x.idx")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("dimension 0 size (the item count)") && text.contains("byte offset 4"), text)
            XCTAssertTrue(text.contains("2147483647 items"), text)
        }
        let labels: [UInt8] = [0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]
        XCTAssertThrowsError(try IDXReader.parse(labels, path: "y.idx")) { error in
            XCTAssertTrue("\(error)".contains("byte offset 4"), "\(error)")
        }
    }

    func testWrongMagic() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        var bytes = FixtureDirectory.idxImages(count: 30)
        bytes[0] = 0x1f; bytes[1] = 0x00
        try dir.write("train-images-idx3-ubyte", bytes)
        assertLoadFails(dir, file: "train-images-idx3-ubyte", mentions: ["magic", "byte offset 0"])
        bytes[0] = 0; bytes[2] = 0x0d  // float element type
        try dir.write("train-images-idx3-ubyte", bytes)
        assertLoadFails(dir, file: "train-images-idx3-ubyte", mentions: ["element type", "byte offset 2"])
    }

    func testLabelOutOfRange() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        var labels = FixtureDirectory.idxLabels(count: 30)
        labels[8 + 17] = 10
        try dir.write("train-labels-idx1-ubyte", labels)
        // Without a class list the labels define the classes (here 11) ...
        XCTAssertEqual(try Dataset.load(directory: dir.path).classCount, 11)
        XCTAssertEqual(try Dataset.load(directory: dir.path, options: .init(classNames: (0..<11).map { "c\($0)" })).classNames.last, "c10")
        // ... with one, a label past its end is an error naming item and offset.
        try dir.write("classes.txt", Array((0..<10).map { "class \($0)" }.joined(separator: "\n").utf8))
        assertLoadFails(dir, file: "train-labels-idx1-ubyte", mentions: ["label of item 17", "byte offset 25", "out of range 0..<10", "classes.txt"])
    }

    func testClassNamesComeFromTheDataNeverFromThePath() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        XCTAssertEqual(try Dataset.load(directory: dir.path).classNames, (0..<10).map(String.init))
        try dir.write("classes.txt", Array("a\nb\n\nc\n".utf8))
        assertLoadFails(dir, file: "classes.txt", mentions: ["line 3", "is empty"])
        // The real Fashion-MNIST is recognised by its labels, wherever it lies.
        let copy = NSTemporaryDirectory() + "ringtrain-copy-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: "/usr/share/datasets/fashion-mnist", toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        XCTAssertEqual(try Dataset.load(directory: copy).classNames.first, "T-shirt/top")
    }

    func testImageLabelCountMismatch() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        try dir.write("train-labels-idx1-ubyte", FixtureDirectory.idxLabels(count: 29))
        assertLoadFails(dir, file: "train-labels-idx1-ubyte", mentions: ["item count", "29 labels", "30 images"])
    }

    func testTrailingBytesAndMissingFile() throws {
        let dir = try FixtureDirectory()
        try dir.writeIDXDataset()
        try dir.write("t10k-images-idx3-ubyte", FixtureDirectory.idxImages(count: 10) + [1, 2, 3])
        assertLoadFails(dir, file: "t10k-images-idx3-ubyte", mentions: ["trailing"])
        try FileManager.default.removeItem(atPath: dir.path + "/t10k-images-idx3-ubyte")
        assertLoadFails(dir, file: "t10k-images-idx3-ubyte", mentions: ["missing"])
    }

    func testRandomCorruptionNeverCrashes() throws {
        // Fuzz-ish: random bytes and random truncations must fail with an error, never trap.
        var seed: UInt64 = 12345
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        let good = FixtureDirectory.idxImages(count: 3)
        for _ in 0..<2000 {
            var bytes = Array(good[0..<Int(next() % UInt64(good.count + 1))])
            if !bytes.isEmpty && next() % 2 == 0 { bytes[Int(next() % UInt64(bytes.count))] = UInt8(next() % 256) }
            _ = try? IDXReader.parse(bytes, path: "fuzz")
        }
    }
}
