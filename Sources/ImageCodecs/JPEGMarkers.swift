// A walk over a JPEG's marker segments up to the first scan, for what TurboJPEG does not tell:
// the EXIF orientation, whether the file ends inside its header (truncated rather than
// corrupt), and where the entropy-coded data starts (to look for the end-of-image marker).

/// What the walk found.
struct JPEGMarkerInfo {
    /// From the first APP1 "Exif" segment (Pillow keeps the first too); 1 when none or malformed.
    var orientation = 1
    /// The data ends inside a marker segment, or before any scan begins.
    var headerTruncated = false
    /// Offset of the first byte after the first SOS segment, when the walk reached one.
    var firstScanData: Int?
    /// Whether the header defines quantization (DQT) and Huffman (DHT) tables itself. libjpeg
    /// keeps tables across images in one decompressor, so a file without its own would decode
    /// with the previous file's: such a file gets a fresh decompressor.
    var definesItsTables: Bool { sawQuantizationTable && sawHuffmanTable }
    var sawQuantizationTable = false
    var sawHuffmanTable = false
}

/// Walks the segments after SOI. Stops at the first SOS, at EOI, at a length field below 2 (what
/// follows is libjpeg's to report), or where the data ends. Junk bytes between segments are
/// skipped as libjpeg skips them (it warns, and so do we only through libjpeg).
func walkJPEGMarkers(_ bytes: UnsafeRawBufferPointer) -> JPEGMarkerInfo {
    var info = JPEGMarkerInfo()
    var foundEXIF = false
    var pos = 2  // after SOI (FF D8), which format detection checked
    while true {
        // Next marker: skip junk up to an FF, then FF fill bytes.
        while pos < bytes.count && bytes[pos] != 0xFF { pos += 1 }
        while pos < bytes.count && bytes[pos] == 0xFF { pos += 1 }
        guard pos < bytes.count else { info.headerTruncated = true; return info }
        let marker = bytes[pos]
        pos += 1
        switch marker {
        case 0x00, 0x01, 0xD0...0xD8: continue  // stuffing, TEM, RSTn, SOI: no length field
        case 0xD9: return info                    // EOI before any scan: libjpeg says "no image"
        default: break
        }
        guard pos <= bytes.count - 2 else { info.headerTruncated = true; return info }
        let length = Int(bytes[pos]) << 8 | Int(bytes[pos + 1])
        guard length >= 2 else { return info }
        let end = pos + length  // both below 2^17 past pos: no overflow
        guard end <= bytes.count else { info.headerTruncated = true; return info }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[(pos + 2)..<end])
        if marker == 0xE1 && !foundEXIF && payload.starts(with: [0x45, 0x78, 0x69, 0x66, 0, 0]) {
            foundEXIF = true
            info.orientation = exifOrientation(payload)
        }
        if marker == 0xDB { info.sawQuantizationTable = true }
        if marker == 0xC4 { info.sawHuffmanTable = true }
        if marker == 0xDA {
            info.firstScanData = end
            return info
        }
        pos = end
    }
}

/// True when an end-of-image marker (FF D9) follows the start of the first scan. Inside
/// entropy-coded data an FF byte is always stuffed (FF 00) or starts a marker, so FF D9 there is
/// the real EOI: its absence means the file was cut (the check behind accepting other warnings).
func jpegHasEndOfImage(_ bytes: UnsafeRawBufferPointer, after start: Int) -> Bool {
    guard start >= 0, bytes.count >= 2 else { return false }
    var i = start
    while i < bytes.count - 1 {
        if bytes[i] == 0xFF && bytes[i + 1] == 0xD9 { return true }
        i += 1
    }
    return false
}
