import ImageCodecs
import XCTest

/// Every PNG colour type and depth, against values computed here by hand or with plain
/// floating-point formulas (alpha over white, 16 -> 8 bits by rounding).
final class PNGDecodeTests: XCTestCase {
    /// round((c*a + 255*(255-a)) / 255) in floating point: the reference for alpha over white.
    func overWhite(_ c: Int, _ a: Int) -> UInt8 {
        UInt8((Double(c * a + 255 * (255 - a)) / 255).rounded())
    }

    func testGreyAndRGBRoundTripExactly() throws {
        for channels in [1, 3] {
            let source = patterned(width: 23, height: 17, channels: channels)
            let png = try ImageEncoder.png(source)
            XCTAssertEqual(try ImageDecoder().readHeader(png),
                           ImageHeader(format: .png, width: 23, height: 17, storedChannels: channels, orientation: 1))
            let same = try decoded(png, DecodeOptions(channels: channels))
            XCTAssertEqual(same, source)
        }
    }

    func testGreyDecodesToRGBByReplication() throws {
        let source = patterned(width: 9, height: 5, channels: 1)
        let rgb = try decoded(try ImageEncoder.png(source))
        XCTAssertEqual(rgb.pixels, mapPixels(source, outChannels: 3) { [$0[0], $0[0], $0[0]] })
    }

    /// The luma of an RGB PNG is Pillow's L formula, exactly, for every pixel.
    func testLumaOfRGBIsPillowsL() throws {
        let source = patterned(width: 64, height: 48, channels: 3)
        let grey = try decoded(try ImageEncoder.png(source), DecodeOptions(channels: 1))
        XCTAssertEqual(grey.channels, 1)
        XCTAssertEqual(grey.pixels, mapPixels(source, outChannels: 1) { [pillowL($0[0], $0[1], $0[2])] })
        // Two values worked by hand: (255, 0, 0) -> 76 (19595*255 = 4996725; +32768 >> 16 = 76),
        // (10, 200, 30) -> (195950 + 7694000 + 224130 + 32768) >> 16 = 124.
        let two = DecodedImage(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 200, 30])
        XCTAssertEqual(try decoded(try ImageEncoder.png(two), DecodeOptions(channels: 1)).pixels, [76, 124])
    }

    /// Grey + alpha over white, every (grey, alpha) pair; plus hand-worked pixels.
    func testGreyAlphaIsCompositedOnWhite() throws {
        var pixels: [UInt8] = []
        for c in 0..<256 { for a in 0..<256 { pixels += [UInt8(c), UInt8(a)] } }
        let png = try ImageEncoder.png(width: 256, height: 256, channels: 2, pixels: pixels)
        XCTAssertEqual(try ImageDecoder().readHeader(png).storedChannels, 2)
        let grey = try decoded(png, DecodeOptions(channels: 1))
        let expected = (0..<256).flatMap { c in (0..<256).map { a in overWhite(c, a) } }
        XCTAssertEqual(grey.pixels, expected)
        let rgb = try decoded(png)
        XCTAssertEqual(rgb.pixels, expected.flatMap { [$0, $0, $0] })
        // By hand: transparent black -> white; opaque black -> black; (200, 128) -> 57985/255 =
        // 227.4 -> 227; (100, 51) -> 57120/255 = 224 exactly.
        let hand = try ImageEncoder.png(width: 4, height: 1, channels: 2, pixels: [0, 0, 0, 255, 200, 128, 100, 51])
        XCTAssertEqual(try decoded(hand, DecodeOptions(channels: 1)).pixels, [255, 0, 227, 224])
    }

    func testRGBAIsCompositedOnWhite() throws {
        let source = patterned(width: 31, height: 19, channels: 4)
        let rgb = try decoded(try ImageEncoder.png(source))
        XCTAssertEqual(rgb.pixels, mapPixels(source, outChannels: 3) { p in
            [self.overWhite(Int(p[0]), Int(p[3])), self.overWhite(Int(p[1]), Int(p[3])), self.overWhite(Int(p[2]), Int(p[3]))]
        })
        let grey = try decoded(try ImageEncoder.png(source), DecodeOptions(channels: 1))
        XCTAssertEqual(grey.pixels, mapPixels(source, outChannels: 1) { p in
            [pillowL(self.overWhite(Int(p[0]), Int(p[3])), self.overWhite(Int(p[1]), Int(p[3])), self.overWhite(Int(p[2]), Int(p[3])))]
        })
    }

    func testPaletteWithTransparency() throws {
        let palette = [PNGPaletteEntry(r: 255, g: 0, b: 0),            // opaque red
                       PNGPaletteEntry(r: 0, g: 0, b: 255, a: 0),      // transparent -> white
                       PNGPaletteEntry(r: 0, g: 200, b: 100, a: 128),  // half over white
                       PNGPaletteEntry(r: 10, g: 20, b: 30)]
        let indices: [UInt8] = [0, 1, 2, 3, 3, 2, 1, 0]
        let png = try ImageEncoder.png(width: 4, height: 2, channels: 1, pixels: indices, palette: palette)
        XCTAssertEqual(try ImageDecoder().readHeader(png).storedChannels, 4)
        let rgb = try decoded(png)
        let colours: [[UInt8]] = [[255, 0, 0], [255, 255, 255],
                                  [overWhite(0, 128), overWhite(200, 128), overWhite(100, 128)], [10, 20, 30]]
        // By hand: 255*127/255 = 127; (25600 + 32385)/255 = 227.4; (12800 + 32385)/255 = 177.2.
        XCTAssertEqual(colours[2], [127, 227, 177])
        XCTAssertEqual(rgb.pixels, indices.flatMap { colours[Int($0)] })
        // Without any translucent entry: no tRNS, the palette colours themselves.
        let opaque = try ImageEncoder.png(width: 4, height: 2, channels: 1, bitDepth: 2, pixels: indices,
                                          palette: palette.map { PNGPaletteEntry(r: $0.r, g: $0.g, b: $0.b) })
        XCTAssertEqual(try ImageDecoder().readHeader(opaque).storedChannels, 3)
        XCTAssertEqual(try decoded(opaque).pixels, indices.flatMap { [palette[Int($0)].r, palette[Int($0)].g, palette[Int($0)].b] })
    }

    /// 16-bit samples round to 8 bits: round(v / 257) (Pillow instead takes the high byte of
    /// colour samples, v >> 8, and clips 16-bit grey at 255).
    func testSixteenBitGreyRoundsEveryValue() throws {
        var pixels: [UInt8] = []
        for v in 0..<65536 { pixels += [UInt8(v >> 8), UInt8(v & 0xFF)] }  // big-endian
        let png = try ImageEncoder.png(width: 256, height: 256, channels: 1, bitDepth: 16, pixels: pixels)
        let grey = try decoded(png, DecodeOptions(channels: 1))
        XCTAssertEqual(grey.pixels, (0..<65536).map { UInt8((Double($0) / 257).rounded()) })
        // By hand: 128 -> 0.498 -> 0; 129 -> 0.502 -> 1; 32767 -> 127.498 -> 127; 32768 -> 128.
        for (v, want) in [(128, 0), (129, 1), (32767, 127), (32768, 128), (65535, 255)] {
            XCTAssertEqual(grey.pixels[v], UInt8(want), "16-bit \(v)")
        }
    }

    func testSixteenBitRGBAComposesThenRounds() throws {
        // (c, a) pairs: (65535, 0) -> white; (0, 65535) -> 0; (32768, 32768): (32768^2 +
        // 65535*32767) / 65535 / 257 = 3221127169 / 16842495 = 191.25 -> 191; (40000, 65535) ->
        // 40000/257 = 155.64 -> 156.
        let samples: [(UInt16, UInt16)] = [(65535, 0), (0, 65535), (32768, 32768), (40000, 65535)]
        var pixels: [UInt8] = []
        for (c, a) in samples { for v in [c, c, c, a] { pixels += [UInt8(v >> 8), UInt8(v & 0xFF)] } }
        let png = try ImageEncoder.png(width: 4, height: 1, channels: 4, bitDepth: 16, pixels: pixels)
        XCTAssertEqual(try decoded(png).pixels, [255, 255, 255, 0, 0, 0, 191, 191, 191, 156, 156, 156])
        let rgb16 = try ImageEncoder.png(width: 1, height: 1, channels: 3, bitDepth: 16, pixels: [0x80, 0x80, 0x00, 0x81, 0xFF, 0xFF])
        // 0x8080 = 32896 = 128 * 257; 0x0081 = 129 -> 0.502 -> 1 (Pillow's high byte: 0); 0xFFFF -> 255.
        XCTAssertEqual(try decoded(rgb16).pixels, [128, 1, 255])
    }

    func testLowBitDepthGreyWidensByBitReplication() throws {
        for (depth, scale) in [(1, 255), (2, 85), (4, 17)] {
            let samples = (0..<40).map { UInt8($0 % (1 << depth)) }
            let png = try ImageEncoder.png(width: 8, height: 5, channels: 1, bitDepth: depth, pixels: samples)
            XCTAssertEqual(try decoded(png, DecodeOptions(channels: 1)).pixels, samples.map { $0 * UInt8(scale) }, "\(depth)-bit")
        }
    }

    func testColourKeyTransparencyBecomesWhite() throws {
        let grey: [UInt8] = [50, 60, 50, 70]
        let png = try ImageEncoder.png(width: 2, height: 2, channels: 1, pixels: grey, transparentColor: [50])
        XCTAssertEqual(try ImageDecoder().readHeader(png).storedChannels, 2)
        XCTAssertEqual(try decoded(png, DecodeOptions(channels: 1)).pixels, [255, 60, 255, 70])
        let rgb: [UInt8] = [1, 2, 3, 4, 5, 6]
        let keyed = try ImageEncoder.png(width: 2, height: 1, channels: 3, pixels: rgb, transparentColor: [4, 5, 6])
        XCTAssertEqual(try decoded(keyed).pixels, [1, 2, 3, 255, 255, 255])
    }

    func testInterlacedDecodesLikeProgressiveOrder() throws {
        for channels in [1, 3, 4] {
            let source = patterned(width: 33, height: 17, channels: channels)
            let plain = try decoded(try ImageEncoder.png(source), DecodeOptions(channels: channels == 1 ? 1 : 3))
            let interlaced = try ImageEncoder.png(source, interlaced: true)
            XCTAssertNotEqual(interlaced, try ImageEncoder.png(source))
            XCTAssertEqual(try decoded(interlaced, DecodeOptions(channels: channels == 1 ? 1 : 3)), plain, "\(channels) channels")
        }
    }

    func testFormatComesFromTheBytesNotTheName() throws {
        let png = try ImageEncoder.png(patterned(width: 3, height: 2, channels: 3))
        XCTAssertEqual(try png.withUnsafeBytes { try detectImageFormat($0) }, .png)
        let jpeg = try ImageEncoder.jpeg(patterned(width: 3, height: 2, channels: 3), quality: 90)
        XCTAssertEqual(try jpeg.withUnsafeBytes { try detectImageFormat($0) }, .jpeg)
    }
}
