// Reusable zstd compression and decompression contexts: the only place libzstd is called.
import CZstd

/// One ZSTD_CCtx and one ZSTD_DCtx, created once and reused for every block.
final class ZstdContext {
    private let cctx: OpaquePointer
    private let dctx: OpaquePointer
    let level: Int32

    /// `forceHuffman`: Huffman-code literals even at negative levels (see below).
    init(level: Int32, forceHuffman: Bool = true) {
        // Clamp to what this libzstd supports so a bad level cannot fail every block.
        self.level = max(ZSTD_minCLevel(), min(level, ZSTD_maxCLevel()))
        guard let c = ZSTD_createCCtx(), let d = ZSTD_createDCtx() else {
            fatalError("[codec] ZSTD_createCCtx/ZSTD_createDCtx returned NULL (out of memory)")
        }
        cctx = c
        dctx = d
        // Sticky parameters for ZSTD_compress2. zstd turns Huffman coding of literals off at
        // negative levels, but the bitmap and exponent bytes our codecs send through zstd are
        // mostly literals and Huffman is what shrinks them.
        ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, self.level)
        if forceHuffman {
            ZSTD_CCtx_setParameter(c, ZSTD_cParameter(rawValue: 1002), 1)  // ZSTD_c_literalCompressionMode = ZSTD_ps_enable
        }
        // A 256-entry match table whatever the level: the sections are at most 256 KB and
        // mostly literals, and the level's larger default table found no more matches on a
        // real gradient (same ratio +-0.1%) while encoding was 1.2-1.5x slower, measured side
        // by side (docs/benchmarks.md; not profiled further: table set-up or cache misses).
        ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, 8)
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        ZSTD_freeDCtx(dctx)
    }

    static func bound(_ n: Int) -> Int { ZSTD_compressBound(n) }

    /// Compresses into `dst` (capacity at least `bound(count)`); returns the frame size,
    /// or nil when the frame is not smaller than the input (the caller then stores it raw).
    func compress(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer, capacity: Int) throws -> Int? {
        let r = ZSTD_compress2(cctx, dst, capacity, src, count)
        if ZSTD_isError(r) != 0 {
            throw CodecError("ZSTD_compress2: \(String(cString: ZSTD_getErrorName(r)))")
        }
        return r < count ? r : nil
    }

    /// Decompresses a frame that must expand to exactly `expected` bytes.
    func decompress(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutableRawPointer, expected: Int) throws {
        let r = ZSTD_decompressDCtx(dctx, dst, expected, src, count)
        if ZSTD_isError(r) != 0 {
            throw CodecError("ZSTD_decompressDCtx: \(String(cString: ZSTD_getErrorName(r)))")
        }
        guard r == expected else { throw CodecError("zstd frame expanded to \(r) bytes, expected \(expected)") }
    }
}

/// A growable scratch buffer (16-byte aligned) reused across blocks.
final class Scratch {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 16)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 64)
    }

    deinit { pointer.deallocate() }

    func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if n > capacity {
            pointer.deallocate()
            capacity = max(n, capacity * 2)
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        return pointer
    }
}
