import ImageCodecs
import XCTest

/// The eight EXIF orientations, as Pillow's ImageOps.exif_transpose applies them (the source
/// coordinates below were checked against Pillow 13 on a 5 x 3 image, all eight equal).
final class OrientationTests: XCTestCase {
    let source = patterned(width: 5, height: 3, channels: 3)

    /// Where output pixel (x, y) of orientation `o` comes from in the W x H source.
    func sourceCoordinate(_ o: Int, _ x: Int, _ y: Int, _ w: Int, _ h: Int) -> (Int, Int) {
        switch o {
        case 2: return (w - 1 - x, y)          // FLIP_LEFT_RIGHT
        case 3: return (w - 1 - x, h - 1 - y)  // ROTATE_180
        case 4: return (x, h - 1 - y)          // FLIP_TOP_BOTTOM
        case 5: return (y, x)                  // TRANSPOSE
        case 6: return (y, h - 1 - x)          // ROTATE_270 (clockwise)
        case 7: return (w - 1 - y, h - 1 - x)  // TRANSVERSE
        case 8: return (w - 1 - y, x)          // ROTATE_90 (counter-clockwise)
        default: return (x, y)
        }
    }

    func oriented(_ image: DecodedImage, _ o: Int) -> DecodedImage {
        let (ow, oh) = o >= 5 ? (image.height, image.width) : (image.width, image.height)
        var pixels: [UInt8] = []
        for y in 0..<oh {
            for x in 0..<ow {
                let (sx, sy) = sourceCoordinate(o, x, y, image.width, image.height)
                let at = (sy * image.width + sx) * image.channels
                pixels += image.pixels[at..<(at + image.channels)]
            }
        }
        return DecodedImage(width: ow, height: oh, channels: image.channels, pixels: pixels)
    }

    func testPNGEXIFOrientations() throws {
        for o in 1...8 {
            let png = try ImageEncoder.png(source, exif: ImageEncoder.exifBlock(orientation: o, bigEndian: o % 2 == 0))
            let header = try ImageDecoder().readHeader(png)
            XCTAssertEqual(header.orientation, o)
            XCTAssertEqual([header.orientedWidth, header.orientedHeight], o >= 5 ? [3, 5] : [5, 3])
            XCTAssertEqual(try decoded(png), oriented(source, o), "orientation \(o)")
            XCTAssertEqual(try decoded(png, DecodeOptions(applyOrientation: false)), source)
            let grey = try decoded(png, DecodeOptions(channels: 1))
            XCTAssertEqual(grey.pixels, mapPixels(oriented(source, o), outChannels: 1) { [pillowL($0[0], $0[1], $0[2])] })
        }
    }

    func testWebPEXIFOrientations() throws {
        for o in 1...8 {
            let exif = ImageEncoder.exifBlock(orientation: o, bigEndian: o % 2 == 1)
            let webp = try ImageEncoder.webp(source, quality: 50, lossless: true, exif: exif)
            XCTAssertEqual(try ImageDecoder().readHeader(webp).orientation, o)
            XCTAssertEqual(try decoded(webp), oriented(source, o), "orientation \(o)")
        }
        // An extended file already (lossy with alpha: VP8X + ALPH + VP8) gets the chunk too.
        let rgba = patterned(width: 5, height: 3, channels: 4)
        let webp = try ImageEncoder.webp(rgba, quality: 90, lossless: false, exif: ImageEncoder.exifBlock(orientation: 6))
        let image = try decoded(webp)
        XCTAssertEqual([image.width, image.height], [3, 5])
    }

    /// JPEG at quality 100 4:4:4 of flat 8 x 8 blocks: near-exact, so each block's place shows.
    func testJPEGEXIFOrientations() throws {
        let blocks = patterned(width: 5, height: 3, channels: 3)
        let big = upscaled(blocks, by: 8)
        let jpeg = try ImageEncoder.jpeg(big, quality: 100, subsampling: .s444)
        for o in 1...8 {
            let file = try ImageEncoder.insertingJPEGEXIF(jpeg, exif: ImageEncoder.exifBlock(orientation: o, bigEndian: o > 4))
            let header = try ImageDecoder().readHeader(file)
            XCTAssertEqual(header.orientation, o)
            XCTAssertEqual([header.orientedWidth, header.orientedHeight], o >= 5 ? [24, 40] : [40, 24])
            let image = try decoded(file)
            let want = oriented(big, o)
            XCTAssertEqual([image.width, image.height], [want.width, want.height])
            XCTAssertLessThanOrEqual(maxAbsDifference(image.pixels, want.pixels), 8, "orientation \(o)")
            XCTAssertEqual(try decoded(file, DecodeOptions(applyOrientation: false)).width, 40)
        }
    }

    /// Broken EXIF is no orientation and never an error.
    func testMalformedEXIFIsIgnored() throws {
        let jpeg = try ImageEncoder.jpeg(source, quality: 90)
        let good = ImageEncoder.exifBlock(orientation: 6)
        var badValue = good
        badValue[18] = 9                                               // orientation 9
        var badType = good
        badType[12] = 2                                                // ASCII, not an integer
        var pastTheEnd = good
        pastTheEnd[4] = 0xF0                                           // IFD0 offset past the block
        var hugeCount = good
        (hugeCount[8], hugeCount[9]) = (0xFF, 0xFF)                    // 65535 entries, 1 present
        let cases: [[UInt8]] = [[], [0x49, 0x49], Array("not a tiff block".utf8), badValue, badType, pastTheEnd,
                                Array(good.prefix(12)), [0x4D, 0x4D, 0, 0x2A, 0xFF, 0xFF, 0xFF, 0xFF]]
        for (i, block) in cases.enumerated() {
            let file = try ImageEncoder.insertingJPEGEXIF(jpeg, exif: block)
            XCTAssertEqual(try ImageDecoder().readHeader(file).orientation, 1, "case \(i)")
            XCTAssertEqual(try decoded(file).width, 5, "case \(i)")
        }
        // The entries that fit count, even when the directory claims more (as in Pillow).
        let firstEntryFits = try ImageEncoder.insertingJPEGEXIF(jpeg, exif: hugeCount)
        XCTAssertEqual(try ImageDecoder().readHeader(firstEntryFits).orientation, 6)
    }

    /// An eXIf chunk that is not a TIFF block (here with JPEG's "Exif" prefix in front) is dropped.
    func testMalformedPNGeXIfIsIgnored() throws {
        let png = try ImageEncoder.png(source)
        let withBadExif = insertingPNGChunk(png, type: "eXIf", data: Array("Exif\0\0MM".utf8))
        XCTAssertEqual(try ImageDecoder().readHeader(withBadExif).orientation, 1)
        XCTAssertEqual(try decoded(withBadExif), source)
    }

    func upscaled(_ image: DecodedImage, by k: Int) -> DecodedImage {
        var pixels: [UInt8] = []
        for y in 0..<(image.height * k) {
            for x in 0..<(image.width * k) {
                let at = ((y / k) * image.width + x / k) * image.channels
                pixels += image.pixels[at..<(at + image.channels)]
            }
        }
        return DecodedImage(width: image.width * k, height: image.height * k, channels: image.channels, pixels: pixels)
    }
}
