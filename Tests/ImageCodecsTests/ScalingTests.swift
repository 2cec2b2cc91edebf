import ImageCodecs
import XCTest

/// DecodeOptions.minimumSize: JPEG decodes DCT-downscaled by the smallest factor that keeps the
/// oriented result at least that large.
final class ScalingTests: XCTestCase {
    let photo = photoLike(width: 500, height: 375)

    func testFactorsAreLibjpegTurbos() {
        XCTAssertEqual(JPEGScale.downscaleFactors.map(\.description), ["1/1", "7/8", "3/4", "5/8", "1/2", "3/8", "1/4", "1/8"])
    }

    func testMinimumSizePicksTheSmallestFactorThatFits() throws {
        let jpeg = try ImageEncoder.jpeg(photo, quality: 90)
        let full = try decoded(jpeg)
        // (minimum, expected size): 1/4 -> 125 x 94 (375/4 = 93.75 rounds up); 5/8 -> 313 x 235;
        // 1/8 -> 63 x 47; at or over the full size -> full size, never upscaled.
        let cases: [((Int, Int), (Int, Int))] = [((64, 64), (125, 94)), ((224, 224), (313, 235)), ((1, 1), (63, 47)),
                                                 ((0, -5), (63, 47)), ((126, 10), (188, 141)), ((500, 375), (500, 375)),
                                                 ((1000, 10), (500, 375))]
        for (minimum, size) in cases {
            let image = try decoded(jpeg, DecodeOptions(minimumSize: (width: minimum.0, height: minimum.1)))
            XCTAssertEqual([image.width, image.height], [size.0, size.1], "minimum \(minimum)")
            XCTAssertEqual(image.pixels.count, size.0 * size.1 * 3)
            // The scaled decode is the same picture: its mean colour is the full decode's.
            XCTAssertEqual(meanSample(image.pixels), meanSample(full.pixels), accuracy: 1.5, "minimum \(minimum)")
        }
        let grey = try decoded(jpeg, DecodeOptions(channels: 1, minimumSize: (width: 64, height: 64)))
        XCTAssertEqual([grey.width, grey.height, grey.channels], [125, 94, 1])
    }

    /// With orientation 6 (a quarter turn), the minimum applies to the turned image.
    func testOrientedImagesUseOrientedDimensions() throws {
        let jpeg = try ImageEncoder.insertingJPEGEXIF(try ImageEncoder.jpeg(photo, quality: 90),
                                                      exif: ImageEncoder.exifBlock(orientation: 6))
        // Turned, the image is 375 x 500. Wanting 300 x 200 of it needs 375f >= 300 (f >= 4/5:
        // 7/8) -> stored 438 x 329 -> returned 329 x 438. Read unturned it would be 5/8.
        let turned = try decoded(jpeg, DecodeOptions(minimumSize: (width: 300, height: 200)))
        XCTAssertEqual([turned.width, turned.height], [329, 438])
        let unturned = try decoded(jpeg, DecodeOptions(minimumSize: (width: 300, height: 200), applyOrientation: false))
        XCTAssertEqual([unturned.width, unturned.height], [313, 235])
        let square = try decoded(jpeg, DecodeOptions(minimumSize: (width: 224, height: 224)))
        XCTAssertEqual([square.width, square.height], [235, 313])
    }

    func testOtherFormatsIgnoreMinimumSize() throws {
        let small = photoLike(width: 40, height: 30)
        for file in [try ImageEncoder.png(small), try ImageEncoder.webp(small, quality: 80, lossless: false)] {
            let image = try decoded(file, DecodeOptions(minimumSize: (width: 8, height: 8)))
            XCTAssertEqual([image.width, image.height], [40, 30])
        }
    }

    func meanSample(_ pixels: [UInt8]) -> Double {
        Double(pixels.reduce(0) { $0 + Int($1) }) / Double(pixels.count)
    }
}
