import ImageCodecs

/// SOI, a baseline frame header (SOF0, 8-bit, three components at 4:2:0) and a scan header
/// (SOS), with no tables and no scan data: the header of a `width` x `height` JPEG and nothing
/// behind it.
func jpegHeaderOnly(width: Int, height: Int) throws -> [UInt8] {
    let sof: [UInt8] = [0xFF, 0xC0, 0, 17, 8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF),
                        3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]
    let sos: [UInt8] = [0xFF, 0xDA, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]
    return [0xFF, 0xD8] + sof + sos
}

/// A RIFF/WEBP file holding only a VP8X chunk for a `width` x `height` canvas.
func webpVP8XOnly(width: Int, height: Int) -> [UInt8] {
    func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    let vp8x = Array("VP8X".utf8) + le(10, 4) + [0, 0, 0, 0] + le(width - 1, 3) + le(height - 1, 3)
    return Array("RIFF".utf8) + le(4 + vp8x.count, 4) + Array("WEBP".utf8) + vp8x
}

/// A zlib stream of `count` (about; rounded up to 1 + 258k) zero bytes, written by hand with
/// fixed Huffman codes: one literal 0, then matches of length 258 at distance 1, 13 bits each,
/// so 16 MiB of output takes about 100 KB. A decompression bomb for PNG's zTXt.
func zlibOfZeros(count: Int) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var bitBuffer: UInt32 = 0, bitCount = 0
    func bits(_ value: UInt32, _ n: Int) {  // a plain value, least significant bit first
        bitBuffer |= value << UInt32(bitCount)
        bitCount += n
        while bitCount >= 8 { out.append(UInt8(bitBuffer & 0xFF)); bitBuffer >>= 8; bitCount -= 8 }
    }
    func huffman(_ code: UInt32, _ n: Int) {  // a Huffman code, most significant bit first
        for i in stride(from: n - 1, through: 0, by: -1) { bits(code >> UInt32(i) & 1, 1) }
    }
    bits(1, 1)              // BFINAL
    bits(1, 2)              // BTYPE 01: fixed Huffman codes
    huffman(0x30, 8)        // literal 0
    let matches = (count - 1 + 257) / 258
    for _ in 0..<matches {
        huffman(0xC5, 8)    // length code 285: 258
        huffman(0, 5)       // distance code 0: 1
    }
    huffman(0, 7)           // end of block
    if bitCount > 0 { bits(0, 8 - bitCount) }
    let total = UInt32(1 + 258 * matches)
    let adler = (total % 65521) << 16 | 1  // a stays 1 over zero bytes; b sums it once per byte
    out += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    return out
}
