// Lossy codec: float32 (+ error-feedback residual) rounded to nearest-even bfloat16,
// shuffled into 2 byte planes (low bytes, then high bytes), then one zstd frame.
// Falls back to the planes stored raw (wire form rawBF16) when zstd does not pay.

public final class BF16ZstdCodec: BlockCodec {
    private let zstd: ZstdContext
    private let planes = Scratch()

    public init(level: Int32 = 1) { zstd = ZstdContext(level: level) }

    public var kind: CodecKind { .bf16Zstd }
    public var level: Int32 { zstd.level }
    public func maxEncodedBytes(count: Int) -> Int { max(count * 2, ZstdContext.bound(count * 2)) }

    public func encode(_ source: UnsafeBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>?,
                       into destination: UnsafeMutableRawBufferPointer) throws -> (wire: WireCodec, bytes: Int) {
        let n = source.count, raw = n * 2
        guard destination.count >= maxEncodedBytes(count: n) else { throw CodecError("destination too small: \(destination.count) < \(raw)") }
        guard n > 0 else { return (.rawBF16, 0) }
        let p = planes.reserve(raw).assumingMemoryBound(to: UInt8.self)
        let lo = p, hi = p + n
        let s = source.baseAddress!
        if let residual = residual {
            guard residual.count == n else { throw CodecError("residual has \(residual.count) elements, block \(n)") }
            let r = residual.baseAddress!
            for i in 0..<n {
                let v = s[i] + r[i]
                let b = bfloat16Bits(v)
                let e = v - floatFromBFloat16(b)
                r[i] = e.isFinite ? e : 0
                lo[i] = UInt8(truncatingIfNeeded: b)
                hi[i] = UInt8(truncatingIfNeeded: b >> 8)
            }
        } else {
            for i in 0..<n {
                let b = bfloat16Bits(s[i])
                lo[i] = UInt8(truncatingIfNeeded: b)
                hi[i] = UInt8(truncatingIfNeeded: b >> 8)
            }
        }
        if let c = try zstd.compress(p, count: raw, into: destination.baseAddress!, capacity: destination.count) {
            return (.zstdBF16, c)
        }
        destination.baseAddress!.copyMemory(from: p, byteCount: raw)
        return (.rawBF16, raw)
    }

    public func decode(_ source: UnsafeRawBufferPointer, wire: WireCodec,
                       into destination: UnsafeMutableBufferPointer<Float>, mode: DecodeMode) throws {
        let n = destination.count
        let planesPtr: UnsafePointer<UInt8>
        switch wire {
        case .rawBF16:
            guard source.count == n * 2 else { throw CodecError("raw bf16 block has \(source.count) bytes, expected \(n * 2)") }
            guard n > 0 else { return }
            planesPtr = source.baseAddress!.assumingMemoryBound(to: UInt8.self)
        case .zstdBF16:
            guard n > 0, let src = source.baseAddress else { throw CodecError("empty zstd block for \(n) elements") }
            let p = planes.reserve(n * 2)
            try zstd.decompress(src, count: source.count, into: p, expected: n * 2)
            planesPtr = UnsafePointer(p.assumingMemoryBound(to: UInt8.self))
        default:
            throw CodecError("codec bf16-zstd cannot decode wire form \(wire)")
        }
        let lo = planesPtr, hi = planesPtr + n
        let d = destination.baseAddress!
        if mode == .accumulate {
            for i in 0..<n { d[i] = floatFromBFloat16(UInt16(lo[i]) | UInt16(hi[i]) << 8) + d[i] }
        } else {
            for i in 0..<n { d[i] = floatFromBFloat16(UInt16(lo[i]) | UInt16(hi[i]) << 8) }
        }
    }
}
