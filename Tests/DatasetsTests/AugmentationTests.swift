import Datasets
import Tensors
import XCTest

final class AugmentationTests: XCTestCase {
    let c = 3, h = 9, w = 7
    lazy var image: [UInt8] = (0..<(c * h * w)).map { UInt8(($0 * 37) % 256) }

    func apply(_ draw: AugmentationDraw, mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) -> [Float] {
        let out = FloatBuffer(count: c * h * w)
        image.withUnsafeBufferPointer {
            Augmenter.apply(draw, source: $0.baseAddress!, output: out.pointer, channels: c, height: h, width: w, mean: mean, std: std)
        }
        return out.array
    }

    func testIdentityParametersReproduceTheInputExactly() {
        XCTAssertEqual(apply(AugmentationDraw()), image.map { Float($0) / 255 })
        // An affine path with an exactly-identity warp must agree too.
        var draw = AugmentationDraw()
        draw.scale = 1
        draw.rotation = 0
        XCTAssertEqual(apply(draw), image.map { Float($0) / 255 })
        // A config of all zeros draws the identity for every sample.
        let none = AugmentationDraw(config: AugmentationConfig(), seed: 1, epoch: 2, index: 3, width: w, height: h)
        XCTAssertEqual(none, AugmentationDraw())
    }

    func testFlipTwiceIsIdentity() {
        let original = image.map { Float($0) }
        var buffer = original
        buffer.withUnsafeMutableBufferPointer { Augmenter.flipHorizontally($0.baseAddress!, channels: c, height: h, width: w) }
        XCTAssertNotEqual(buffer, original)
        XCTAssertEqual(buffer[0], original[w - 1])
        buffer.withUnsafeMutableBufferPointer { Augmenter.flipHorizontally($0.baseAddress!, channels: c, height: h, width: w) }
        XCTAssertEqual(buffer, original)
        // The flip draw matches the in-place flip.
        var draw = AugmentationDraw()
        draw.flip = true
        var expected = image.map { Float($0) / 255 }
        expected.withUnsafeMutableBufferPointer { Augmenter.flipHorizontally($0.baseAddress!, channels: c, height: h, width: w) }
        XCTAssertEqual(apply(draw), expected)
    }

    func testCropShiftsWithZeroPadding() {
        var draw = AugmentationDraw()
        draw.cropX = 2
        draw.cropY = -1
        let out = apply(draw)
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w {
                    let sy = y - 1, sx = x + 2
                    let expected: Float = (sy >= 0 && sx < w) ? Float(image[(ch * h + sy) * w + sx]) / 255 : 0
                    XCTAssertEqual(out[(ch * h + y) * w + x], expected)
                }
            }
        }
    }

    func testSameCoordinatesSameImageAndDifferentOtherwise() {
        let config = AugmentationConfig(cropPadding: 2, horizontalFlip: true, rotationDegrees: 15, shift: 0.1,
                                        zoom: 0.1, shearDegrees: 10)
        let d1 = AugmentationDraw(config: config, seed: 5, epoch: 1, index: 42, width: w, height: h)
        let d2 = AugmentationDraw(config: config, seed: 5, epoch: 1, index: 42, width: w, height: h)
        XCTAssertEqual(d1, d2)
        XCTAssertEqual(apply(d1), apply(d2))
        let others = [AugmentationDraw(config: config, seed: 5, epoch: 2, index: 42, width: w, height: h),
                      AugmentationDraw(config: config, seed: 5, epoch: 1, index: 43, width: w, height: h),
                      AugmentationDraw(config: config, seed: 6, epoch: 1, index: 42, width: w, height: h)]
        for o in others { XCTAssertNotEqual(o, d1) }
        XCTAssert(d1.cropX >= -2 && d1.cropX <= 2)
        XCTAssert(abs(d1.rotation) <= 15 * .pi / 180 + 1e-6)
    }

    func testNormalisationAndSmallRotationStaysClose() {
        let mean: [Float] = [0.5, 0.25, 0], std: [Float] = [0.5, 0.25, 2]
        let out = apply(AugmentationDraw(), mean: mean, std: std)
        for i in 0..<(c * h * w) {
            let ch = i / (h * w)
            XCTAssertEqual(out[i], (Float(image[i]) / 255 - mean[ch]) / std[ch], accuracy: 1e-6)
        }
        // A 90-degree rotation of a square image is a permutation of pixels (bilinear at integer points).
        var draw = AugmentationDraw()
        draw.rotation = .pi / 2
        let sq = 5
        let src: [UInt8] = (0..<(sq * sq)).map { UInt8($0) }
        let dst = FloatBuffer(count: sq * sq)
        src.withUnsafeBufferPointer {
            Augmenter.apply(draw, source: $0.baseAddress!, output: dst.pointer, channels: 1, height: sq, width: sq, mean: [0], std: [1])
        }
        XCTAssertEqual(Set(dst.array.map { Int(($0 * 255).rounded()) }), Set(0..<(sq * sq)))
    }

    func testConfigValidationNamesTheKey() {
        XCTAssertEqual(AugmentationConfig(zoom: 1.5).validate(), ["zoom must be in 0..<1"])
        XCTAssertEqual(AugmentationConfig(cropPadding: 4, horizontalFlip: true).validate(), [])
    }
}
