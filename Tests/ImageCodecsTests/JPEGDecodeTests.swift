import ImageCodecs
import XCTest

final class JPEGDecodeTests: XCTestCase {
    let photo = photoLike(width: 96, height: 64)

    func testQuality100FullChromaIsCloseToTheSource() throws {
        let jpeg = try ImageEncoder.jpeg(photo, quality: 100, subsampling: .s444)
        XCTAssertEqual(try ImageDecoder().readHeader(jpeg),
                       ImageHeader(format: .jpeg, width: 96, height: 64, storedChannels: 3, orientation: 1))
        let image = try decoded(jpeg)
        XCTAssertEqual(image.width, 96)
        XCTAssertEqual(image.height, 64)
        XCTAssertLessThanOrEqual(maxAbsDifference(image.pixels, photo.pixels), 4)
        XCTAssertLessThan(meanAbsDifference(image.pixels, photo.pixels), 1.0)
    }

    /// Progressive coding stores the same coefficients as baseline: the decodes agree.
    func testProgressiveDecodesLikeBaseline() throws {
        for subsampling in [JPEGSubsampling.s420, .s444] {
            let baseline = try ImageEncoder.jpeg(photo, quality: 90, subsampling: subsampling)
            let progressive = try ImageEncoder.jpeg(photo, quality: 90, progressive: true, subsampling: subsampling)
            XCTAssertNotEqual(baseline, progressive)
            XCTAssertTrue(hasMarker(progressive, 0xC2), "no SOF2 in the progressive file")
            let a = try decoded(baseline), b = try decoded(progressive)
            XCTAssertLessThanOrEqual(maxAbsDifference(a.pixels, b.pixels), 1)
            XCTAssertLessThan(meanAbsDifference(b.pixels, photo.pixels), 3)
        }
    }

    func testGreyJPEG() throws {
        let grey = DecodedImage(width: photo.width, height: photo.height, channels: 1,
                                pixels: mapPixels(photo, outChannels: 1) { [pillowL($0[0], $0[1], $0[2])] })
        let jpeg = try ImageEncoder.jpeg(grey, quality: 100)
        XCTAssertEqual(try ImageDecoder().readHeader(jpeg).storedChannels, 1)
        let one = try decoded(jpeg, DecodeOptions(channels: 1))
        XCTAssertLessThanOrEqual(maxAbsDifference(one.pixels, grey.pixels), 2)
        let three = try decoded(jpeg)
        XCTAssertEqual(three.pixels, one.pixels.flatMap { [$0, $0, $0] })
    }

    /// Luma from a colour JPEG is libjpeg's Y plane (TJPF_GRAY), within a level or two of
    /// Pillow's L of the RGB decode (Y is computed before the chroma is rounded away).
    func testLumaOfColourJPEGIsTheYPlane() throws {
        let jpeg = try ImageEncoder.jpeg(photo, quality: 90)
        let rgb = try decoded(jpeg), y = try decoded(jpeg, DecodeOptions(channels: 1))
        let lOfRGB = mapPixels(rgb, outChannels: 1) { [pillowL($0[0], $0[1], $0[2])] }
        XCTAssertLessThanOrEqual(maxAbsDifference(y.pixels, lOfRGB), 3)
        XCTAssertLessThan(meanAbsDifference(y.pixels, lOfRGB), 1)
    }

    /// Our CMYK encoder writes Adobe-inverted YCCK; its decode returns the colours.
    func testYCCKDecodesToTheRightColours() throws {
        let colours: [[UInt8]] = [[255, 255, 255], [0, 0, 0], [255, 0, 0], [0, 128, 255], [200, 150, 30], [12, 34, 56]]
        var pixels: [UInt8] = []
        for row in 0..<8 { for x in 0..<(8 * colours.count) { _ = row; pixels += colours[x / 8] } }
        let source = DecodedImage(width: 8 * colours.count, height: 8, channels: 3, pixels: pixels)
        let jpeg = try ImageEncoder.jpeg(source, quality: 100, cmyk: true, subsampling: .s444)
        XCTAssertTrue(hasMarker(jpeg, 0xEE), "no Adobe APP14 marker")
        XCTAssertEqual(try ImageDecoder().readHeader(jpeg).storedChannels, 4)
        let image = try decoded(jpeg)
        for (i, colour) in colours.enumerated() {
            let at = (4 * source.width + 8 * i + 4) * 3
            let got = Array(image.pixels[at..<(at + 3)])
            XCTAssertLessThanOrEqual(maxAbsDifference(got, colour), 3, "colour \(colour) decoded as \(got)")
        }
        let grey = try decoded(jpeg, DecodeOptions(channels: 1))
        XCTAssertEqual(grey.pixels, mapPixels(image, outChannels: 1) { [pillowL($0[0], $0[1], $0[2])] })
    }

    /// A plain CMYK file written by Pillow decodes to exactly what Pillow decodes it to.
    func testPillowCMYKFileMatchesPillow() throws {
        let jpeg = PillowCMYKFixture.jpeg
        XCTAssertEqual(jpeg.count, 411)
        let image = try decoded(jpeg)
        XCTAssertEqual(image.width, 32)
        XCTAssertEqual(image.height, 16)
        XCTAssertEqual(image.pixels, PillowCMYKFixture.rgb)
        XCTAssertEqual(try decoded(jpeg, DecodeOptions(channels: 1)).pixels, PillowCMYKFixture.luma)
        // The patch (C, M, Y, K) = (60, 120, 200, 30) by hand: R = (255 - 60) * (255 - 30) / 255 = 172.1.
        let at = (12 * 32 + 8 + 4) * 3
        XCTAssertEqual(Array(image.pixels[at..<(at + 3)]), [172, 119, 49])
    }

    /// One decoder across many files, including failed ones: the TurboJPEG handle recovers.
    func testDecoderIsReusableAfterErrors() throws {
        let decoder = ImageDecoder()
        let jpeg = try ImageEncoder.jpeg(photo, quality: 90)
        let reference = try decoder.decode(jpeg)
        for cut in [jpeg.count / 2, 100, 3] {
            XCTAssertThrowsError(try decoder.decode(Array(jpeg.prefix(cut))))
            XCTAssertEqual(try decoder.decode(jpeg), reference)
        }
    }

    /// libjpeg keeps tables from one image to the next in a decompressor: a file without its
    /// own quantization tables must not decode with the previous file's.
    func testAFileWithoutItsTablesDoesNotBorrowThePreviousFiles() throws {
        let jpeg = try ImageEncoder.jpeg(photo, quality: 90)
        let noTables = removingSegments(jpeg, 0xDB)
        XCTAssertLessThan(noTables.count, jpeg.count)
        let decoder = ImageDecoder()
        _ = try decoder.decode(jpeg)
        XCTAssertThrowsError(try decoder.decode(noTables)) { error in
            XCTAssertEqual((error as? ImageDecodeError)?.kind, .corrupt)
            XCTAssertEqual(error as? ImageDecodeError, decodeError(noTables))  // as from a fresh decoder
        }
        XCTAssertEqual(try decoder.decode(jpeg), try decoded(jpeg))
    }

    /// "Corrupt JPEG data: N extraneous bytes before marker" is accepted, as by Pillow, unless
    /// rejectJPEGWarnings; truncation never is.
    func testWarningsOtherThanTruncationAreAcceptedLikePillow() throws {
        let jpeg = try ImageEncoder.jpeg(photo, quality: 90)
        // Junk after the first segment (TurboJPEG's 18-byte APP0 after SOI): libjpeg skips it
        // with the warning JWRN_EXTRANEOUS_DATA and decodes the rest as usual.
        XCTAssertEqual(Array(jpeg[2..<4]), [0xFF, 0xE0])
        let firstSegmentEnd = 4 + Int(jpeg[4]) << 8 + Int(jpeg[5])
        let junky = Array(jpeg[..<firstSegmentEnd]) + [0x12, 0x34, 0x56] + jpeg[firstSegmentEnd...]
        XCTAssertEqual(try decoded(junky), try decoded(jpeg))
        let strict = decodeError(junky, DecodeOptions(rejectJPEGWarnings: true))
        XCTAssertEqual(strict?.kind, .corrupt)
        XCTAssertTrue(strict?.reason.contains("extraneous bytes") ?? false, strict?.reason ?? "")
        // The same file cut in its scan: libjpeg reports only its first warning (the junk), yet
        // the truncation is found (no EOI after the first scan) and reported.
        let cut = decodeError(Array(junky.prefix(junky.count * 3 / 4)))
        XCTAssertEqual(cut?.kind, .truncated)
        XCTAssertTrue(cut?.reason.contains("no end-of-image marker") ?? false, cut?.reason ?? "")
    }
}

/// `jpeg` without its header segments FF `code`.
func removingSegments(_ jpeg: [UInt8], _ code: UInt8) -> [UInt8] {
    var out = Array(jpeg[0..<2]), pos = 2
    while pos + 4 <= jpeg.count, jpeg[pos] == 0xFF, jpeg[pos + 1] != 0xDA {
        let end = pos + 2 + Int(jpeg[pos + 2]) << 8 + Int(jpeg[pos + 3])
        if jpeg[pos + 1] != code { out += jpeg[pos..<end] }
        pos = end
    }
    return out + jpeg[pos...]
}

/// Whether `jpeg` has the marker FF `code` before its first scan.
func hasMarker(_ jpeg: [UInt8], _ code: UInt8) -> Bool {
    var pos = 2
    while pos + 4 <= jpeg.count, jpeg[pos] == 0xFF {
        if jpeg[pos + 1] == code { return true }
        if jpeg[pos + 1] == 0xDA { return false }
        pos += 2 + Int(jpeg[pos + 2]) << 8 + Int(jpeg[pos + 3])
    }
    return false
}
