import XCTest
import Imaging

/// The geometries every resize test sweeps: shrink at integer and odd ratios, enlarge, 1-pixel
/// outputs and sources, one axis only, fractional and edge-touching boxes.
let resizeCases: [(w: Int, h: Int, ow: Int, oh: Int, box: ResampleBox?)] = [
    (37, 23, 13, 9, nil), (64, 48, 32, 24, nil), (50, 37, 7, 5, nil), (19, 11, 41, 30, nil),
    (23, 17, 1, 1, nil), (1, 1, 5, 3, nil), (1, 9, 1, 4, nil), (9, 1, 4, 1, nil),
    (40, 30, 40, 11, nil), (40, 30, 17, 30, nil), (33, 21, 29, 21, nil), (120, 9, 7, 9, nil),
    (31, 29, 19, 14, ResampleBox(x0: 3.5, y0: 2.25, x1: 27.75, y1: 21.5)),
    (31, 29, 31, 29, ResampleBox(x0: 0.5, y0: 0.5, x1: 30.5, y1: 28.5)),
    (31, 29, 8, 8, ResampleBox(x0: 5, y0: 4, x1: 13, y1: 12)),
    (31, 29, 5, 27, ResampleBox(x0: 10.2, y0: 0, x1: 22.9, y1: 29)),
    (31, 29, 40, 44, ResampleBox(x0: 20, y0: 17, x1: 31, y1: 29)),
    (200, 150, 24, 24, ResampleBox(x0: 37.3, y0: 0, x1: 187.3, y1: 150)),
]

final class ResizeTests: XCTestCase {
    /// The vectorised 8-bit path against Pillow's algorithm in plain loops: byte for byte.
    func testEightBitPathEqualsFixedPointReference() throws {
        for (i, c) in resizeCases.enumerated() {
            for channels in 1...4 {
                let source = testImage(width: c.w, height: c.h, channels: channels, seed: UInt64(i * 8 + channels))
                for filter in ResampleFilter.allCases {
                    let fast = try resized(source, c.w, c.h, channels, box: c.box, c.ow, c.oh, filter)
                    let slow = try resizeReferenceFixedPoint(source: source, width: c.w, height: c.h, channels: channels,
                                                             box: c.box, outWidth: c.ow, outHeight: c.oh, filter: filter)
                    XCTAssertEqual(fast, slow, "\(c.w)x\(c.h)x\(channels) -> \(c.ow)x\(c.oh) box \(String(describing: c.box)) \(filter)")
                }
            }
        }
    }

    /// The 8-bit path rounds twice (after each pass, as Pillow does): within 1 of Pillow's
    /// algorithm in Double without rounding for the non-negative filters, 1.5 for bicubic (its
    /// negative lobes amplify the intermediate's rounding). Measured: 1.0 and 1.03.
    func testEightBitPathIsCloseToDoubleReference() throws {
        for (i, c) in resizeCases.enumerated() {
            let source = testImage(width: c.w, height: c.h, channels: 3, seed: UInt64(100 + i))
            for filter in ResampleFilter.allCases {
                let fast = try resized(source, c.w, c.h, 3, box: c.box, c.ow, c.oh, filter).map(Double.init)
                let exact = try resizeReference(source: source, width: c.w, height: c.h, channels: 3, box: c.box,
                                                outWidth: c.ow, outHeight: c.oh, filter: filter)
                let bound = filter == .bicubic ? 1.5 : 1.0
                XCTAssertLessThanOrEqual(maxAbsDifference(fast, exact), bound, "\(c) \(filter)")
            }
        }
    }

    /// The planar Float path is the Double reference within Float rounding.
    func testPlanarFloatPathMatchesDoubleReference() throws {
        for (i, c) in resizeCases.enumerated() {
            for channels in [1, 3] {
                let source = testImage(width: c.w, height: c.h, channels: channels, seed: UInt64(200 + i))
                let planar = planarCopy(source, c.w, c.h, channels)
                for filter in ResampleFilter.allCases {
                    var out = [Float](repeating: -1, count: c.ow * c.oh * channels)
                    try planar.withUnsafeBufferPointer { s in
                        try out.withUnsafeMutableBufferPointer { o in
                            try resizePlanar(source: s.baseAddress!, width: c.w, height: c.h, channels: channels, box: c.box,
                                             output: o.baseAddress!, outWidth: c.ow, outHeight: c.oh, filter: filter)
                        }
                    }
                    let exact = try resizeReference(source: source, width: c.w, height: c.h, channels: channels, box: c.box,
                                                    outWidth: c.ow, outHeight: c.oh, filter: filter)
                    var worst = 0.0
                    for ch in 0..<channels {
                        for p in 0..<c.ow * c.oh {
                            worst = max(worst, abs(Double(out[ch * c.ow * c.oh + p]) - exact[p * channels + ch]))
                        }
                    }
                    XCTAssertLessThanOrEqual(worst, 1e-3, "\(c) x\(channels) \(filter)")
                }
            }
        }
    }

    func testSameSizeWithoutBoxReturnsInputExactly() throws {
        for channels in 1...4 {
            let source = testImage(width: 29, height: 17, channels: channels, seed: 7)
            for filter in ResampleFilter.allCases {
                XCTAssertEqual(try resized(source, 29, 17, channels, 29, 17, filter), source, "\(channels) \(filter)")
            }
        }
    }

    /// A plan reused for several images gives what one-shot calls give, and a source row
    /// stride wider than the row (a view into a bigger buffer) reads only the row's bytes.
    func testPlanReuseAndRowStride() throws {
        let plan = try ResamplePlan(sourceWidth: 30, sourceHeight: 20, outWidth: 11, outHeight: 7, filter: .bicubic)
        for seed in 0..<3 as Range<UInt64> {
            let image = testImage(width: 30, height: 20, channels: 3, seed: seed)
            var padded = [UInt8](repeating: 0xEE, count: 20 * 96)
            for y in 0..<20 { for i in 0..<90 { padded[y * 96 + i] = image[y * 90 + i] } }
            var out = [UInt8](repeating: 0, count: 11 * 7 * 3)
            try padded.withUnsafeBufferPointer { s in
                try out.withUnsafeMutableBufferPointer { try plan.apply(source: s.baseAddress!, channels: 3, rowStride: 96, output: $0.baseAddress!) }
            }
            XCTAssertEqual(out, try resized(image, 30, 20, 3, 11, 7, .bicubic))
        }
    }

    func testBadGeometryThrowsInsteadOfTrapping() {
        XCTAssertThrowsError(try ResamplePlan(sourceWidth: 0, sourceHeight: 5, outWidth: 3, outHeight: 3, filter: .bilinear))
        XCTAssertThrowsError(try ResamplePlan(sourceWidth: 5, sourceHeight: 5, outWidth: -1, outHeight: 3, filter: .bilinear))
        XCTAssertThrowsError(try ResamplePlan(sourceWidth: Int.max, sourceHeight: 5, outWidth: 3, outHeight: 3, filter: .area))
        let outside = ResampleBox(x0: 1, y0: 1, x1: 6, y1: 4)
        XCTAssertThrowsError(try ResamplePlan(sourceWidth: 5, sourceHeight: 5, box: outside, outWidth: 3, outHeight: 3, filter: .bicubic))
        let inverted = ResampleBox(x0: 3, y0: 1, x1: 2, y1: 4)
        XCTAssertThrowsError(try ResamplePlan(sourceWidth: 5, sourceHeight: 5, box: inverted, outWidth: 3, outHeight: 3, filter: .bicubic))
        let notFinite = ResampleBox(x0: .nan, y0: 1, x1: 2, y1: 4)
        XCTAssertThrowsError(try ResamplePlan(sourceWidth: 5, sourceHeight: 5, box: notFinite, outWidth: 3, outHeight: 3, filter: .bicubic))
        let source = [UInt8](repeating: 0, count: 75)
        XCTAssertThrowsError(try resized(source, 5, 5, 5, 3, 3, .bilinear), "5 channels")
        XCTAssertThrowsError(try source.withUnsafeBufferPointer { s in
            var o = [UInt8](repeating: 0, count: 27)
            try resizeInterleaved(source: s.baseAddress!, width: 5, height: 5, channels: 3, rowStride: 14,
                                  output: &o, outWidth: 3, outHeight: 3, filter: .bilinear)
        }, "row stride below the row")
    }
}
