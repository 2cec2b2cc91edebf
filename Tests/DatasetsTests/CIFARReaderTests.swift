import Datasets
import XCTest

final class CIFARReaderTests: XCTestCase {
    func testReadsBatchesInOrderWithCHWLayout() throws {
        let dir = try FixtureDirectory()
        try dir.write("data_batch_1.bin", FixtureDirectory.cifarRecords(count: 4))
        try dir.write("data_batch_2.bin", FixtureDirectory.cifarRecords(count: 3, labelOffset: 4))
        try dir.write("test_batch.bin", FixtureDirectory.cifarRecords(count: 2))
        let d = try Dataset.load(directory: dir.path)
        XCTAssertEqual(d.format, .cifar10)
        XCTAssertEqual(d.train.count, 7)
        XCTAssertEqual(d.test.count, 2)
        XCTAssertEqual(d.train.labels, [0, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual([d.train.channels, d.train.height, d.train.width], [3, 32, 32])
        // Record 5 (the second of batch 2, r = 1): pixel j of the record is (j + 1) % 251.
        let image5 = Array(d.train.pixels[(5 * 3072)..<(6 * 3072)])
        XCTAssertEqual(image5, (0..<3072).map { UInt8(($0 + 1) % 251) })
        // Names come only from the data: batches.meta.txt (as the CIFAR-10 release ships it),
        // else indices; never from the format.
        XCTAssertEqual(d.classNames, (0..<7).map(String.init), "labels 0...6: seven classes")
        try dir.write("batches.meta.txt", Array(CIFARReader.classNames.joined(separator: "\n").utf8) + [10, 10])
        XCTAssertEqual(try Dataset.load(directory: dir.path).classNames, CIFARReader.classNames)
    }

    func testSubfolderLayoutIsFound() throws {
        let dir = try FixtureDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/cifar-10-batches-bin", withIntermediateDirectories: true)
        try dir.write("cifar-10-batches-bin/data_batch_1.bin", FixtureDirectory.cifarRecords(count: 2))
        try dir.write("cifar-10-batches-bin/test_batch.bin", FixtureDirectory.cifarRecords(count: 1))
        XCTAssertEqual(try Dataset.load(directory: dir.path).train.count, 2)
    }

    func testTruncatedRecordAndBadLabel() throws {
        let dir = try FixtureDirectory()
        var batch = FixtureDirectory.cifarRecords(count: 3)
        try dir.write("data_batch_1.bin", Array(batch[0..<(batch.count - 100)]))
        try dir.write("test_batch.bin", FixtureDirectory.cifarRecords(count: 1))
        XCTAssertThrowsError(try Dataset.load(directory: dir.path)) { e in
            XCTAssertTrue("\(e)".contains("data_batch_1.bin: record 2 at byte offset 6146: truncated"), "\(e)")
        }
        batch[3073] = 11
        try dir.write("data_batch_1.bin", batch)
        XCTAssertThrowsError(try Dataset.load(directory: dir.path)) { e in
            XCTAssertTrue("\(e)".contains("data_batch_1.bin: label of record 1 at byte offset 3073"), "\(e)")
        }
    }
}
