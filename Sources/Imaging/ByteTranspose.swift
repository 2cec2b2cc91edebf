// 8 x 8 byte transposes between 8 image rows and a "lane-major" block, where byte j of the 8 rows
// sits at block[j * 8 ..< j * 8 + 8] (row r at offset r). The horizontal resampling pass works in
// that layout: 8 rows become the 8 lanes of one vector, so each tap is one widening load, one
// multiply and one add for 8 rows, whatever the channel count or interleaving.
//
// The transpose is the classic three rounds of masked swaps on 64-bit words (1-, 2-, then
// 4-byte elements); it is its own inverse, so one kernel serves both directions.

@inline(__always)
private func swapRound(_ a: inout UInt64, _ b: inout UInt64, _ shift: UInt64, _ mask: UInt64) {
    let t = ((a &>> shift) ^ b) & mask
    b ^= t
    a ^= t &<< shift
}

/// Transposes the 8 x 8 byte matrix held as 8 little-endian words (word r = row r).
@inline(__always)
func transpose8x8(_ w: inout (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) {
    let m1: UInt64 = 0x00FF_00FF_00FF_00FF, m2: UInt64 = 0x0000_FFFF_0000_FFFF, m4: UInt64 = 0x0000_0000_FFFF_FFFF
    swapRound(&w.0, &w.1, 8, m1); swapRound(&w.2, &w.3, 8, m1)
    swapRound(&w.4, &w.5, 8, m1); swapRound(&w.6, &w.7, 8, m1)
    swapRound(&w.0, &w.2, 16, m2); swapRound(&w.1, &w.3, 16, m2)
    swapRound(&w.4, &w.6, 16, m2); swapRound(&w.5, &w.7, 16, m2)
    swapRound(&w.0, &w.4, 32, m4); swapRound(&w.1, &w.5, 32, m4)
    swapRound(&w.2, &w.6, 32, m4); swapRound(&w.3, &w.7, 32, m4)
}

@inline(__always)
private func load64(_ p: UnsafePointer<UInt8>) -> UInt64 {
    UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
}

@inline(__always)
private func store64(_ v: UInt64, _ p: UnsafeMutablePointer<UInt8>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v.littleEndian, as: UInt64.self)
}

/// Up to 8 bytes from `p` (count < 8 at a row's end), zero-filled: never reads past the row.
@inline(__always)
private func loadPartial64(_ p: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<count { v |= UInt64(p[i]) &<< UInt64(i &* 8) }
    return v
}

@inline(__always)
private func storePartial64(_ v: UInt64, _ p: UnsafeMutablePointer<UInt8>, _ count: Int) {
    for i in 0..<count { p[i] = UInt8(truncatingIfNeeded: v &>> UInt64(i &* 8)) }
}

/// block[j * 8 + r] = rows[r][j] for j in 0..<count (the block holds roundUp(count, 8) * 8
/// bytes; the padding bytes are zero).
func transposeRowsToBlock(_ rows: (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>,
                                   UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>,
                                   UnsafePointer<UInt8>, UnsafePointer<UInt8>),
                          count: Int, block: UnsafeMutablePointer<UInt8>) {
    var j = 0
    while j < count {
        let n = min(8, count &- j)
        var w: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        if n == 8 {
            w = (load64(rows.0 + j), load64(rows.1 + j), load64(rows.2 + j), load64(rows.3 + j),
                 load64(rows.4 + j), load64(rows.5 + j), load64(rows.6 + j), load64(rows.7 + j))
        } else {
            w = (loadPartial64(rows.0 + j, n), loadPartial64(rows.1 + j, n), loadPartial64(rows.2 + j, n),
                 loadPartial64(rows.3 + j, n), loadPartial64(rows.4 + j, n), loadPartial64(rows.5 + j, n),
                 loadPartial64(rows.6 + j, n), loadPartial64(rows.7 + j, n))
        }
        transpose8x8(&w)
        let b = block + j &* 8
        store64(w.0, b); store64(w.1, b + 8); store64(w.2, b + 16); store64(w.3, b + 24)
        store64(w.4, b + 32); store64(w.5, b + 40); store64(w.6, b + 48); store64(w.7, b + 56)
        j &+= 8
    }
}

/// rows[r][j] = block[j * 8 + r] for j in 0..<count, for the first `rowCount` rows only (a
/// partial block at the image's bottom edge); never writes past a row's `count` bytes.
func transposeBlockToRows(_ block: UnsafePointer<UInt8>, count: Int, rowCount: Int,
                          rows: UnsafeMutablePointer<UInt8>, rowStride: Int) {
    var j = 0
    while j < count {
        let n = min(8, count &- j)
        let b = block + j &* 8
        var w = (load64(b), load64(b + 8), load64(b + 16), load64(b + 24),
                 load64(b + 32), load64(b + 40), load64(b + 48), load64(b + 56))
        transpose8x8(&w)
        let p = rows + j
        if n == 8 && rowCount == 8 {
            store64(w.0, p); store64(w.1, p + rowStride); store64(w.2, p + 2 &* rowStride)
            store64(w.3, p + 3 &* rowStride); store64(w.4, p + 4 &* rowStride)
            store64(w.5, p + 5 &* rowStride); store64(w.6, p + 6 &* rowStride); store64(w.7, p + 7 &* rowStride)
        } else {
            withUnsafeBytes(of: &w) { words in
                for r in 0..<rowCount {
                    let v = words.load(fromByteOffset: r &* 8, as: UInt64.self)
                    if n == 8 { store64(v, p + r &* rowStride) } else { storePartial64(v, p + r &* rowStride, n) }
                }
            }
        }
        j &+= 8
    }
}
