// XXH64, bit-compatible with the reference xxHash. It finishes the block checksum
// (BlockChecksum.swift), which does the per-byte work with vector sums; a software CRC32C
// (no SSE4.2 intrinsics without a C shim) would run at ~1-2 GB/s.

private let p1: UInt64 = 0x9E37_79B1_85EB_CA87
private let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
private let p3: UInt64 = 0x1656_67B1_9E37_79F9
private let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
private let p5: UInt64 = 0x27D4_EB2F_1656_67C5

@inline(__always) private func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
@inline(__always) private func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
    rotl(acc &+ input &* p2, 31) &* p1
}
@inline(__always) private func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
    (acc ^ round(0, v)) &* p1 &+ p4
}

/// XXH64 of `count` bytes at `data` with seed `seed`.
public func xxh64(_ data: UnsafeRawPointer?, count: Int, seed: UInt64 = 0) -> UInt64 {
    var h: UInt64
    var i = 0
    let n = count
    if n >= 32, let d = data {
        var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
        while i + 32 <= n {
            v1 = round(v1, d.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            v2 = round(v2, d.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
            v3 = round(v3, d.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
            v4 = round(v4, d.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
            i += 32
        }
        h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
    } else {
        h = seed &+ p5
    }
    h = h &+ UInt64(n)
    if let d = data {
        while i + 8 <= n {
            h ^= round(0, d.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= n {
            h ^= UInt64(d.loadUnaligned(fromByteOffset: i, as: UInt32.self)) &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < n {
            h ^= UInt64(d.load(fromByteOffset: i, as: UInt8.self)) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
    }
    h ^= h >> 33; h = h &* p2
    h ^= h >> 29; h = h &* p3
    h ^= h >> 32
    return h
}

/// XXH64 of a byte buffer.
public func xxh64(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
    xxh64(bytes.baseAddress, count: bytes.count, seed: seed)
}
