import Foundation

/// CRC-32 (ISO 3309, PNG's), bit by bit: test-only, for hand-made chunks.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

func bigEndian32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

/// A PNG chunk: length, type, data, CRC (`claimedLength` overrides the length field).
func pngChunk(_ type: String, _ data: [UInt8], claimedLength: UInt32? = nil) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    return bigEndian32(claimedLength ?? UInt32(data.count)) + typeBytes + data + bigEndian32(crc32(typeBytes + data))
}

/// `png` with a chunk inserted right after IHDR (which is always the first, 25 bytes).
func insertingPNGChunk(_ png: [UInt8], type: String, data: [UInt8]) -> [UInt8] {
    Array(png[0..<33]) + pngChunk(type, data) + png[33...]
}

/// A PNG signature and IHDR only (no image data): what a header-only bomb looks like.
func pngHeaderOnly(width: UInt32, height: UInt32, bitDepth: UInt8 = 8, colorType: UInt8 = 2) -> [UInt8] {
    let ihdr = bigEndian32(width) + bigEndian32(height) + [bitDepth, colorType, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + pngChunk("IHDR", ihdr)
}
