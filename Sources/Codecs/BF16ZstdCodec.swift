// Lossy codec: float32 (+ error-feedback residual) rounded to nearest-even bfloat16, then
// sparse planes (SparsePlanes.swift): bitmap and high bytes through zstd, low bytes stored.
// Falls back to the two byte planes stored raw (wire form rawBF16) when that does not pay.
import CSparsePlanes

public final class BF16ZstdCodec: BlockCodec {
    private let zstd: SparseCompressors
    private let halves = Scratch()
    private let scratch = Scratch()

    public init(level: Int32 = 1) { zstd = SparseCompressors(level: level) }

    public var kind: CodecKind { .bf16Zstd }
    public var level: Int32 { zstd.level }
    public func maxEncodedBytes(count: Int) -> Int { max(count * 2, SparsePlanes.maxBytes(count: count, width: 2)) }

    public func encode(_ source: UnsafeBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>?,
                       into destination: UnsafeMutableRawBufferPointer) throws -> (wire: WireCodec, bytes: Int) {
        let n = source.count, raw = n * 2
        guard destination.count >= maxEncodedBytes(count: n) else { throw CodecError("destination too small: \(destination.count) < \(maxEncodedBytes(count: n))") }
        guard n > 0 else { return (.rawBF16, 0) }
        let h = halves.reserve(raw).assumingMemoryBound(to: UInt16.self)
        let s = source.baseAddress!
        if let residual = residual {
            guard residual.count == n else { throw CodecError("residual has \(residual.count) elements, block \(n)") }
            rt_round_bfloat16(s, residual.baseAddress!, h, n)
        } else {
            rt_round_bfloat16(s, nil, h, n)
        }
        let d = destination.baseAddress!
        if let c = try encodeSparse(UnsafeRawPointer(h), count: n, width: 2, rawBytes: raw, zstd: zstd, scratch: scratch,
                                    into: d, capacity: destination.count) {
            return (.sparseBF16, c)
        }
        let lo = d.assumingMemoryBound(to: UInt8.self), hi = lo + n
        for i in 0..<n {
            lo[i] = UInt8(truncatingIfNeeded: h[i])
            hi[i] = UInt8(truncatingIfNeeded: h[i] >> 8)
        }
        return (.rawBF16, raw)
    }

    public func decode(_ source: UnsafeRawBufferPointer, wire: WireCodec,
                       into destination: UnsafeMutableBufferPointer<Float>, mode: DecodeMode) throws {
        let n = destination.count
        switch wire {
        case .rawBF16:
            guard source.count == n * 2 else { throw CodecError("raw bf16 block has \(source.count) bytes, expected \(n * 2)") }
            guard n > 0 else { return }
            let lo = source.baseAddress!.assumingMemoryBound(to: UInt8.self), hi = lo + n
            let d = destination.baseAddress!
            if mode == .accumulate {
                for i in 0..<n { d[i] = floatFromBFloat16(UInt16(lo[i]) | UInt16(hi[i]) << 8) + d[i] }
            } else {
                for i in 0..<n { d[i] = floatFromBFloat16(UInt16(lo[i]) | UInt16(hi[i]) << 8) }
            }
        case .sparseBF16:
            guard n > 0, let d = destination.baseAddress else { throw CodecError("sparse block for 0 elements") }
            let view = try parseSparse(source, count: n, width: 2, zstd: zstd, scratch: scratch)
            expandSparse(view, width: 2, into: d, accumulate: mode == .accumulate)
        default:
            throw CodecError("codec bf16-zstd cannot decode wire form \(wire)")
        }
    }
}

