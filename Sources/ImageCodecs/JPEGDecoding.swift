// JPEG through TurboJPEG: one decompressor handle per ImageDecoder, the DCT scaling path for
// minimumSize, grey straight from libjpeg (TJPF_GRAY), CMYK/YCCK through Pillow's conversion.
//
// Warnings. libjpeg reports some damage as warnings and decodes on (filling with grey).
// Pillow accepts every warning, and a truncated file only with LOAD_TRUNCATED_IMAGES. We:
//  - decode first with TJFLAG_STOPONWARNING, so a damaged file stops at its first warning;
//  - report truncation ("Premature end of JPEG file", "premature end of data segment") as
//    `truncated`, with libjpeg's message;
//  - accept any other warning (e.g. "N extraneous bytes before marker", common in real photo
//    collections) like Pillow does, by decoding again without the flag, unless
//    `rejectJPEGWarnings`; the second pass must end on that same first warning (else a fatal
//    error came after it: `corrupt`), and an EOI marker must follow the first scan (else the
//    file is also cut, which libjpeg's first-warning-only report would hide: `truncated`).
import CTurboJPEG

final class TurboJPEGDecoder {
    private var handle: tjhandle

    init() { handle = TurboJPEGDecoder.makeHandle() }

    deinit { tjDestroy(handle) }

    private static func makeHandle() -> tjhandle {
        guard let h = tjInitDecompress() else {
            fatalError("[image] tjInitDecompress returned NULL: \(String(cString: tjGetErrorStr2(nil)))")
        }
        return h
    }

    /// A fresh decompressor, forgetting the tables earlier files left in it (see
    /// JPEGMarkerInfo.definesItsTables): what every file decodes with must not depend on the
    /// files decoded before it.
    private func replaceHandle() {
        tjDestroy(handle)
        handle = TurboJPEGDecoder.makeHandle()
    }

    private var message: String { String(cString: tjGetErrorStr2(handle)) }

    /// The header and what the marker walk found. Reads no pixels.
    func readHeader(_ bytes: UnsafeRawBufferPointer) throws -> (ImageHeader, colorspace: Int32, markers: JPEGMarkerInfo) {
        let markers = walkJPEGMarkers(bytes)
        var w: Int32 = 0, h: Int32 = 0, subsamp: Int32 = -1, colorspace: Int32 = -1
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let rc = tjDecompressHeader3(handle, base, UInt(bytes.count), &w, &h, &subsamp, &colorspace)
        // tjDecompressHeader3 also returns -1 after a mere warning, with every field filled in;
        // a fatal error returns before any field is written, and a datastream without an image
        // (tables only, or cut before its frame header) returns 0 with nothing written: the
        // sentinels tell them apart.
        let filled = w >= 1 && h >= 1 && subsamp >= 0 && colorspace >= 0
        let warningOnly = rc != 0 && tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
        guard filled && (rc == 0 || warningOnly) else {
            let m = rc == 0 ? "no image in the datastream (tables only, or cut before the frame header)" : message
            let kind: ImageDecodeError.Kind = markers.headerTruncated ? .truncated
                : (m.contains("Unsupported") || m.contains("Could not determine")) ? .unsupported : .corrupt
            throw ImageDecodeError(kind, "JPEG: tjDecompressHeader3: \(m)")
        }
        let channels: Int
        switch UInt32(colorspace) {
        case TJCS_GRAY.rawValue: channels = 1
        case TJCS_CMYK.rawValue, TJCS_YCCK.rawValue: channels = 4
        default: channels = 3
        }
        let header = ImageHeader(format: .jpeg, width: Int(w), height: Int(h), storedChannels: channels,
                                 orientation: markers.orientation)
        return (header, colorspace, markers)
    }

    func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions, scratch: ScratchBuffer) throws -> DecodedImage {
        let (header, _, markers) = try readHeader(bytes)
        try checkPixelLimit(header, options)
        if !markers.definesItsTables { replaceHandle() }
        let orientation = options.applyOrientation ? header.orientation : 1
        let swaps = (5...8).contains(orientation)
        let scale = options.minimumSize.map {
            JPEGScale.forMinimum(width: header.width, height: header.height, swapsAxes: swaps, minimum: $0)
        } ?? .full
        let (w, h) = (scale.scaled(header.width), scale.scaled(header.height))
        let isCMYK = header.storedChannels == 4
        // libjpeg converts YCbCr/RGB/grey to RGB or grey itself; CMYK/YCCK only to CMYK.
        let layout: SourceLayout = isCMYK ? .cmyk8 : (options.channels == 1 ? .gray8 : .rgb8)
        let pixelFormat = isCMYK ? TJPF_CMYK : (options.channels == 1 ? TJPF_GRAY : TJPF_RGB)
        let walk = PixelWalk(orientation: orientation, width: w, height: h)
        let outCount = try checkedByteCount(w, h, options.channels, what: "JPEG output")
        if walk.isIdentity && layoutIsOutput(layout, outChannels: options.channels) {
            let pixels = try makePixels(count: outCount) { out in
                try decompress(bytes, markers: markers, into: out, width: w, height: h,
                               pixelFormat: pixelFormat, options: options)
            }
            return DecodedImage(width: w, height: h, channels: options.channels, pixels: pixels)
        }
        let sourceCount = try checkedByteCount(w, h, layout.bytesPerPixel, what: "JPEG decode buffer")
        let pixels = try scratch.with(count: sourceCount) { source in
            try decompress(bytes, markers: markers, into: source.assumingMemoryBound(to: UInt8.self), width: w,
                           height: h, pixelFormat: pixelFormat, options: options)
            return makePixels(count: outCount) { out in
                remap(layout, source: source, walk: walk, outChannels: options.channels, into: out)
            }
        }
        return DecodedImage(width: walk.outWidth, height: walk.outHeight, channels: options.channels, pixels: pixels)
    }

    /// tjDecompress2 at the scaled size `width` x `height` into `out`, with the warning policy
    /// in the file comment.
    private func decompress(_ bytes: UnsafeRawBufferPointer, markers: JPEGMarkerInfo, into out: UnsafeMutablePointer<UInt8>,
                            width: Int, height: Int, pixelFormat: TJPF, options: DecodeOptions) throws {
        let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let format = Int32(pixelFormat.rawValue)
        // LIMITSCANS: a progressive file with more than 500 scans is refused (a known
        // decompression-time bomb); STOPONWARNING: see the file comment.
        let strict = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
        if tjDecompress2(handle, base, UInt(bytes.count), out, Int32(width), 0, Int32(height), format, strict) == 0 {
            return
        }
        let first = message
        guard tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue) else {
            let kind: ImageDecodeError.Kind = markers.headerTruncated ? .truncated
                : first.contains("Unsupported") ? .unsupported : .corrupt
            throw ImageDecodeError(kind, "JPEG: tjDecompress2: \(first)")
        }
        if isTruncationWarning(first) { throw ImageDecodeError(.truncated, "JPEG: tjDecompress2: \(first)") }
        if options.rejectJPEGWarnings { throw ImageDecodeError(.corrupt, "JPEG: tjDecompress2: \(first)") }
        let rc = tjDecompress2(handle, base, UInt(bytes.count), out, Int32(width), 0, Int32(height), format,
                               TJFLAG_LIMITSCANS)
        let second = rc == 0 ? first : message
        guard second == first else {
            throw ImageDecodeError(isTruncationWarning(second) ? .truncated : .corrupt, "JPEG: tjDecompress2: \(second)")
        }
        guard let scan = markers.firstScanData, jpegHasEndOfImage(bytes, after: scan) else {
            throw ImageDecodeError(.truncated, "JPEG: no end-of-image marker after the first scan (libjpeg's first warning: \(first))")
        }
    }
}

/// libjpeg's two warnings for data that ends early: JWRN_JPEG_EOF (the source ran dry and
/// libjpeg inserted an EOI) and JWRN_HIT_MARKER (a scan's data stopped at a marker).
func isTruncationWarning(_ message: String) -> Bool {
    message.hasPrefix("Premature end of JPEG file") || message.contains("premature end of data segment")
}
