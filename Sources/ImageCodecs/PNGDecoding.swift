// PNG through libspng. libspng 0.7 has no way to reset a context, so each image gets a fresh one
// (a few small allocations next to inflating the data). Every context is bounded: image limits
// from maxPixels, chunk and cache limits against hostile ancillary chunks, CRC errors fatal.
// libspng 0.7 drops an ancillary chunk whose contents are malformed (an eXIf that is not a TIFF
// block, a second eXIf, a bad tEXt keyword) and goes on, so a broken EXIF block is no error here
// either; a malformed critical chunk (IHDR, PLTE, IDAT) is.
import CSpng

/// A libspng failure: the call and libspng's code, turned into an ImageDecodeError at the edge.
struct SpngFailure: Error {
    var call: String
    var code: Int32

    var decodeError: ImageDecodeError {
        let kind: ImageDecodeError.Kind
        switch code {
        case Int32(SPNG_IO_EOF.rawValue), Int32(SPNG_EOF.rawValue), Int32(SPNG_EIDAT_TOO_SHORT.rawValue):
            kind = .truncated
        case Int32(SPNG_EUSER_WIDTH.rawValue), Int32(SPNG_EUSER_HEIGHT.rawValue), Int32(SPNG_ECHUNK_LIMITS.rawValue),
             Int32(SPNG_EMEM.rawValue):
            kind = .tooLarge
        default:
            kind = .corrupt
        }
        return ImageDecodeError(kind, "PNG: \(call): \(String(cString: spng_strerror(code)))")
    }
}

/// Limits for one decode. The chunk limit bounds what libspng inflates from one zTXt/iTXt/iCCP
/// chunk; the cache limit bounds all ancillary chunk data it keeps (text, eXIf, unknown chunks).
/// Neither touches IDAT, which is streamed.
let pngMaxInflatedChunk = 8 << 20
let pngChunkCacheLimit = 32 << 20

/// One libspng decoding context over `bytes`, freed on deinit.
final class SpngDecodingContext {
    let ctx: OpaquePointer

    init(_ bytes: UnsafeRawBufferPointer, maxPixels: Int) throws {
        guard let c = spng_ctx_new(0) else { throw ImageDecodeError(.tooLarge, "PNG: spng_ctx_new: out of memory") }
        ctx = c
        // Bad CRCs are errors in every chunk (libspng discards bad ancillary chunks by default;
        // Pillow refuses them, and so do we: a bad CRC means a damaged file).
        try check(spng_set_crc_action(ctx, Int32(SPNG_CRC_ERROR.rawValue), Int32(SPNG_CRC_ERROR.rawValue)), "spng_set_crc_action")
        // Per-dimension bound from maxPixels (the product is checked on the header).
        let side = UInt32(clamping: max(1, min(maxPixels, 0x7FFF_FFFF)))
        try check(spng_set_image_limits(ctx, side, side), "spng_set_image_limits")
        try check(spng_set_chunk_limits(ctx, pngMaxInflatedChunk, pngChunkCacheLimit), "spng_set_chunk_limits")
        try check(spng_set_png_buffer(ctx, bytes.baseAddress, bytes.count), "spng_set_png_buffer")
    }

    deinit { spng_ctx_free(ctx) }

    func check(_ rc: Int32, _ call: String) throws {
        if rc != 0 { throw SpngFailure(call: call, code: rc) }
    }

    func ihdr() throws -> spng_ihdr {
        var ihdr = spng_ihdr()
        try check(spng_get_ihdr(ctx, &ihdr), "spng_get_ihdr")
        return ihdr
    }

    /// Whether a tRNS chunk is present (reads the chunks before IDAT).
    func hasTransparency() throws -> Bool {
        var trns = spng_trns()
        let rc = spng_get_trns(ctx, &trns)
        if rc == Int32(SPNG_ECHUNKAVAIL.rawValue) { return false }
        try check(rc, "spng_get_trns")
        return true
    }

    /// Reads the chunks after the image data through IEND, so that a file cut after its last
    /// row is still reported as truncated (Pillow accepts a PNG without its IEND; we do not).
    func readToEnd() throws {
        try check(spng_decode_chunks(ctx), "spng_decode_chunks")
    }

    /// The eXIf chunk's orientation (1 without one).
    func orientation() throws -> Int {
        var exif = spng_exif()
        let rc = spng_get_exif(ctx, &exif)
        if rc == Int32(SPNG_ECHUNKAVAIL.rawValue) { return 1 }
        try check(rc, "spng_get_exif")
        guard let data = exif.data else { return 1 }
        return exifOrientation(UnsafeRawBufferPointer(start: data, count: exif.length))
    }
}

/// How a PNG is decoded: the header, the libspng format and our layout for it.
struct PNGPlan {
    var header: ImageHeader
    var layout: SourceLayout
    var spngFormat: Int32
    var flags: Int32
}

/// `lenient` (readHeader): when the chunks after IHDR cannot be read (the file is cut or damaged
/// there), report no tRNS and orientation 1 rather than fail; decoding will report the damage.
/// `checkLimit` runs on the IHDR size before any other chunk is read.
func planPNG(_ png: SpngDecodingContext, ignoreEXIF: Bool = false, lenient: Bool = false,
             checkLimit: (ImageHeader) throws -> Void = { _ in }) throws -> PNGPlan {
    let ihdr = try png.ihdr()
    try checkLimit(ImageHeader(format: .png, width: Int(ihdr.width), height: Int(ihdr.height), storedChannels: 1, orientation: 1))
    var transparent = false, orientation = 1
    do {
        transparent = try png.hasTransparency()
        orientation = ignoreEXIF ? 1 : try png.orientation()
    } catch is SpngFailure where lenient {
        (transparent, orientation) = (false, 1)
    }
    let colorType = UInt32(ihdr.color_type)
    var channels: Int
    switch colorType {
    case SPNG_COLOR_TYPE_GRAYSCALE.rawValue: channels = 1
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA.rawValue: channels = 2
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA.rawValue: channels = 4
    default: channels = 3  // truecolour, indexed
    }
    if transparent { channels += 1 }
    let header = ImageHeader(format: .png, width: Int(ihdr.width), height: Int(ihdr.height),
                             storedChannels: channels, orientation: orientation)
    let layout: SourceLayout
    if ihdr.bit_depth == 16 {
        layout = .rgba16
    } else if !transparent && (colorType == SPNG_COLOR_TYPE_TRUECOLOR.rawValue || colorType == SPNG_COLOR_TYPE_INDEXED.rawValue) {
        layout = .rgb8
    } else if !transparent && colorType == SPNG_COLOR_TYPE_GRAYSCALE.rawValue {
        layout = .gray8  // libspng widens 1/2/4-bit grey by bit replication (1 -> 255)
    } else {
        layout = .rgba8
    }
    let format: spng_format
    switch layout {
    case .gray8: format = SPNG_FMT_G8
    case .rgb8: format = SPNG_FMT_RGB8
    case .rgba16: format = SPNG_FMT_RGBA16
    default: format = SPNG_FMT_RGBA8
    }
    let flags = layout == .rgba8 || layout == .rgba16 ? Int32(SPNG_DECODE_TRNS.rawValue) : 0
    return PNGPlan(header: header, layout: layout, spngFormat: Int32(format.rawValue), flags: flags)
}

enum PNGDecoding {
    static func readHeader(_ bytes: UnsafeRawBufferPointer) throws -> ImageHeader {
        do {
            return try planPNG(SpngDecodingContext(bytes, maxPixels: Int.max), lenient: true).header
        } catch let failure as SpngFailure {
            throw failure.decodeError
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions, scratch: ScratchBuffer) throws -> DecodedImage {
        do {
            let png = try SpngDecodingContext(bytes, maxPixels: options.maxPixels)
            let plan = try planPNG(png, ignoreEXIF: !options.applyOrientation) { try checkPixelLimit($0, options) }
            let image = try decode(png, plan: plan, options: options, scratch: scratch)
            guard pngEndsWithIEND(bytes) else {
                throw ImageDecodeError(.truncated, "PNG: the file ends inside its IEND chunk")
            }
            return image
        } catch let failure as SpngFailure {
            throw failure.decodeError
        }
    }

    private static func decode(_ png: SpngDecodingContext, plan: PNGPlan, options: DecodeOptions,
                               scratch: ScratchBuffer) throws -> DecodedImage {
        let (w, h) = (plan.header.width, plan.header.height)
        let sourceCount = try checkedByteCount(w, h, plan.layout.bytesPerPixel, what: "PNG decode buffer")
        var expected = 0
        try png.check(spng_decoded_image_size(png.ctx, plan.spngFormat, &expected), "spng_decoded_image_size")
        guard expected == sourceCount else {
            throw ImageDecodeError(.corrupt, "PNG: libspng wants \(expected) bytes for \(w) x \(h) in layout \(plan.layout), expected \(sourceCount)")
        }
        let walk = PixelWalk(orientation: plan.header.orientation, width: w, height: h)
        let outCount = try checkedByteCount(w, h, options.channels, what: "PNG output")
        if walk.isIdentity && layoutIsOutput(plan.layout, outChannels: options.channels) {
            let pixels = try makePixels(count: outCount) { out in
                try png.check(spng_decode_image(png.ctx, out, outCount, plan.spngFormat, plan.flags), "spng_decode_image")
                try png.readToEnd()
            }
            return DecodedImage(width: w, height: h, channels: options.channels, pixels: pixels)
        }
        let pixels = try scratch.with(count: sourceCount) { source in
            try png.check(spng_decode_image(png.ctx, source, sourceCount, plan.spngFormat, plan.flags), "spng_decode_image")
            try png.readToEnd()
            return makePixels(count: outCount) { out in
                remap(plan.layout, source: source, walk: walk, outChannels: options.channels, into: out)
            }
        }
        return DecodedImage(width: walk.outWidth, height: walk.outHeight, channels: options.channels, pixels: pixels)
    }
}

/// Whether the complete 12-byte IEND chunk (empty, so its CRC is a constant) is in the file:
/// libspng reads IEND's type but does not notice its CRC cut short. Searched from the end, as
/// files may carry bytes after IEND (which, like Pillow, we ignore).
func pngEndsWithIEND(_ bytes: UnsafeRawBufferPointer) -> Bool {
    let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
    var start = bytes.count - iend.count
    while start >= 8 {
        if bytes[start] == 0 && bytes[start..<(start + 12)].elementsEqual(iend) { return true }
        start -= 1
    }
    return false
}
