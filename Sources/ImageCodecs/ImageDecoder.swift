// The entry point: format from the magic bytes, then the library for it.

/// Decodes JPEG, PNG and WebP files. Holds reusable library state (a TurboJPEG decompressor, a
/// scratch buffer), so make one per thread and reuse it; it is not thread-safe.
public final class ImageDecoder {
    private let jpeg = TurboJPEGDecoder()
    private let scratch = ScratchBuffer()

    public init() {}

    /// The header: size, channels, orientation. Reads no pixel data and allocates no pixels
    /// (for PNG it reads the chunks before the image data, for the tRNS and eXIf chunks).
    public func readHeader(_ bytes: UnsafeRawBufferPointer) throws -> ImageHeader {
        switch try detectImageFormat(bytes) {
        case .jpeg: return try jpeg.readHeader(bytes).0
        case .png: return try PNGDecoding.readHeader(bytes)
        case .webp: return try WebPDecoding.features(bytes).0
        }
    }

    /// Decodes to 8-bit grey or RGB, orientation applied (see DecodeOptions for every choice).
    public func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = .init()) throws -> DecodedImage {
        guard options.channels == 1 || options.channels == 3 else {
            throw ImageDecodeError(.unsupported, "DecodeOptions.channels \(options.channels): must be 1 (grey) or 3 (RGB)")
        }
        switch try detectImageFormat(bytes) {
        case .jpeg: return try jpeg.decode(bytes, options: options, scratch: scratch)
        case .png: return try PNGDecoding.decode(bytes, options: options, scratch: scratch)
        case .webp: return try WebPDecoding.decode(bytes, options: options, scratch: scratch)
        }
    }

    /// `decode` over an array.
    public func decode(_ bytes: [UInt8], options: DecodeOptions = .init()) throws -> DecodedImage {
        try bytes.withUnsafeBytes { try decode($0, options: options) }
    }

    /// `readHeader` over an array.
    public func readHeader(_ bytes: [UInt8]) throws -> ImageHeader {
        try bytes.withUnsafeBytes { try readHeader($0) }
    }
}

/// Refuses an image over `maxPixels` from its header, before any pixel buffer exists.
func checkPixelLimit(_ header: ImageHeader, _ options: DecodeOptions) throws {
    let (pixels, overflow) = header.width.multipliedReportingOverflow(by: header.height)
    if overflow || pixels > options.maxPixels {
        let count = overflow ? "more than Int.max" : String(pixels)
        throw ImageDecodeError(.tooLarge, "\(header.format.rawValue.uppercased()): \(header.width) x \(header.height) = "
            + "\(count) pixels, over the limit of \(options.maxPixels) (DecodeOptions.maxPixels)")
    }
}
