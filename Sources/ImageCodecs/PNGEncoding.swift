// Encoding PNG through libspng: every colour type and bit depth the decoder reads, palettes with
// transparency, tRNS colour keys, Adam7 interlacing and an eXIf chunk.
import CSpng

/// One palette colour; `a` < 255 makes the PNG carry a tRNS chunk.
public struct PNGPaletteEntry: Sendable, Equatable {
    public var r, g, b, a: UInt8
    public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }
}

extension ImageEncoder {
    /// A PNG. `channels`: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA; with a `palette`, 1 (indices).
    /// `bitDepth`: 8 or 16 (grey and palette also 1, 2, 4). `pixels`: row-major interleaved
    /// samples, one byte each below 16 bits (packing is done here), two bytes big-endian (PNG's
    /// own order) at 16. `transparentColor`: a tRNS colour key (1 value for grey, 3 for RGB).
    public static func png(width: Int, height: Int, channels: Int, bitDepth: Int = 8, pixels: [UInt8],
                           palette: [PNGPaletteEntry]? = nil, transparentColor: [UInt16]? = nil,
                           interlaced: Bool = false, exif: [UInt8]? = nil) throws -> [UInt8] {
        let colorType = try pngColorType(channels: channels, bitDepth: bitDepth, palette: palette)
        guard width >= 1, height >= 1, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw ImageEncodeError("PNG: size \(width) x \(height)")
        }
        let bytesPerSample = bitDepth == 16 ? 2 : 1
        let expected = try? checkedByteCount(width, height, channels, bytesPerSample, what: "PNG")
        guard expected == pixels.count else {
            throw ImageEncodeError("PNG: \(pixels.count) bytes for \(width) x \(height) x \(channels) at \(bitDepth) bits")
        }
        if let palette, let bad = pixels.first(where: { Int($0) >= palette.count }) {
            throw ImageEncodeError("PNG: palette index \(bad) with \(palette.count) colours")
        }
        if bitDepth < 8, let bad = pixels.first(where: { Int($0) >> bitDepth != 0 }) {
            throw ImageEncodeError("PNG: sample \(bad) does not fit in \(bitDepth) bits")
        }
        guard let ctx = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else { throw ImageEncodeError("PNG: spng_ctx_new failed") }
        defer { spng_ctx_free(ctx) }
        func check(_ rc: Int32, _ call: String) throws {
            if rc != 0 { throw ImageEncodeError("PNG: \(call): \(String(cString: spng_strerror(rc)))") }
        }
        try check(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1), "spng_set_option")
        var ihdr = spng_ihdr(width: UInt32(width), height: UInt32(height), bit_depth: UInt8(bitDepth),
                             color_type: colorType, compression_method: 0, filter_method: 0,
                             interlace_method: interlaced ? 1 : 0)
        try check(spng_set_ihdr(ctx, &ihdr), "spng_set_ihdr")
        if let palette { try setPalette(ctx, palette, check) }
        if let key = transparentColor { try setColorKey(ctx, key, channels: channels, check) }
        var exifBytes = exif ?? []
        try exifBytes.withUnsafeMutableBytes { raw in
            if !raw.isEmpty {
                // libspng keeps this pointer (it does not copy) until it writes the chunk, so the
                // image is encoded inside this closure.
                var chunk = spng_exif(length: raw.count, data: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                try check(spng_set_exif(ctx, &chunk), "spng_set_exif")
            }
            try encode(ctx, pixels, width: width, height: height, channels: channels, bitDepth: bitDepth, check)
        }
        var length = 0
        var error: Int32 = 0
        guard let buffer = spng_get_png_buffer(ctx, &length, &error) else {
            throw ImageEncodeError("PNG: spng_get_png_buffer: \(String(cString: spng_strerror(error)))")
        }
        defer { free(buffer) }
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }

    /// A PNG of a decoded-style image (8 bits per sample, 1-4 channels).
    public static func png(_ image: DecodedImage, interlaced: Bool = false, exif: [UInt8]? = nil) throws -> [UInt8] {
        try png(width: image.width, height: image.height, channels: image.channels, pixels: image.pixels,
                interlaced: interlaced, exif: exif)
    }

    static func pngColorType(channels: Int, bitDepth: Int, palette: [PNGPaletteEntry]?) throws -> UInt8 {
        if let palette {
            guard channels == 1, [1, 2, 4, 8].contains(bitDepth), (1...256).contains(palette.count),
                  palette.count <= 1 << bitDepth else {
                throw ImageEncodeError("PNG: a palette of \(palette.count) needs 1 channel of indices at 1, 2, 4 or 8 bits fitting it")
            }
            return UInt8(SPNG_COLOR_TYPE_INDEXED.rawValue)
        }
        switch (channels, bitDepth) {
        case (1, 1), (1, 2), (1, 4), (1, 8), (1, 16): return UInt8(SPNG_COLOR_TYPE_GRAYSCALE.rawValue)
        case (2, 8), (2, 16): return UInt8(SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue)
        case (3, 8), (3, 16): return UInt8(SPNG_COLOR_TYPE_TRUECOLOR.rawValue)
        case (4, 8), (4, 16): return UInt8(SPNG_COLOR_TYPE_TRUECOLOR_ALPHA.rawValue)
        default: throw ImageEncodeError("PNG: \(channels) channels at \(bitDepth) bits is not a PNG format")
        }
    }

    private static func setPalette(_ ctx: OpaquePointer, _ palette: [PNGPaletteEntry],
                                   _ check: (Int32, String) throws -> Void) throws {
        var plte = spng_plte()
        plte.n_entries = UInt32(palette.count)
        withUnsafeMutableBytes(of: &plte.entries) { raw in
            let entries = raw.bindMemory(to: spng_plte_entry.self)
            for (i, e) in palette.enumerated() { entries[i] = spng_plte_entry(red: e.r, green: e.g, blue: e.b, alpha: 255) }
        }
        try check(spng_set_plte(ctx, &plte), "spng_set_plte")
        guard let lastTranslucent = palette.lastIndex(where: { $0.a != 255 }) else { return }
        var trns = spng_trns()
        trns.n_type3_entries = UInt32(lastTranslucent + 1)
        withUnsafeMutableBytes(of: &trns.type3_alpha) { raw in
            for i in 0...lastTranslucent { raw[i] = palette[i].a }
        }
        try check(spng_set_trns(ctx, &trns), "spng_set_trns")
    }

    private static func setColorKey(_ ctx: OpaquePointer, _ key: [UInt16], channels: Int,
                                    _ check: (Int32, String) throws -> Void) throws {
        var trns = spng_trns()
        switch (channels, key.count) {
        case (1, 1): trns.gray = key[0]
        case (3, 3): (trns.red, trns.green, trns.blue) = (key[0], key[1], key[2])
        default: throw ImageEncodeError("PNG: a transparent colour of \(key.count) values for \(channels) channels")
        }
        try check(spng_set_trns(ctx, &trns), "spng_set_trns")
    }

    /// Encodes the rows (packing samples below 8 bits; 16-bit samples go in as big-endian RAW).
    private static func encode(_ ctx: OpaquePointer, _ pixels: [UInt8], width: Int, height: Int, channels: Int,
                               bitDepth: Int, _ check: (Int32, String) throws -> Void) throws {
        let rows = bitDepth < 8 ? packRows(pixels, width: width, height: height, bitDepth: bitDepth) : pixels
        let format = bitDepth == 16 ? SPNG_FMT_RAW : SPNG_FMT_PNG
        try rows.withUnsafeBytes { raw in
            try check(spng_encode_image(ctx, raw.baseAddress, raw.count, Int32(format.rawValue),
                                        Int32(SPNG_ENCODE_FINALIZE.rawValue)), "spng_encode_image")
        }
    }

    /// One sample per byte -> PNG's packed rows (most significant bits first, rows padded to bytes).
    static func packRows(_ samples: [UInt8], width: Int, height: Int, bitDepth: Int) -> [UInt8] {
        let perByte = 8 / bitDepth
        let rowBytes = (width + perByte - 1) / perByte
        var out = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            for x in 0..<width {
                let shift = 8 - bitDepth * (x % perByte + 1)
                out[y * rowBytes + x / perByte] |= samples[y * width + x] << shift
            }
        }
        return out
    }
}
