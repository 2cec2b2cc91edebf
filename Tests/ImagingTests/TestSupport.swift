import XCTest
import Foundation
import Imaging

/// Deterministic test pixels (SplitMix64): the same bytes on every run and machine.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next() >> 56) }
    mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A smooth gradient with noise and a few saturated edges: smooth areas exercise rounding,
/// edges exercise bicubic overshoot and clipping.
func testImage(width: Int, height: Int, channels: Int, seed: UInt64) -> [UInt8] {
    var rng = TestRandom(seed: seed)
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                let ramp = (x * 255 / max(1, width - 1) + y * 97 / max(1, height) + c * 40) % 256
                let edge = ((x / 3 + y / 2 + c) % 5 == 0) ? 255 : ramp
                let noise = Int(rng.byte() % 32) - 16
                pixels[(y * width + x) * channels + c] = UInt8(min(255, max(0, (x + y) % 7 == 0 ? 0 : edge + noise)))
            }
        }
    }
    return pixels
}

/// `resizeInterleaved` on arrays.
func resized(_ source: [UInt8], _ width: Int, _ height: Int, _ channels: Int, box: ResampleBox? = nil,
             _ outWidth: Int, _ outHeight: Int, _ filter: ResampleFilter) throws -> [UInt8] {
    var out = [UInt8](repeating: 0xA5, count: outWidth * outHeight * channels)
    try source.withUnsafeBufferPointer { s in
        try out.withUnsafeMutableBufferPointer { o in
            try resizeInterleaved(source: s.baseAddress!, width: width, height: height, channels: channels, box: box,
                                  output: o.baseAddress!, outWidth: outWidth, outHeight: outHeight, filter: filter)
        }
    }
    return out
}

/// HWC -> CHW on arrays (the tests' own plain loop, independent of the library's).
func planarCopy(_ hwc: [UInt8], _ width: Int, _ height: Int, _ channels: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: hwc.count)
    for c in 0..<channels {
        for i in 0..<width * height { out[c * width * height + i] = hwc[i * channels + c] }
    }
    return out
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The test target's folder, for the checked-in fixtures.
let testDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

func assertClose(_ a: [Float], _ b: [Float], accuracy: Float = 1e-6, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, accuracy, "\(what): \(a) vs \(b)", file: file, line: line)
}

/// A 3-channel image of k/255 values (what a UInt8 record becomes).
func unitImage(channels: Int, height: Int, width: Int, seed: UInt64) throws -> (PlanarShape, [Float]) {
    let shape = try PlanarShape(channels: channels, height: height, width: width)
    var rng = TestRandom(seed: seed)
    return (shape, (0..<shape.count).map { _ in Float(rng.byte()) * (1 / 255 as Float) })
}

func applied(_ image: [Float], _ body: (UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float] {
    var copy = image
    try copy.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    return copy
}
