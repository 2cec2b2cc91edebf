import ImageCodecs
import XCTest

/// Empty, foreign, cut, oversized and damaged input: an error of the right kind, never a trap.
final class HostileInputTests: XCTestCase {
    let photo = photoLike(width: 64, height: 48)

    func files() throws -> [(String, [UInt8])] {
        [("baseline JPEG", try ImageEncoder.jpeg(photo, quality: 90)),
         ("progressive JPEG", try ImageEncoder.jpeg(photo, quality: 90, progressive: true)),
         ("CMYK JPEG", try ImageEncoder.jpeg(photo, quality: 90, cmyk: true)),
         ("PNG", try ImageEncoder.png(photo)),
         ("interlaced PNG", try ImageEncoder.png(photo, interlaced: true)),
         ("lossy WebP", try ImageEncoder.webp(photo, quality: 80, lossless: false)),
         ("lossless WebP", try ImageEncoder.webp(photo, quality: 80, lossless: true))]
    }

    func testEmptyAndForeignInputIsUnknownFormat() {
        XCTAssertEqual(decodeError([])?.kind, .unknownFormat)
        var state: UInt64 = 7
        for length in [1, 2, 5, 12, 100, 5000] {
            let bytes = (0..<length).map { _ -> UInt8 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 56) | 0x01 & 0x7F  // never FF, 89 or "R" first
            }
            let e = decodeError(bytes)
            XCTAssertEqual(e?.kind, .unknownFormat, "\(length) random bytes: \(e?.reason ?? "")")
        }
        XCTAssertEqual(decodeError(Array("GIF89a....".utf8))?.kind, .unknownFormat)
        XCTAssertEqual(decodeError(Array("RIFF\u{4}\0\0\0WAVEfmt ".utf8))?.kind, .unknownFormat)
        XCTAssertThrowsError(try ImageDecoder().readHeader([UInt8]()))
    }

    /// Every cut of a file, from its signature to its last byte, fails as truncated (or corrupt,
    /// where libjpeg only sees a marker it cannot parse), with the library's reason.
    func testTruncatedFilesAreReported() throws {
        for (name, file) in try files() {
            var kinds: [ImageDecodeError.Kind: Int] = [:]
            let cuts = Set([1, 2, 3, 7, 11, 20, 33, 50, 90, 200] + stride(from: 0, to: file.count, by: max(1, file.count / 40)).map { $0 }
                           + [file.count - 2, file.count - 1]).filter { $0 >= 1 && $0 < file.count }
            for cut in cuts.sorted() {
                guard let e = decodeError(Array(file.prefix(cut))) else { continue }
                XCTAssertTrue([.truncated, .corrupt].contains(e.kind), "\(name) cut at \(cut): \(e)")
                XCTAssertFalse(e.reason.isEmpty)
                kinds[e.kind, default: 0] += 1
                if cut > file.count / 2 && !name.contains("WebP") || cut < 8 {
                    XCTAssertEqual(e.kind, .truncated, "\(name) cut at \(cut) of \(file.count): \(e)")
                }
            }
            XCTAssertGreaterThan(kinds[.truncated, default: 0], cuts.count / 2, "\(name): \(kinds)")
        }
        // The reason is the library's own, behind the call that gave it.
        let reasons = try files().map { decodeError(Array($0.1.prefix($0.1.count / 2)))?.reason ?? "" }
        XCTAssertEqual(reasons[0], "JPEG: tjDecompress2: Premature end of JPEG file")
        XCTAssertEqual(reasons[3], "PNG: spng_decode_image: end of stream")
        XCTAssertEqual(reasons[5], "WebP: WebPDecode: not enough data")
    }

    /// Headers claiming 60000 x 60000 with no image data after them: the header says so, and
    /// decode refuses them as tooLarge (not truncated), so the refusal came before any decoding.
    func testHugeHeadersAreRefusedBeforeDecoding() throws {
        let png = pngHeaderOnly(width: 60000, height: 60000)
        let jpeg = try jpegHeaderOnly(width: 60000, height: 60000)
        let webp = webpVP8XOnly(width: 60000, height: 60000)
        for (name, file) in [("PNG", png), ("JPEG", jpeg), ("WebP", webp)] {
            let header = try ImageDecoder().readHeader(file)
            XCTAssertEqual([header.width, header.height], [60000, 60000], name)
            let e = decodeError(file)
            XCTAssertEqual(e?.kind, .tooLarge, "\(name): \(e?.reason ?? "")")
            XCTAssertTrue(e?.reason.contains("60000 x 60000") ?? false, e?.reason ?? "")
        }
        // The same headers under the limit: the missing data shows instead (truncated or corrupt).
        for (name, file) in [("PNG", pngHeaderOnly(width: 1000, height: 900)), ("JPEG", try jpegHeaderOnly(width: 1000, height: 900)),
                             ("WebP", webpVP8XOnly(width: 1000, height: 900))] {
            let e = decodeError(file)
            XCTAssertTrue([.truncated, .corrupt].contains(e?.kind), "\(name): \(e?.description ?? "")")
        }
        // A real image over a lowered limit.
        let small = try ImageEncoder.png(photo)
        XCTAssertEqual(decodeError(small, DecodeOptions(maxPixels: 64 * 48 - 1))?.kind, .tooLarge)
        XCTAssertEqual(try decoded(small, DecodeOptions(maxPixels: 64 * 48)).width, 64)
    }

    func testZeroAndNegativeSizes() throws {
        for (w, h) in [(0, 10), (10, 0), (0x8000_0000, 1), (0xFFFF_FFFF, 0xFFFF_FFFF)] {
            let e = decodeError(pngHeaderOnly(width: UInt32(w), height: UInt32(h)))
            XCTAssertEqual(e?.kind, .corrupt, "PNG \(w) x \(h): \(e?.reason ?? "")")
        }
        let zeroJPEG = try jpegHeaderOnly(width: 0, height: 100)
        XCTAssertTrue([.corrupt, .unsupported].contains(decodeError(zeroJPEG)?.kind))
        XCTAssertEqual(decodeError([0xFF, 0xD8, 0xFF, 0xD9])?.kind, .corrupt)  // SOI, EOI: no image
        XCTAssertEqual(decodeError(try ImageEncoder.png(photo), DecodeOptions(channels: 2))?.kind, .unsupported)
        XCTAssertEqual(decodeError(try ImageEncoder.png(photo), DecodeOptions(maxPixels: -1))?.kind, .tooLarge)
    }

    /// A zTXt chunk that inflates to 16 MiB: libspng stops at our 8 MiB chunk limit.
    func testPNGDecompressionBombChunkIsBounded() throws {
        let png = try ImageEncoder.png(photo)
        let bomb = insertingPNGChunk(png, type: "zTXt", data: Array("Comment".utf8) + [0, 0] + zlibOfZeros(count: 16 << 20))
        XCTAssertLessThan(bomb.count - png.count, 110_000)  // 65027 matches of 13 bits
        let e = decodeError(bomb)
        XCTAssertEqual(e?.kind, .tooLarge, e?.reason ?? "")
        // A chunk whose length field claims 2 GiB - 1 with no data behind it.
        let liar = Array(png[0..<33]) + pngChunk("tEXt", [], claimedLength: 0x7FFF_FFFF)
        XCTAssertTrue([.truncated, .corrupt, .tooLarge].contains(decodeError(liar)?.kind))
        // A bad CRC in an ancillary chunk is an error (libspng would drop the chunk).
        var badCRC = insertingPNGChunk(png, type: "tEXt", data: Array("Title\0x".utf8))
        badCRC[33 + 8 + 7] ^= 1
        XCTAssertEqual(decodeError(badCRC)?.kind, .corrupt)
    }

    /// Bit flips anywhere: an error or an image of the header's size, never a trap.
    func testBitFlipsNeverTrap() throws {
        var state: UInt64 = 42
        for (name, file) in try files() {
            for _ in 0..<60 {
                var damaged = file
                for _ in 0..<3 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let at = Int(state >> 33) % damaged.count
                    damaged[at] ^= UInt8(1 << Int(state >> 13 & 7))
                }
                if let image = try? ImageDecoder().decode(damaged) {
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3, name)
                }
            }
        }
    }
}
