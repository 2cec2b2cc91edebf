// 8-row byte transposes between image rows and a "lane-major" block, where the 8 rows' bytes of
// column j sit together (row r at offset r) in 8 consecutive bytes. The horizontal resampling
// pass works in that layout: 8 rows become the 8 lanes of one vector, so each tap is one widening
// load, one multiply and one add for 8 rows, whatever the channel count or interleaving.
//
// The block is chunked: 32 columns x 8 rows per 256-byte chunk, column j of a chunk at
// ((j & 7) * 4 + (j >> 3)) * 8. That is the order in which the transpose below produces them:
// four 8 x 8 transposes at once, as three rounds of masked swaps (1-, 2-, then 4-byte elements)
// on the four 64-bit lanes of SIMD4<UInt64> (AVX2 shifts, ands and xors; Swift has no byte
// shuffle that compiles to one). The transpose is its own inverse, so one kernel serves both
// directions; `blockOffset` gives a column's place for the passes that read or write the block.

typealias Words = SIMD4<UInt64>

/// Byte offset of column j's 8 bytes in a chunked block.
@inline(__always)
func blockOffset(_ j: Int) -> Int {
    ((j &>> 5) &<< 8) | ((j & 7) &<< 5) | (((j &>> 3) & 3) &<< 3)
}

/// Bytes a chunked block needs for `count` columns.
@inline(__always)
func blockBytes(_ count: Int) -> Int { (count &+ 31) / 32 &* 256 }

@inline(__always)
private func swapRound(_ a: inout Words, _ b: inout Words, _ shift: UInt64, _ mask: UInt64) {
    let t = ((a &>> shift) ^ b) & Words(repeating: mask)
    b ^= t
    a ^= t &<< shift
}

/// Four 8 x 8 byte matrices, one per lane: word r of lane g is row r of matrix g.
@inline(__always)
func transpose8x8(_ w: inout (Words, Words, Words, Words, Words, Words, Words, Words)) {
    let m1: UInt64 = 0x00FF_00FF_00FF_00FF, m2: UInt64 = 0x0000_FFFF_0000_FFFF, m4: UInt64 = 0x0000_0000_FFFF_FFFF
    swapRound(&w.0, &w.1, 8, m1); swapRound(&w.2, &w.3, 8, m1)
    swapRound(&w.4, &w.5, 8, m1); swapRound(&w.6, &w.7, 8, m1)
    swapRound(&w.0, &w.2, 16, m2); swapRound(&w.1, &w.3, 16, m2)
    swapRound(&w.4, &w.6, 16, m2); swapRound(&w.5, &w.7, 16, m2)
    swapRound(&w.0, &w.4, 32, m4); swapRound(&w.1, &w.5, 32, m4)
    swapRound(&w.2, &w.6, 32, m4); swapRound(&w.3, &w.7, 32, m4)
}

/// 32 bytes from `p`, or the first `count` (< 32) of them zero-filled: never reads past a row.
@inline(__always)
private func loadWords(_ p: UnsafePointer<UInt8>, _ count: Int) -> Words {
    if count >= 32 { return UnsafeRawPointer(p).loadUnaligned(as: Words.self) }
    var v = Words()
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: count) }
    return v
}

@inline(__always)
private func storeWords(_ v: Words, _ p: UnsafeMutablePointer<UInt8>, _ count: Int) {
    if count >= 32 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Words.self); return }
    withUnsafeBytes(of: v) { p.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: count) }
}

typealias RowPointers8 = (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>,
                          UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>)

/// Columns 0 ..< count of the 8 rows into a chunked block (blockBytes(count) bytes; the
/// padding columns of the last chunk are zero).
func transposeRowsToBlock(_ rows: RowPointers8, count: Int, block: UnsafeMutablePointer<UInt8>) {
    var j = 0
    while j < count {
        let n = count &- j
        var w = (loadWords(rows.0 + j, n), loadWords(rows.1 + j, n), loadWords(rows.2 + j, n), loadWords(rows.3 + j, n),
                 loadWords(rows.4 + j, n), loadWords(rows.5 + j, n), loadWords(rows.6 + j, n), loadWords(rows.7 + j, n))
        transpose8x8(&w)
        let b = UnsafeMutableRawPointer(block + j &* 8)
        b.storeBytes(of: w.0, toByteOffset: 0, as: Words.self); b.storeBytes(of: w.1, toByteOffset: 32, as: Words.self)
        b.storeBytes(of: w.2, toByteOffset: 64, as: Words.self); b.storeBytes(of: w.3, toByteOffset: 96, as: Words.self)
        b.storeBytes(of: w.4, toByteOffset: 128, as: Words.self); b.storeBytes(of: w.5, toByteOffset: 160, as: Words.self)
        b.storeBytes(of: w.6, toByteOffset: 192, as: Words.self); b.storeBytes(of: w.7, toByteOffset: 224, as: Words.self)
        j &+= 32
    }
}

/// The inverse: columns 0 ..< count of a chunked block into the first `rowCount` rows (a
/// partial block at the image's bottom edge); never writes past a row's `count` bytes.
func transposeBlockToRows(_ block: UnsafePointer<UInt8>, count: Int, rowCount: Int,
                          rows: UnsafeMutablePointer<UInt8>, rowStride: Int) {
    var j = 0
    while j < count {
        let b = UnsafeRawPointer(block + j &* 8)
        var w = (b.loadUnaligned(fromByteOffset: 0, as: Words.self), b.loadUnaligned(fromByteOffset: 32, as: Words.self),
                 b.loadUnaligned(fromByteOffset: 64, as: Words.self), b.loadUnaligned(fromByteOffset: 96, as: Words.self),
                 b.loadUnaligned(fromByteOffset: 128, as: Words.self), b.loadUnaligned(fromByteOffset: 160, as: Words.self),
                 b.loadUnaligned(fromByteOffset: 192, as: Words.self), b.loadUnaligned(fromByteOffset: 224, as: Words.self))
        transpose8x8(&w)
        let n = count &- j, p = rows + j
        storeWords(w.0, p, n)
        if rowCount > 1 { storeWords(w.1, p + rowStride, n) }
        if rowCount > 2 { storeWords(w.2, p + 2 &* rowStride, n) }
        if rowCount > 3 { storeWords(w.3, p + 3 &* rowStride, n) }
        if rowCount > 4 { storeWords(w.4, p + 4 &* rowStride, n) }
        if rowCount > 5 { storeWords(w.5, p + 5 &* rowStride, n) }
        if rowCount > 6 { storeWords(w.6, p + 6 &* rowStride, n) }
        if rowCount > 7 { storeWords(w.7, p + 7 &* rowStride, n) }
        j &+= 32
    }
}
