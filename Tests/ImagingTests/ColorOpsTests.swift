import XCTest
import Imaging

final class ColorOpsTests: XCTestCase {
    func testIdentityParametersReturnTheInputBits() throws {
        for channels in [1, 3] {
            let (s, x) = try unitImage(channels: channels, height: 5, width: 7, seed: 1)
            XCTAssertEqual(applied(x) { adjustBrightness($0, shape: s, factor: 1) }, x, "brightness")
            XCTAssertEqual(try applied(x) { try adjustContrast($0, shape: s, factor: 1) }, x, "contrast")
            XCTAssertEqual(try applied(x) { try adjustSaturation($0, shape: s, factor: 1) }, x, "saturation")
            XCTAssertEqual(try applied(x) { try adjustHue($0, shape: s, shift: 0) }, x, "hue")
            XCTAssertEqual(applied(x) { adjustSharpness($0, shape: s, factor: 1) }, x, "sharpness")
            XCTAssertEqual(try applied(x) { try posterize($0, shape: s, bits: 8) }, x, "posterize 8")
            let space = try AugmentSpace.trivialAugmentWide()
            for (i, op) in space.ops.enumerated() where ![.autoContrast, .equalize].contains(op) {
                // Bin 0 is magnitude 0 (factor 1, no shift, no shear); posterize's bin 0 is 8 bits;
                // solarize's bin 0 is threshold 1, which only the value 1.0 reaches.
                let out = try applied(x) { try space.apply(opIndex: i, bin: 0, negative: true, to: $0, shape: s) }
                if op == .solarize {
                    XCTAssertEqual(out, x.map { $0 >= 1 ? 0 : $0 }, "\(op) bin 0")
                } else {
                    XCTAssertEqual(out, x, "\(op) bin 0")
                }
            }
        }
    }

    func testHandComputedValues() throws {
        let s = try PlanarShape(channels: 3, height: 1, width: 2)
        // Pixels (R, G, B): (0.2, 0.4, 0.6) and (1.0, 0.5, 0.0), planar.
        let x: [Float] = [0.2, 1.0, 0.4, 0.5, 0.6, 0.0]
        assertClose(applied(x) { adjustBrightness($0, shape: s, factor: 1.5) }, [0.3, 1.0, 0.6, 0.75, 0.9, 0.0], "brightness 1.5")
        let gray0: Float = 0.2 * 0.2989 + 0.4 * 0.587 + 0.6 * 0.114, gray1: Float = 1.0 * 0.2989 + 0.5 * 0.587
        let g = try applied(x) { try rgbToGrayscale($0, shape: s) }
        XCTAssertEqual(g, [gray0, gray1, gray0, gray1, gray0, gray1])
        // Saturation 0 is grayscale; 2 pushes away from gray and clamps.
        XCTAssertEqual(try applied(x) { try adjustSaturation($0, shape: s, factor: 0) }, g)
        let sat2 = try applied(x) { try adjustSaturation($0, shape: s, factor: 2) }
        XCTAssertEqual(sat2[1], 1, "clamped")
        XCTAssertEqual(sat2[0], 0.4 - gray0, accuracy: 1e-6)
        // Contrast 0: every value becomes the mean gray.
        let mean = (gray0 + gray1) / 2
        for v in try applied(x, { try adjustContrast($0, shape: s, factor: 0) }) { XCTAssertEqual(v, mean, accuracy: 1e-6) }
        assertClose(applied(x) { invert($0, shape: s) }, [0.8, 0.0, 0.6, 0.5, 0.4, 1.0], "invert")
        assertClose(applied(x) { solarize($0, shape: s, threshold: 0.5) }, [0.2, 0.0, 0.4, 0.5, 0.4, 0.0], "solarize 0.5")
        // Posterize 1 bit on uint8: 51 -> 0, 255 -> 128, 102 -> 0, 127 -> 0, 153 -> 128.
        XCTAssertEqual(try applied(x) { try posterize($0, shape: s, bits: 1) }, [0, 128, 0, 0, 128, 0].map { Float($0) * (1 / 255 as Float) })
    }

    func testSharpnessTouchesOnlyInteriorPixels() throws {
        let s = try PlanarShape(channels: 1, height: 3, width: 3)
        let x: [Float] = [0, 0, 0, 0, 1, 0, 0, 0, 0]
        // Blur of the centre: 5/13; factor 0 gives the blur, factor 2 gives 2 - 5/13 -> clamped 1.
        let blurred = applied(x) { adjustSharpness($0, shape: s, factor: 0) }
        XCTAssertEqual(blurred[4], 5 / 13, accuracy: 1e-7)
        XCTAssertEqual(Array(blurred[0..<4]) + Array(blurred[5...]), [Float](repeating: 0, count: 8))
        XCTAssertEqual(applied(x) { adjustSharpness($0, shape: s, factor: 2) }[4], 1)
        let flat = try PlanarShape(channels: 1, height: 2, width: 3)
        XCTAssertEqual(applied([0, 1, 0, 1, 0, 1]) { adjustSharpness($0, shape: flat, factor: 0) }, [0, 1, 0, 1, 0, 1], "height 2: unchanged")
    }

    func testHueRoundTripAndRotation() throws {
        let (s, x) = try unitImage(channels: 3, height: 6, width: 6, seed: 5)
        let there = try applied(x) { try adjustHue($0, shape: s, shift: 0.3) }
        let back = try applied(there) { try adjustHue($0, shape: s, shift: -0.3) }
        for (a, b) in zip(back, x) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // Pure red rotated by 1/3 turn is pure green, by -1/3 pure blue.
        let red = try PlanarShape(channels: 3, height: 1, width: 1)
        XCTAssertEqual(try applied([1, 0, 0]) { try adjustHue($0, shape: red, shift: 1.0 / 3.0) }.map { ($0 * 1e5).rounded() / 1e5 }, [0, 1, 0])
        XCTAssertEqual(try applied([1, 0, 0]) { try adjustHue($0, shape: red, shift: -1.0 / 3.0) }.map { ($0 * 1e5).rounded() / 1e5 }, [0, 0, 1])
        // Gray has no hue.
        XCTAssertEqual(try applied([0.5, 0.5, 0.5]) { try adjustHue($0, shape: red, shift: 0.25) }, [0.5, 0.5, 0.5])
        XCTAssertThrowsError(try applied(x) { try adjustHue($0, shape: s, shift: 0.6) })
    }

    func testColourOpsLeaveGrayImagesAlone() throws {
        let (s, x) = try unitImage(channels: 1, height: 4, width: 4, seed: 9)
        XCTAssertEqual(try applied(x) { try adjustSaturation($0, shape: s, factor: 0.2) }, x)
        XCTAssertEqual(try applied(x) { try adjustHue($0, shape: s, shift: 0.4) }, x)
        XCTAssertEqual(try applied(x) { try rgbToGrayscale($0, shape: s) }, x)
        let four = try PlanarShape(channels: 4, height: 2, width: 2)
        XCTAssertThrowsError(try applied([Float](repeating: 0.5, count: 16)) { try adjustSaturation($0, shape: four, factor: 0.5) })
    }

    func testEqualizeAndAutocontrastOnAHandComputedHistogram() throws {
        // 300 pixels: 100 of value 10, 100 of 20, 100 of 30. step = (300 - 100) / 255 = 0 -> unchanged.
        XCTAssertNil(equalizationTable(histogram: histogram([10: 100, 20: 100, 30: 100])))
        // 1020 pixels: 255 of 10, 255 of 20, 510 of 30: step = (1020 - 510) / 255 = 2.
        // lut[k] = (cumulative[k - 1] + 1) / 2: values <= 10 -> 0, 11...20 -> 128, 21...30 -> 255.
        let lut = try XCTUnwrap(equalizationTable(histogram: histogram([10: 255, 20: 255, 30: 510])))
        XCTAssertEqual([lut[10], lut[11], lut[20], lut[21], lut[30], lut[200]], [0, 128, 128, 255, 255, 255])
        let s = try PlanarShape(channels: 1, height: 1, width: 1020)
        let x = (0..<1020).map { Float($0 < 255 ? 10 : ($0 < 510 ? 20 : 30)) * (1 / 255 as Float) }
        let eq = applied(x) { equalize($0, shape: s) }
        XCTAssertEqual(Set(eq), [0, 128 * (1 / 255 as Float), 1])
        // Autocontrast maps 10/255 -> 0 and 30/255 -> 1, 20/255 -> 0.5.
        let ac = applied(x) { autocontrast($0, shape: s) }
        XCTAssertEqual(ac[0], 0); XCTAssertEqual(ac[300], 0.5, accuracy: 1e-6); XCTAssertEqual(ac[1019], 1)
        // A constant channel is left alone.
        XCTAssertEqual(applied([0.3, 0.3]) { autocontrast($0, shape: try! PlanarShape(channels: 1, height: 1, width: 2)) }, [0.3, 0.3])
    }

    func testEraseClipsToTheImage() throws {
        let s = try PlanarShape(channels: 2, height: 3, width: 4)
        let out = try applied([Float](repeating: 0, count: 24)) {
            try erase($0, shape: s, x: 2, y: 1, width: 5, height: 1, value: [7, -1])
        }
        XCTAssertEqual(out, [0, 0, 0, 0, 0, 0, 7, 7, 0, 0, 0, 0,
                             0, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0, 0])
        XCTAssertThrowsError(try applied(out) { try erase($0, shape: s, x: 0, y: 0, width: 1, height: 1, value: [1, 2, 3]) })
    }

    private func histogram(_ counts: [Int: Int]) -> [Int] {
        var h = [Int](repeating: 0, count: 256)
        for (k, v) in counts { h[k] = v }
        return h
    }
}
