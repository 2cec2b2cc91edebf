import XCTest
import Imaging

final class GeometryTests: XCTestCase {
    func testCenterCropBoxes() {
        XCTAssertEqual(centerCropBox(width: 500, height: 375, aspect: 1), ResampleBox(x0: 62, y0: 0, x1: 437, y1: 375))
        XCTAssertEqual(centerCropBox(width: 375, height: 500, aspect: 1), ResampleBox(x0: 0, y0: 62, x1: 375, y1: 437))
        // Python's round(62.5) is 62 (half to even); 16:9 from 4:3 keeps the width.
        XCTAssertEqual(centerCropBox(width: 400, height: 300, aspect: 16.0 / 9.0), ResampleBox(x0: 0, y0: 38, x1: 400, y1: 263))
        XCTAssertEqual(centerCropBox(width: 7, height: 7, aspect: 1), .full(width: 7, height: 7))
    }

    func testLetterboxGeometry() throws {
        let g = try ResizeGeometry(width: 500, height: 375, outWidth: 64, outHeight: 64, mode: .letterbox)
        XCTAssertEqual([g.scaledWidth, g.scaledHeight, g.offsetX, g.offsetY], [64, 48, 0, 8])
        XCTAssertTrue(g.hasMargins)
        // 333 * 64 / 500 = 42.6 rounds to 43 rows, centred with 10 above.
        let odd = try ResizeGeometry(width: 500, height: 333, outWidth: 64, outHeight: 64, mode: .letterbox)
        XCTAssertEqual([odd.scaledWidth, odd.scaledHeight, odd.offsetX, odd.offsetY], [64, 43, 0, 10])
        let tall = try ResizeGeometry(width: 100, height: 1000, outWidth: 32, outHeight: 32, mode: .letterbox)
        XCTAssertEqual([tall.scaledWidth, tall.scaledHeight, tall.offsetX, tall.offsetY], [3, 32, 14, 0])
        let stretch = try ResizeGeometry(width: 500, height: 375, outWidth: 64, outHeight: 64, mode: .stretch)
        XCTAssertFalse(stretch.hasMargins)
        XCTAssertEqual(stretch.box, .full(width: 500, height: 375))
    }

    /// The canvas: margins take the fill, the middle is the plain resize.
    func testResizeIntoCanvasFillsMargins() throws {
        let source = testImage(width: 20, height: 10, channels: 3, seed: 3)
        let g = try ResizeGeometry(width: 20, height: 10, outWidth: 8, outHeight: 8, mode: .letterbox)
        var canvas = [UInt8](repeating: 0, count: 8 * 8 * 3)
        try source.withUnsafeBufferPointer { s in
            try canvas.withUnsafeMutableBufferPointer { c in
                try resizeIntoCanvas(source: s.baseAddress!, width: 20, height: 10, channels: 3, geometry: g,
                                     filter: .bilinear, fill: [1, 2, 3], output: c.baseAddress!)
            }
        }
        let inner = try resized(source, 20, 10, 3, 8, 4, .bilinear)
        XCTAssertEqual([g.offsetY, g.scaledHeight], [2, 4])
        for y in 0..<8 {
            let row = Array(canvas[y * 24..<(y + 1) * 24])
            if y < 2 || y >= 6 {
                XCTAssertEqual(row, [UInt8]([1, 2, 3].repeated(8)), "margin row \(y)")
            } else {
                XCTAssertEqual(row, Array(inner[(y - 2) * 24..<(y - 1) * 24]), "row \(y)")
            }
        }
    }

    /// Resize(shorter) + CenterCrop as one boxed resize equals resizing to the intermediate size
    /// and cropping, within the rounding of the intermediate's float coordinates.
    func testShorterSideCenterCropBoxMatchesResizeThenCrop() throws {
        let (w, h) = (150, 113)
        let source = testImage(width: w, height: h, channels: 3, seed: 11)
        let box = try shorterSideCenterCropBox(width: w, height: h, shorter: 64, cropWidth: 56, cropHeight: 56)
        let once = try resized(source, w, h, 3, box: box, 56, 56, .bilinear)
        // torchvision: long side int(64 * 150 / 113) = 84; crop offsets round((84 - 56) / 2) = 14, (64 - 56) / 2 = 4.
        let full = try resized(source, w, h, 3, 84, 64, .bilinear)
        var cropped = [UInt8]()
        for y in 4..<60 { cropped += full[(y * 84 + 14) * 3..<(y * 84 + 70) * 3] }
        let worst = zip(once, cropped).map { abs(Int($0) - Int($1)) }.max()!
        XCTAssertLessThanOrEqual(worst, 1)
        XCTAssertThrowsError(try shorterSideCenterCropBox(width: w, height: h, shorter: 64, cropWidth: 90, cropHeight: 56))
    }

    func testLayoutConversionsRoundTrip() throws {
        let hwc = testImage(width: 5, height: 3, channels: 3, seed: 2)
        var chw = [UInt8](repeating: 0, count: hwc.count), back = chw
        try hwc.withUnsafeBufferPointer { s in try chw.withUnsafeMutableBufferPointer {
            try interleavedToPlanar(source: s.baseAddress!, width: 5, height: 3, channels: 3, output: $0.baseAddress!)
        } }
        XCTAssertEqual(chw, planarCopy(hwc, 5, 3, 3))
        try chw.withUnsafeBufferPointer { s in try back.withUnsafeMutableBufferPointer {
            try planarToInterleaved(source: s.baseAddress!, width: 5, height: 3, channels: 3, output: $0.baseAddress!)
        } }
        XCTAssertEqual(back, hwc)
        var rgb = [UInt8](repeating: 0, count: 6)
        try [UInt8]([9, 200]).withUnsafeBufferPointer { s in try rgb.withUnsafeMutableBufferPointer {
            try grayToRGB(source: s.baseAddress!, width: 2, height: 1, output: $0.baseAddress!)
        } }
        XCTAssertEqual(rgb, [9, 9, 9, 200, 200, 200])
    }

    /// Pillow's L24 rounding: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, which differs from
    /// the truncated (R*299 + G*587 + B*114) / 1000 for some values.
    func testGrayIsPillowL() throws {
        let pixels: [UInt8] = [255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 1, 2, 3, 100, 150, 200]
        var gray = [UInt8](repeating: 0, count: 7)
        try pixels.withUnsafeBufferPointer { s in try gray.withUnsafeMutableBufferPointer {
            try rgbToGray(source: s.baseAddress!, width: 7, height: 1, output: $0.baseAddress!)
        } }
        // 76 = round(76.245), 150 = round(149.685), 29 = round(29.07), 2 = round(1.815), 141 = round(140.75).
        XCTAssertEqual(gray, [255, 0, 76, 150, 29, 2, 141])
    }

    func testFlipHorizontal() throws {
        let s = try PlanarShape(channels: 2, height: 2, width: 3)
        var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        x.withUnsafeMutableBufferPointer { flipHorizontal($0.baseAddress!, shape: s) }
        XCTAssertEqual(x, [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10])
        var even: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        even.withUnsafeMutableBufferPointer { flipHorizontal($0.baseAddress!, shape: try! PlanarShape(channels: 1, height: 2, width: 4)) }
        XCTAssertEqual(even, [4, 3, 2, 1, 8, 7, 6, 5])
    }

    func testAffineWarpIdentityAndExactMoves() throws {
        let (s, x) = try unitImage(channels: 3, height: 4, width: 4, seed: 4)
        func warp(_ m: AffineMatrix, _ i: WarpInterpolation, fill: [Float]? = nil) throws -> [Float] {
            var out = [Float](repeating: -1, count: x.count)
            try x.withUnsafeBufferPointer { src in try out.withUnsafeMutableBufferPointer {
                try affineWarp(source: src.baseAddress!, output: $0.baseAddress!, shape: s, matrix: m, interpolation: i, fill: fill)
            } }
            return out
        }
        for i in WarpInterpolation.allCases {
            XCTAssertEqual(try warp(.identity, i), x, "identity \(i)")
            XCTAssertEqual(try warp(.torchvision(angle: 0, shear: (0, 0)), i), x, "shear 0 \(i)")
        }
        // Translate right by 1: column 0 takes the fill, column c takes c - 1.
        let moved = try warp(.torchvision(angle: 0, translate: (1, 0)), .nearest, fill: [0.5])
        for c in 0..<3 { for y in 0..<4 { for col in 0..<4 {
            XCTAssertEqual(moved[c * 16 + y * 4 + col], col == 0 ? 0.5 : x[c * 16 + y * 4 + col - 1])
        } } }
        // Bilinear at whole-pixel offsets is exact too (weights 1, 0, 0, 0), zeros outside.
        let slid = try warp(.torchvision(angle: 0, translate: (0, -2)), .bilinear)
        for c in 0..<3 { for y in 0..<4 { for col in 0..<4 {
            XCTAssertEqual(slid[c * 16 + y * 4 + col], y >= 2 ? 0 : x[c * 16 + (y + 2) * 4 + col])
        } } }
        // Rotating a square image by 90 degrees counter-clockwise: out[y][x] = in[x][W - 1 - y].
        var out = [Float](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { src in try out.withUnsafeMutableBufferPointer {
            try rotate(source: src.baseAddress!, output: $0.baseAddress!, shape: s, degrees: 90)
        } }
        for c in 0..<3 { for y in 0..<4 { for col in 0..<4 {
            XCTAssertEqual(out[c * 16 + y * 4 + col], x[c * 16 + col * 4 + (3 - y)], "rot90 (\(c), \(y), \(col))")
        } } }
    }
}

extension Array {
    func repeated(_ n: Int) -> [Element] { (0..<n).flatMap { _ in self } }
}
