import Foundation
import XCTest

/// Small generated dataset files in the real formats, in a fresh temporary directory.
final class FixtureDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "ringtrain-datasets-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name))
    }

    func gzip(_ name: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-f", path + "/" + name]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "gzip failed")
    }

    static func idxHeader(_ dims: [Int]) -> [UInt8] {
        var h: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
        for d in dims { h += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return h
    }

    /// Images whose pixel values encode (index, position), labels `i % classes`.
    static func idxImages(count n: Int, height: Int = 5, width: Int = 4) -> [UInt8] {
        idxHeader([n, height, width]) + (0..<(n * height * width)).map { UInt8(($0 * 7 + $0 / 13) % 256) }
    }

    static func idxLabels(count n: Int, classes: Int = 10) -> [UInt8] {
        idxHeader([n]) + (0..<n).map { UInt8($0 % classes) }
    }

    /// A complete IDX dataset directory (train + t10k).
    func writeIDXDataset(train: Int = 30, test: Int = 10) throws {
        try write("train-images-idx3-ubyte", Self.idxImages(count: train))
        try write("train-labels-idx1-ubyte", Self.idxLabels(count: train))
        try write("t10k-images-idx3-ubyte", Self.idxImages(count: test))
        try write("t10k-labels-idx1-ubyte", Self.idxLabels(count: test))
    }

    static func cifarRecords(count n: Int, labelOffset: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        for r in 0..<n {
            out.append(UInt8((r + labelOffset) % 10))
            out += (0..<3072).map { UInt8(($0 + r) % 251) }
        }
        return out
    }
}
