// Building EXIF-oriented files: a minimal EXIF block and the container surgery to carry it in a
// JPEG (APP1 after SOI) or a WebP (an EXIF chunk in the extended VP8X form). For tests and tools
// that need oriented images; PNG takes the block directly (`png(..., exif:)`).

extension ImageEncoder {
    /// A TIFF-structured EXIF block whose IFD0 holds one entry, Orientation (SHORT) = `orientation`.
    public static func exifBlock(orientation: Int, bigEndian: Bool = false) -> [UInt8] {
        var out: [UInt8] = bigEndian ? [0x4D, 0x4D, 0x00, 0x2A] : [0x49, 0x49, 0x2A, 0x00]
        func u16(_ v: Int) { out += bigEndian ? [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        func u32(_ v: Int) { if bigEndian { u16(v >> 16); u16(v & 0xFFFF) } else { u16(v & 0xFFFF); u16(v >> 16) } }
        u32(8)                    // IFD0 right after the header
        u16(1)                    // one entry
        u16(Int(orientationTag))
        u16(3)                    // SHORT
        u32(1)                    // count
        u16(orientation & 0xFFFF)
        u16(0)                    // the rest of the 4-byte value field
        u32(0)                    // no next IFD
        return out
    }

    /// `jpeg` with a marker segment (FF `marker`, length, `payload`) inserted right after SOI.
    public static func insertingJPEGSegment(_ jpeg: [UInt8], marker: UInt8, payload: [UInt8]) throws -> [UInt8] {
        guard jpeg.count >= 2, jpeg[0] == 0xFF, jpeg[1] == 0xD8 else { throw ImageEncodeError("JPEG: no SOI marker to insert after") }
        guard payload.count <= 65_533 else { throw ImageEncodeError("JPEG: a segment payload of \(payload.count) bytes is over 65533") }
        let length = payload.count + 2
        return [0xFF, 0xD8, 0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)] + payload + jpeg[2...]
    }

    /// `jpeg` with an APP1 "Exif\0\0" segment carrying `exif` (a TIFF block) after SOI, where
    /// cameras put it.
    public static func insertingJPEGEXIF(_ jpeg: [UInt8], exif: [UInt8]) throws -> [UInt8] {
        try insertingJPEGSegment(jpeg, marker: 0xE1, payload: Array("Exif".utf8) + [0, 0] + exif)
    }

    /// A WebP file with an EXIF chunk: a simple (VP8/VP8L) file is rewrapped in the extended
    /// form (a VP8X chunk with the canvas size and the EXIF and alpha flags); an extended file
    /// gets the EXIF flag. The EXIF chunk goes last, as the container specification orders it.
    static func webpAddingEXIF(_ file: [UInt8], exif: [UInt8], width: Int, height: Int, alpha: Bool) throws -> [UInt8] {
        guard file.count >= 20, file[0..<4].elementsEqual("RIFF".utf8), file[8..<12].elementsEqual("WEBP".utf8) else {
            throw ImageEncodeError("WebP: libwebp returned no RIFF/WEBP file")
        }
        let exifFlag: UInt8 = 0x08, alphaFlag: UInt8 = 0x10
        var out = Array(file[0..<12])
        if file[12..<16].elementsEqual("VP8X".utf8) {
            var body = Array(file[12...])
            body[8] |= exifFlag
            out += body
        } else {
            out += Array("VP8X".utf8) + le32(10) + [exifFlag | (alpha ? alphaFlag : 0), 0, 0, 0]
            out += le24(width - 1) + le24(height - 1)
            out += file[12...]
        }
        out += Array("EXIF".utf8) + le32(exif.count) + exif
        if exif.count & 1 == 1 { out.append(0) }
        let riffSize = le32(out.count - 8)
        out.replaceSubrange(4..<8, with: riffSize)
        return out
    }
}

private func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
private func le24(_ v: Int) -> [UInt8] { (0..<3).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
