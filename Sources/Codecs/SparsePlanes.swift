// The "sparse planes" payload shared by the zstd and bf16-zstd codecs (wire ids 4 and 5).
//
// Real gradients are 35-45% exact zeros (ReLU units dead for a whole batch zero entire rows
// of a linear layer's weight gradient), and the rest have random low mantissa bits. So a
// block is split into what compresses and what does not:
//   - a bitmap of which elements are non-zero (long runs: zstd shrinks it to ~30%),
//   - the high byte (sign and 7 exponent bits) of each non-zero element (~0.45 byte after zstd),
//   - the remaining bytes of each non-zero element: random mantissa bits, which only zstd's
//     fastest mode sees (no Huffman: it would find nothing), to catch repeated values (a
//     linear layer on images with a constant background has rows of one repeated gradient
//     value); on real CNN gradients they are stored as they are.
// Huffman-coding only ~1/4 of the non-zero bytes makes encoding several times faster than one
// zstd frame over all byte planes, and the ratio is higher (zeros cost 1 bit, not 4 bytes
// through a Huffman table shared with random mantissas). docs/wire-format.md has the bytes.
//
// "Zero" means the all-zero bit pattern: -0.0 is a value like any other, so the round trip
// is bit-exact. Decoding with `.accumulate` still adds +0.0 at the zero positions, exactly as
// the raw form would (-0.0 + 0.0 = +0.0), so a sum is the same bytes whichever form arrived.

import CSparsePlanes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Layout constants and the section header.
enum SparsePlanes {
    /// Bytes before the sections: flags, 3 reserved, non-zero count, two section lengths.
    static let headerSize = 16
    /// flags bit 0: the bitmap section is a zstd frame (else raw, ceil(n/8) bytes).
    static let maskCompressed: UInt8 = 1
    /// flags bit 1: the high-byte section is a zstd frame (else raw, k bytes).
    static let highCompressed: UInt8 = 2
    /// flags bit 2: the low planes are one zstd frame, the rest of the payload (else raw).
    static let lowCompressed: UInt8 = 4
    /// The zstd level of the low planes: the fastest mode that still finds long repeats.
    static let lowPlanesLevel: Int32 = -5

    static func maskBytes(_ n: Int) -> Int { (n + 7) / 8 }

    /// The largest payload for `n` elements of `width` bytes (the encoder falls back to the
    /// raw form before it gets there, but the destination must hold the attempt).
    static func maxBytes(count n: Int, width: Int) -> Int {
        // zstd's bound is at least its input, so it covers a stored section too.
        headerSize + ZstdContext.bound(maskBytes(n)) + ZstdContext.bound(n) + ZstdContext.bound((width - 1) * n)
    }
}

/// The two zstd set-ups of a sparse codec: the configured level with Huffman for the bitmap
/// and high bytes, and the fast mode for the low planes. One per codec instance (per thread).
final class SparseCompressors {
    let sections: ZstdContext
    let lowPlanes: ZstdContext

    init(level: Int32) {
        sections = ZstdContext(level: level)
        lowPlanes = ZstdContext(level: SparsePlanes.lowPlanesLevel, forceHuffman: false)
    }

    var level: Int32 { sections.level }
}

/// Encodes one block into `destination` as sparse planes; nil when the result would not be
/// smaller than `rawBytes` (the caller then stores the block raw).
func encodeSparse(_ source: UnsafeRawPointer, count n: Int, width: Int, rawBytes: Int, zstd: SparseCompressors,
                  scratch: Scratch, into destination: UnsafeMutableRawPointer, capacity: Int) throws -> Int? {
    let maskLength = SparsePlanes.maskBytes(n)
    let stride = n + Int(RT_SPARSE_SLACK)
    let s = scratch.reserve(maskLength + width * stride).assumingMemoryBound(to: UInt8.self)
    let mask = s, high = s + maskLength, low = high + stride
    let k = rt_split_sparse(source, n, Int32(width), mask, high, low, stride)
    // The lower planes were written `stride` apart; the payload has them k apart.
    for j in 1..<max(1, width - 1) { memmove(low + j * k, low + j * stride, k) }

    var flags: UInt8 = 0
    var at = SparsePlanes.headerSize
    func section(_ p: UnsafeMutablePointer<UInt8>, _ count: Int, flag: UInt8, _ z: ZstdContext) throws -> Int {
        if count > 0, let c = try z.compress(p, count: count, into: destination + at, capacity: capacity - at) {
            flags |= flag
            at += c
            return c
        }
        (destination + at).copyMemory(from: p, byteCount: count)
        at += count
        return count
    }
    let maskSection = try section(mask, maskLength, flag: SparsePlanes.maskCompressed, zstd.sections)
    let highSection = try section(high, k, flag: SparsePlanes.highCompressed, zstd.sections)
    _ = try section(low, (width - 1) * k, flag: SparsePlanes.lowCompressed, zstd.lowPlanes)
    let total = at
    guard total < rawBytes else { return nil }

    destination.storeBytes(of: flags, as: UInt8.self)
    for r in 1..<4 { destination.storeBytes(of: UInt8(0), toByteOffset: r, as: UInt8.self) }
    destination.storeBytes(of: UInt32(k).littleEndian, toByteOffset: 4, as: UInt32.self)
    destination.storeBytes(of: UInt32(maskSection).littleEndian, toByteOffset: 8, as: UInt32.self)
    destination.storeBytes(of: UInt32(highSection).littleEndian, toByteOffset: 12, as: UInt32.self)
    return total
}

/// A validated sparse payload: pointers to the bitmap, high bytes and lower planes.
struct SparseView {
    let count: Int
    let kept: Int
    let mask: UnsafePointer<UInt8>
    let high: UnsafePointer<UInt8>
    let low: UnsafePointer<UInt8>
}

/// Checks every length and count of a sparse payload of `n` elements (a peer's bytes are
/// not trusted: a lie must be an error, never a read out of bounds), decompressing the
/// compressed sections into `scratch`.
func parseSparse(_ source: UnsafeRawBufferPointer, count n: Int, width: Int, zstd: SparseCompressors,
                 scratch: Scratch) throws -> SparseView {
    guard let p = source.baseAddress, source.count >= SparsePlanes.headerSize else {
        throw CodecError("sparse block of \(source.count) bytes is shorter than its \(SparsePlanes.headerSize)-byte header")
    }
    let flags = p.load(as: UInt8.self)
    guard flags & ~(SparsePlanes.maskCompressed | SparsePlanes.highCompressed | SparsePlanes.lowCompressed) == 0,
          p.load(fromByteOffset: 1, as: UInt8.self) == 0, p.load(fromByteOffset: 2, as: UInt8.self) == 0,
          p.load(fromByteOffset: 3, as: UInt8.self) == 0 else {
        throw CodecError("sparse block has unknown flags \(flags) or non-zero reserved bytes")
    }
    func u32(_ o: Int) -> Int { Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))) }
    let k = u32(4), maskSection = u32(8), highSection = u32(12)
    guard k <= n else { throw CodecError("sparse block claims \(k) non-zero elements of \(n)") }
    let lowCompressed = flags & SparsePlanes.lowCompressed != 0
    let front = SparsePlanes.headerSize + maskSection + highSection
    // Stored low planes fill the rest exactly; a compressed one is whatever remains (> 0).
    let lowSection = lowCompressed ? source.count - front : (width - 1) * k
    guard maskSection <= source.count, highSection <= source.count, front <= source.count,
          front + lowSection == source.count, !lowCompressed || lowSection > 0 else {
        throw CodecError("sparse block sections (\(maskSection) + \(highSection) + \(lowCompressed ? "the rest" : "\((width - 1) * k)") bytes) do not add up to its \(source.count)-byte payload")
    }
    let maskLength = SparsePlanes.maskBytes(n)
    let s = scratch.reserve(maskLength + k + (width - 1) * k).assumingMemoryBound(to: UInt8.self)
    var at = p + SparsePlanes.headerSize
    func section(_ length: Int, expanded: Int, compressed: Bool, into dst: UnsafeMutablePointer<UInt8>, _ what: String) throws -> UnsafePointer<UInt8> {
        defer { at += length }
        if compressed {
            do {
                try zstd.sections.decompress(at, count: length, into: dst, expected: expanded)
            } catch let e as CodecError {
                throw CodecError("sparse block's \(what): \(e.message)")
            }
            return UnsafePointer(dst)
        }
        guard length == expanded else { throw CodecError("sparse block's raw \(what) has \(length) bytes, expected \(expanded)") }
        return at.assumingMemoryBound(to: UInt8.self)
    }
    let mask = try section(maskSection, expanded: maskLength, compressed: flags & SparsePlanes.maskCompressed != 0, into: s, "bitmap")
    // The bitmap must mark exactly k elements, none past n: the decoder trusts it. Checked
    // before the other sections are decompressed, so a lie costs the sender, not us.
    var ones = 0
    for i in 0..<maskLength { ones += mask[i].nonzeroBitCount }
    if n % 8 != 0, maskLength > 0, mask[maskLength - 1] >> UInt8(n % 8) != 0 {
        throw CodecError("sparse block's bitmap marks elements past its \(n)")
    }
    guard ones == k else { throw CodecError("sparse block's bitmap marks \(ones) non-zero elements, header says \(k)") }
    let high = try section(highSection, expanded: k, compressed: flags & SparsePlanes.highCompressed != 0, into: s + maskLength, "high bytes")
    let low = try section(lowSection, expanded: (width - 1) * k, compressed: lowCompressed, into: s + maskLength + k, "low planes")
    return SparseView(count: n, kept: k, mask: mask, high: high, low: low)
}

/// Expands a validated view into `d` (float32; bfloat16 bits are widened), overwriting or
/// adding. Zero positions get +0.0 (added, in accumulate mode, like any other value).
func expandSparse(_ v: SparseView, width: Int, into d: UnsafeMutablePointer<Float>, accumulate: Bool) {
    rt_expand_sparse(v.mask, v.high, v.low, v.kept, v.count, Int32(width), d, accumulate ? 1 : 0)
}
