import Foundation
import Telemetry
import XCTest

/// The event file is checked byte for byte against the TFRecord / protobuf layout here, and
/// against TensorBoard's own reader in scripts/check-tensorboard.py.
final class TensorBoardWriterTests: XCTestCase {
    func testCRC32CKnownValues() {
        // RFC 3720 B.4 test vectors.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0..<32).map(UInt8.init)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
    }

    func testRecordsAreFramedAndChecksummed() throws {
        let dir = NSTemporaryDirectory() + "tb-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try TensorBoardWriter(directory: dir, now: Date(timeIntervalSince1970: 1_700_000_000))
        try w.add(scalars: [("train/loss", 0.5), ("train/lr", 0.05)], step: 300, wallTime: Date(timeIntervalSince1970: 1_700_000_001))
        w.close()
        XCTAssertTrue((w.path as NSString).lastPathComponent.hasPrefix("events.out.tfevents.1700000000."))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: w.path)))
        var records: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            let lengthBytes = Array(bytes[i..<(i + 8)])
            let length = lengthBytes.enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            XCTAssertEqual(le32(bytes, i + 8), CRC32C.masked(lengthBytes))
            let payload = Array(bytes[(i + 12)..<(i + 12 + length)])
            XCTAssertEqual(le32(bytes, i + 12 + length), CRC32C.masked(payload))
            records.append(payload)
            i += 12 + length + 4
        }
        XCTAssertEqual(i, bytes.count)
        XCTAssertEqual(records.count, 2)
        // First record: wall_time (field 1, double) and file_version (field 3) "brain.Event:2".
        XCTAssertEqual(records[0][0], 0x09)
        XCTAssertEqual(records[0][9], 0x1A)
        XCTAssertEqual(String(decoding: records[0][11...], as: UTF8.self), "brain.Event:2")
        // Second: wall_time, step 300 as a varint (field 2), summary (field 5) with two values.
        let e = records[1]
        XCTAssertEqual(e[0], 0x09)
        XCTAssertEqual(Array(e[9..<12]), [0x10, 0xAC, 0x02])
        XCTAssertEqual(e[12], 0x2A)
        let summary = Array(e[14...])
        XCTAssertEqual(Int(e[13]), summary.count)
        // value 1: tag "train/loss", simple_value 0.5 (field 2, fixed32).
        XCTAssertEqual(summary[0], 0x0A)
        let v1 = Array(summary[2..<(2 + Int(summary[1]))])
        XCTAssertEqual(v1[0], 0x0A)
        XCTAssertEqual(String(decoding: v1[2..<(2 + Int(v1[1]))], as: UTF8.self), "train/loss")
        XCTAssertEqual(v1[2 + Int(v1[1])], 0x15)
        XCTAssertEqual(Float(bitPattern: le32(v1, 3 + Int(v1[1]))), 0.5)
    }

    func testAResumedRunAddsAFileInsteadOfOverwriting() throws {
        let dir = NSTemporaryDirectory() + "tb-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let now = Date()
        let a = try TensorBoardWriter(directory: dir, now: now)
        let b = try TensorBoardWriter(directory: dir, now: now)
        a.close(); b.close()
        XCTAssertNotEqual(a.path, b.path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, 2)
    }

    func testAnUnwritableDirectoryIsAnErrorNamingIt() {
        XCTAssertThrowsError(try TensorBoardWriter(directory: "/proc/ringtrain-tb")) { error in
            XCTAssertTrue("\(error)".contains("/proc/ringtrain-tb"), "\(error)")
        }
    }

    private func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
}
