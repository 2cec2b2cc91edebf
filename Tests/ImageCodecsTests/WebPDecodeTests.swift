import ImageCodecs
import XCTest

final class WebPDecodeTests: XCTestCase {
    func testLosslessRoundTripsExactly() throws {
        let source = patterned(width: 29, height: 18, channels: 3)
        let webp = try ImageEncoder.webp(source, quality: 50, lossless: true)
        XCTAssertEqual(try ImageDecoder().readHeader(webp),
                       ImageHeader(format: .webp, width: 29, height: 18, storedChannels: 3, orientation: 1))
        XCTAssertEqual(try decoded(webp), source)
        XCTAssertEqual(try decoded(webp, DecodeOptions(channels: 1)).pixels,
                       mapPixels(source, outChannels: 1) { [pillowL($0[0], $0[1], $0[2])] })
    }

    func testGreyIsStoredAsRGB() throws {
        let grey = patterned(width: 7, height: 5, channels: 1)
        let webp = try ImageEncoder.webp(grey, quality: 50, lossless: true)
        XCTAssertEqual(try decoded(webp, DecodeOptions(channels: 1)), grey)
    }

    /// Lossless keeps alpha exactly; we composite over white as for PNG.
    func testLosslessAlphaIsCompositedOnWhite() throws {
        let source = patterned(width: 16, height: 9, channels: 4)
        let webp = try ImageEncoder.webp(source, quality: 50, lossless: true)
        XCTAssertEqual(try ImageDecoder().readHeader(webp).storedChannels, 4)
        let expected = mapPixels(source, outChannels: 3) { p in
            (0..<3).map { UInt8((Double(Int(p[$0]) * Int(p[3]) + 255 * (255 - Int(p[3]))) / 255).rounded()) }
        }
        XCTAssertEqual(try decoded(webp).pixels, expected)
    }

    func testLossyIsCloseToTheSource() throws {
        let photo = photoLike(width: 80, height: 60)
        for alpha in [false, true] {
            var source = photo
            if alpha {
                // Fully opaque alpha: the composite is the colour itself.
                source = DecodedImage(width: 80, height: 60, channels: 4, pixels: mapPixels(photo, outChannels: 4) { $0 + [255] })
            }
            let webp = try ImageEncoder.webp(source, quality: 95, lossless: false)
            let image = try decoded(webp)
            XCTAssertLessThan(meanAbsDifference(image.pixels, photo.pixels), 3, "alpha: \(alpha)")
        }
    }

    func testTransparentLossyPixelsBecomeWhite() throws {
        let clear = DecodedImage(width: 8, height: 8, channels: 4, pixels: [UInt8](repeating: 0, count: 256))
        let image = try decoded(try ImageEncoder.webp(clear, quality: 80, lossless: false))
        XCTAssertEqual(image.pixels, [UInt8](repeating: 255, count: 192))
    }
}
