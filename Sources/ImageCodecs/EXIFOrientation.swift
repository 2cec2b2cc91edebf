// The one EXIF field we read: Orientation (TIFF tag 0x0112 in IFD0). Written against hostile
// input: every offset is checked against the block before it is read, and anything malformed
// means "no orientation" (1), never an error, as photos with broken EXIF are common.

/// TIFF tag of the EXIF orientation.
let orientationTag: UInt16 = 0x0112

/// The orientation (1...8) stored in a TIFF-structured EXIF block ("II*\0" or "MM\0*" first,
/// optionally behind the "Exif\0\0" prefix that JPEG APP1 and some WebP writers put in front);
/// 1 when the block, IFD0 or the tag is absent, malformed or out of range. Like Pillow, entries
/// of IFD0 that fit before the block ends are read even when the directory runs past its end.
func exifOrientation(_ block: UnsafeRawBufferPointer) -> Int {
    var tiff = block
    let exifPrefix: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
    if tiff.count >= 6 && tiff.prefix(6).elementsEqual(exifPrefix) {
        tiff = UnsafeRawBufferPointer(rebasing: tiff[6...])
    }
    guard tiff.count >= 8 else { return 1 }
    let littleEndian: Bool
    switch (tiff[0], tiff[1], tiff[2], tiff[3]) {
    case (0x49, 0x49, 0x2A, 0x00): littleEndian = true   // "II*\0"
    case (0x4D, 0x4D, 0x00, 0x2A): littleEndian = false  // "MM\0*"
    default: return 1
    }
    let reader = TIFFReader(bytes: tiff, littleEndian: littleEndian)
    guard let ifd = reader.u32(at: 4), ifd >= 8, let entryCount = reader.u16(at: Int(ifd)) else { return 1 }
    // Int(ifd) + 2 cannot overflow: u16(at:) checked Int(ifd) + 2 <= count.
    let entriesStart = Int(ifd) + 2
    let fitting = min(Int(entryCount), (tiff.count - entriesStart) / 12)
    for i in 0..<fitting {
        let entry = entriesStart + 12 * i
        guard reader.u16(at: entry) == orientationTag else { continue }
        // Only a single integer value is an orientation (Pillow gets a tuple otherwise and
        // leaves the image as it is). BYTE, SHORT, LONG: the value sits in the first bytes.
        guard reader.u32(at: entry + 4) == 1 else { return 1 }
        let value: Int?
        switch reader.u16(at: entry + 2) {
        case 1: value = Int(tiff[entry + 8])
        case 3: value = reader.u16(at: entry + 8).map(Int.init)
        case 4: value = reader.u32(at: entry + 8).map(Int.init)
        default: value = nil
        }
        if let v = value, (1...8).contains(v) { return v }
        return 1
    }
    return 1
}

/// Bounds-checked integer reads from a TIFF block in its byte order.
struct TIFFReader {
    let bytes: UnsafeRawBufferPointer
    let littleEndian: Bool

    func u16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
        return littleEndian ? a | b << 8 : a << 8 | b
    }

    func u32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= bytes.count - 4 else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 {
            let byte = UInt32(bytes[offset + (littleEndian ? 3 - i : i)])
            v = v << 8 | byte
        }
        return v
    }
}
