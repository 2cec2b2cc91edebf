import XCTest
import Foundation
import Imaging

/// Pillow's own outputs (scripts/make-resize-fixtures.py, Pillow 13.0.0) for a 32x24 crop of a
/// real photograph: every filter, shrink/enlarge/one-axis/1x1/box/crop cases, RGB and L.
/// The Imaging resize must reproduce them byte for byte.
final class PillowFixtureTests: XCTestCase {
    struct Entry: Decodable {
        let name: String
        let offset: Int
        let length: Int
        let width: Int
        let height: Int
        let channels: Int
        let filter: String?
        let box: [Double]?
    }
    struct Index: Decodable {
        let pillow: String
        let entries: [Entry]
    }

    func testResizeEqualsPillowByteForByte() throws {
        let folder = testDirectory.appendingPathComponent("Fixtures")
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: folder.appendingPathComponent("pillow-resize.json")))
        let blob = [UInt8](try Data(contentsOf: folder.appendingPathComponent("pillow-resize.bin")))
        func bytes(_ e: Entry) -> [UInt8] { Array(blob[e.offset..<e.offset + e.length]) }
        let sources = Dictionary(uniqueKeysWithValues: index.entries.filter { $0.name.hasPrefix("source") }.map { ($0.channels, $0) })
        var checked = 0, worst = 0
        for e in index.entries where e.name == "resize" {
            let source = try XCTUnwrap(sources[e.channels])
            let filter = try XCTUnwrap(ResampleFilter(rawValue: e.filter ?? ""))
            let box = e.box.map { ResampleBox(x0: $0[0], y0: $0[1], x1: $0[2], y1: $0[3]) }
            let ours = try resized(bytes(source), source.width, source.height, e.channels, box: box, e.width, e.height, filter)
            let pillow = bytes(e)
            let difference = zip(ours, pillow).map { abs(Int($0) - Int($1)) }.max() ?? 0
            worst = max(worst, difference)
            XCTAssertEqual(ours, pillow, "Pillow \(index.pillow) \(filter) x\(e.channels) -> \(e.width)x\(e.height) box \(String(describing: e.box)): max difference \(difference)")
            checked += 1
        }
        XCTAssertEqual(checked, 50, "fixture cases")
    }

    /// Pillow's "L" conversion of the fixture's RGB source (Convert.c rgb2l, the L24 macro).
    func testGrayscaleEqualsPillowL() throws {
        let folder = testDirectory.appendingPathComponent("Fixtures")
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: folder.appendingPathComponent("pillow-resize.json")))
        let blob = [UInt8](try Data(contentsOf: folder.appendingPathComponent("pillow-resize.bin")))
        let rgb = try XCTUnwrap(index.entries.first { $0.name == "source-rgb" })
        let l = try XCTUnwrap(index.entries.first { $0.name == "source-l" })
        let source = Array(blob[rgb.offset..<rgb.offset + rgb.length])
        var gray = [UInt8](repeating: 0, count: rgb.width * rgb.height)
        try source.withUnsafeBufferPointer { s in
            try gray.withUnsafeMutableBufferPointer { g in
                try rgbToGray(source: s.baseAddress!, width: rgb.width, height: rgb.height, rowStride: rgb.width * 3, output: g.baseAddress!)
            }
        }
        XCTAssertEqual(gray, Array(blob[l.offset..<l.offset + l.length]))
    }
}
