import ImageCodecs
import XCTest

/// DecodeOptions.minimumSize: JPEG decodes DCT-downscaled by the smallest factor that keeps the
/// oriented result at least that large.
final class ScalingTests: XCTestCase {
    let photo = photoLike(width: 500, height: 375)

    func testFactorsAreLibjpegTurbos() {
        XCTAssertEqual(JPEGScale.downscaleFactors.map(\.description), ["1/1", "1/2", "1/4", "1/8"])
    }

    func testMinimumSizePicksTheSmallestFactorThatFits() throws {
        let jpeg = try ImageEncoder.jpeg(photo, quality: 90)
        let full = try decoded(jpeg)
        // (minimum, expected size): 1/4 -> 125 x 94 (375/4 = 93.75 rounds up); 224 needs more
        // than 1/2 gives (188), so full size; 1/8 -> 63 x 47; at or over the full size -> full
        // size, never upscaled.
        let cases: [((Int, Int), (Int, Int))] = [((64, 64), (125, 94)), ((224, 224), (500, 375)), ((1, 1), (63, 47)),
                                                 ((0, -5), (63, 47)), ((126, 10), (250, 188)), ((500, 375), (500, 375)),
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
        // Turned, the image is 375 x 500. Wanting 180 x 240 of it needs 375f >= 180 and
        // 500f >= 240: 1/2 -> returned 188 x 250. Read unturned, 180 x 240 needs 375f >= 240:
        // full size.
        let turned = try decoded(jpeg, DecodeOptions(minimumSize: (width: 180, height: 240)))
        XCTAssertEqual([turned.width, turned.height], [188, 250])
        let unturned = try decoded(jpeg, DecodeOptions(minimumSize: (width: 180, height: 240), applyOrientation: false))
        XCTAssertEqual([unturned.width, unturned.height], [500, 375])
        let quarter = try decoded(jpeg, DecodeOptions(minimumSize: (width: 90, height: 120)))
        XCTAssertEqual([quarter.width, quarter.height], [94, 125])
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
