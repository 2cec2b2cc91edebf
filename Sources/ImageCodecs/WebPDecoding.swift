// WebP through libwebp's advanced decoding API (WebPDecode into our own buffer, which reports
// why it failed where the simple WebPDecodeRGBInto only returns NULL). Animated files are
// refused; the EXIF chunk of an extended (VP8X) file gives the orientation.
import CWebP

enum WebPDecoding {
    static func status(_ code: VP8StatusCode, _ call: String) -> ImageDecodeError {
        let (kind, text): (ImageDecodeError.Kind, String)
        switch code {
        case VP8_STATUS_NOT_ENOUGH_DATA: (kind, text) = (.truncated, "not enough data")
        case VP8_STATUS_UNSUPPORTED_FEATURE: (kind, text) = (.unsupported, "unsupported feature")
        case VP8_STATUS_OUT_OF_MEMORY: (kind, text) = (.tooLarge, "out of memory")
        case VP8_STATUS_INVALID_PARAM: (kind, text) = (.corrupt, "invalid parameter")
        case VP8_STATUS_BITSTREAM_ERROR: (kind, text) = (.corrupt, "bitstream error")
        default: (kind, text) = (.corrupt, "status \(code.rawValue)")
        }
        return ImageDecodeError(kind, "WebP: \(call): \(text)")
    }

    static func features(_ bytes: UnsafeRawBufferPointer) throws -> (ImageHeader, hasAlpha: Bool) {
        var features = WebPBitstreamFeatures()
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc = WebPGetFeatures(base, bytes.count, &features)
        guard rc == VP8_STATUS_OK else { throw status(rc, "WebPGetFeatures") }
        guard features.width >= 1, features.height >= 1 else {
            throw ImageDecodeError(.corrupt, "WebP: WebPGetFeatures: size \(features.width) x \(features.height)")
        }
        let hasAlpha = features.has_alpha != 0
        let header = ImageHeader(format: .webp, width: Int(features.width), height: Int(features.height),
                                 storedChannels: hasAlpha ? 4 : 3, orientation: webpEXIFOrientation(bytes))
        if features.has_animation != 0 {
            throw ImageDecodeError(.unsupported, "WebP: animated (\(header.width) x \(header.height)); only still images decode")
        }
        return (header, hasAlpha)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions, scratch: ScratchBuffer) throws -> DecodedImage {
        var (header, hasAlpha) = try features(bytes)
        if !options.applyOrientation { header.orientation = 1 }
        try checkPixelLimit(header, options)
        let (w, h) = (header.width, header.height)
        let layout: SourceLayout = hasAlpha ? .rgba8 : .rgb8
        let walk = PixelWalk(orientation: header.orientation, width: w, height: h)
        let outCount = try checkedByteCount(w, h, options.channels, what: "WebP output")
        let sourceCount = try checkedByteCount(w, h, layout.bytesPerPixel, what: "WebP decode buffer")
        if walk.isIdentity && layoutIsOutput(layout, outChannels: options.channels) {
            let pixels = try makePixels(count: outCount) { out in
                try decodeInto(bytes, out: out, width: w, height: h, layout: layout)
            }
            return DecodedImage(width: w, height: h, channels: options.channels, pixels: pixels)
        }
        let pixels = try scratch.with(count: sourceCount) { source in
            try decodeInto(bytes, out: source.assumingMemoryBound(to: UInt8.self), width: w, height: h, layout: layout)
            return makePixels(count: outCount) { out in
                remap(layout, source: source, walk: walk, outChannels: options.channels, into: out)
            }
        }
        return DecodedImage(width: walk.outWidth, height: walk.outHeight, channels: options.channels, pixels: pixels)
    }

    /// WebPDecode into `out` (w x h in `layout`, RGB or straight RGBA).
    private static func decodeInto(_ bytes: UnsafeRawBufferPointer, out: UnsafeMutablePointer<UInt8>, width: Int,
                                   height: Int, layout: SourceLayout) throws {
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else {
            throw ImageDecodeError(.unsupported, "WebP: WebPInitDecoderConfig: libwebp version mismatch")
        }
        config.output.colorspace = layout == .rgba8 ? MODE_RGBA : MODE_RGB
        config.output.is_external_memory = 1
        config.output.width = Int32(width)
        config.output.height = Int32(height)
        config.output.u.RGBA.rgba = out
        config.output.u.RGBA.stride = Int32(width * layout.bytesPerPixel)
        config.output.u.RGBA.size = width * height * layout.bytesPerPixel
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc = WebPDecode(base, bytes.count, &config)
        WebPFreeDecBuffer(&config.output)  // external memory: frees nothing of ours
        guard rc == VP8_STATUS_OK else { throw status(rc, "WebPDecode") }
    }
}

/// The orientation in an extended WebP's EXIF chunk; 1 when the file is not extended, has no
/// EXIF chunk, or its chunk list or EXIF block is malformed. Walks the RIFF chunks with every
/// size checked against the file.
func webpEXIFOrientation(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard bytes.count >= 20, bytes[12..<16].elementsEqual("VP8X".utf8) else { return 1 }
    var pos = 12
    while pos <= bytes.count - 8 {
        let size = Int(bytes[pos + 4]) | Int(bytes[pos + 5]) << 8 | Int(bytes[pos + 6]) << 16 | Int(bytes[pos + 7]) << 24
        let start = pos + 8
        guard size <= bytes.count - start else { return 1 }
        if bytes[pos..<(pos + 4)].elementsEqual("EXIF".utf8) {
            return exifOrientation(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + size)]))
        }
        pos = start + size + (size & 1)  // chunks are padded to even sizes
    }
    return 1
}
