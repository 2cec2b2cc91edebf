// Encoding JPEG and WebP (PNG is in PNGEncoding.swift): for `ringtrain data export-images` and
// for the tests, which build every image they decode with these.
import CTurboJPEG
import CWebP

/// Why an image could not be encoded (bad arguments, or the library's message).
public struct ImageEncodeError: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "cannot encode image: \(reason)" }
}

/// JPEG chroma subsampling (ignored for grey images, which have no chroma).
public enum JPEGSubsampling: Sendable {
    case s444, s422, s420

    var turboJPEG: Int32 {
        switch self {
        case .s444: return Int32(TJSAMP_444.rawValue)
        case .s422: return Int32(TJSAMP_422.rawValue)
        case .s420: return Int32(TJSAMP_420.rawValue)
        }
    }
}

public enum ImageEncoder {
    /// Checks that `image` is `width x height x channels` with channels in `allowed`.
    static func validate(_ image: DecodedImage, _ format: String, channels allowed: ClosedRange<Int>) throws {
        guard image.width >= 1, image.height >= 1 else {
            throw ImageEncodeError("\(format): size \(image.width) x \(image.height)")
        }
        guard allowed.contains(image.channels) else {
            throw ImageEncodeError("\(format): \(image.channels) channels, expected \(allowed)")
        }
        let (wh, o1) = image.width.multipliedReportingOverflow(by: image.height)
        let (n, o2) = wh.multipliedReportingOverflow(by: image.channels)
        guard !o1, !o2, n == image.pixels.count else {
            throw ImageEncodeError("\(format): \(image.pixels.count) bytes for \(image.width) x \(image.height) x \(image.channels)")
        }
        guard image.width <= 65_500 && image.height <= 65_500 || format != "JPEG" else {
            throw ImageEncodeError("JPEG: \(image.width) x \(image.height) is over JPEG's 65500 per side")
        }
    }

    /// A JPEG of a grey (1 channel) or RGB (3) image. `quality` 1...100 (libjpeg's scale), the
    /// accurate DCT, Pillow's default 4:2:0 chroma subsampling unless told otherwise.
    /// `cmyk`: store the RGB image as Adobe-style inverted CMYK (libjpeg-turbo writes it as
    /// YCCK with an Adobe APP14 marker), the form print workflows leave in photo collections.
    public static func jpeg(_ image: DecodedImage, quality: Int, progressive: Bool = false, cmyk: Bool = false,
                            subsampling: JPEGSubsampling = .s420) throws -> [UInt8] {
        try validate(image, "JPEG", channels: 1...3)
        guard image.channels != 2 else { throw ImageEncodeError("JPEG: 2 channels (grey + alpha): JPEG has no alpha") }
        guard (1...100).contains(quality) else { throw ImageEncodeError("JPEG: quality \(quality), expected 1...100") }
        guard !cmyk || image.channels == 3 else { throw ImageEncodeError("JPEG: cmyk needs an RGB image") }
        guard let handle = tjInitCompress() else {
            throw ImageEncodeError("JPEG: tjInitCompress: \(String(cString: tjGetErrorStr2(nil)))")
        }
        defer { tjDestroy(handle) }
        let source = cmyk ? adobeCMYK(fromRGB: image.pixels) : image.pixels
        let pixelFormat = cmyk ? TJPF_CMYK : (image.channels == 1 ? TJPF_GRAY : TJPF_RGB)
        let subsamp = image.channels == 1 ? Int32(TJSAMP_GRAY.rawValue) : subsampling.turboJPEG
        var flags = TJFLAG_ACCURATEDCT
        if progressive { flags |= TJFLAG_PROGRESSIVE }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = source.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(pixelFormat.rawValue),
                        &out, &size, subsamp, Int32(quality), flags)
        }
        defer { tjFree(out) }
        guard rc == 0, let bytes = out else {
            throw ImageEncodeError("JPEG: tjCompress2: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(size)))
    }

    /// RGB -> inverted (Adobe) CMYK as libjpeg-turbo's rgb_to_cmyk: K = max(R, G, B) stored,
    /// each of C, M, Y stored as round(255 * channel / K), so that Pillow's CMYK decode
    /// (R = K - (255 - C) * K / 255) returns the RGB.
    static func adobeCMYK(fromRGB rgb: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rgb.count / 3 * 4)
        for i in 0..<(rgb.count / 3) {
            let (r, g, b) = (Int(rgb[3 * i]), Int(rgb[3 * i + 1]), Int(rgb[3 * i + 2]))
            let k = max(r, g, b)
            @inline(__always) func ink(_ v: Int) -> UInt8 { k == 0 ? 255 : UInt8((255 * v + k / 2) / k) }
            out[4 * i] = ink(r)
            out[4 * i + 1] = ink(g)
            out[4 * i + 2] = ink(b)
            out[4 * i + 3] = UInt8(k)
        }
        return out
    }

    /// A WebP of a grey (1), grey + alpha (2), RGB (3) or RGBA (4) image; grey is stored as RGB
    /// (WebP has no grey mode). `quality` 0...100 (for lossless: the effort). `exif`: a TIFF
    /// EXIF block to carry in an EXIF chunk (the file is then the extended VP8X form).
    public static func webp(_ image: DecodedImage, quality: Float, lossless: Bool, exif: [UInt8]? = nil) throws -> [UInt8] {
        try validate(image, "WebP", channels: 1...4)
        guard image.width <= 16_383 && image.height <= 16_383 else {
            throw ImageEncodeError("WebP: \(image.width) x \(image.height) is over WebP's 16383 per side")
        }
        guard (0...100).contains(quality) else { throw ImageEncodeError("WebP: quality \(quality), expected 0...100") }
        let alpha = image.channels == 2 || image.channels == 4
        let source = expandedToRGBOrRGBA(image)
        let stride = Int32(image.width * (alpha ? 4 : 3))
        var out: UnsafeMutablePointer<UInt8>? = nil
        let size = source.withUnsafeBufferPointer { src -> Int in
            let (p, w, h) = (src.baseAddress!, Int32(image.width), Int32(image.height))
            switch (lossless, alpha) {
            case (false, false): return WebPEncodeRGB(p, w, h, stride, quality, &out)
            case (false, true): return WebPEncodeRGBA(p, w, h, stride, quality, &out)
            case (true, false): return WebPEncodeLosslessRGB(p, w, h, stride, &out)
            case (true, true): return WebPEncodeLosslessRGBA(p, w, h, stride, &out)
            }
        }
        defer { WebPFree(out) }
        guard size > 0, let bytes = out else { throw ImageEncodeError("WebP: WebPEncode failed (\(image.width) x \(image.height))") }
        let file = Array(UnsafeBufferPointer(start: bytes, count: size))
        guard let exif else { return file }
        return try webpAddingEXIF(file, exif: exif, width: image.width, height: image.height, alpha: alpha)
    }

    /// Grey -> RGB and grey + alpha -> RGBA, sample by sample; RGB and RGBA as they are.
    static func expandedToRGBOrRGBA(_ image: DecodedImage) -> [UInt8] {
        guard image.channels <= 2 else { return image.pixels }
        let c = image.channels
        var out = [UInt8]()
        out.reserveCapacity(image.pixels.count / c * (c == 1 ? 3 : 4))
        for i in stride(from: 0, to: image.pixels.count, by: c) {
            let g = image.pixels[i]
            out.append(contentsOf: [g, g, g])
            if c == 2 { out.append(image.pixels[i + 1]) }
        }
        return out
    }
}
