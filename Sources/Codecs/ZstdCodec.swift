// Lossless zstd codec: float32 shuffled into 4 byte planes, then one zstd frame.
// Falls back to raw float32 (wire form rawF32) when zstd does not make the block smaller.

public final class ZstdCodec: BlockCodec {
    private let zstd: ZstdContext
    private let planes = Scratch()

    /// `level`: zstd level, negative for the fast modes.
    public init(level: Int32 = 1) { zstd = ZstdContext(level: level) }

    public var kind: CodecKind { .zstd }
    public var level: Int32 { zstd.level }
    public func maxEncodedBytes(count: Int) -> Int { max(count * 4, ZstdContext.bound(count * 4)) }

    public func encode(_ source: UnsafeBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>?,
                       into destination: UnsafeMutableRawBufferPointer) throws -> (wire: WireCodec, bytes: Int) {
        let n = source.count, raw = n * 4
        guard destination.count >= maxEncodedBytes(count: n) else { throw CodecError("destination too small: \(destination.count) < \(raw)") }
        guard n > 0 else { return (.rawF32, 0) }
        let p = planes.reserve(raw).assumingMemoryBound(to: UInt8.self)
        shuffle4(source.baseAddress!, count: n, into: p)
        // Only worth it if strictly smaller than the raw block.
        if let c = try zstd.compress(p, count: raw, into: destination.baseAddress!, capacity: destination.count) {
            return (.zstdF32, c)
        }
        destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: raw)
        return (.rawF32, raw)
    }

    public func decode(_ source: UnsafeRawBufferPointer, wire: WireCodec,
                       into destination: UnsafeMutableBufferPointer<Float>, mode: DecodeMode) throws {
        switch wire {
        case .rawF32:
            try decodeRawF32(source, into: destination, mode: mode)
        case .zstdF32:
            let n = destination.count
            guard n > 0, let src = source.baseAddress else {
                throw CodecError("empty zstd block for \(n) elements")
            }
            let p = planes.reserve(n * 4)
            try zstd.decompress(src, count: source.count, into: p, expected: n * 4)
            unshuffle4(p.assumingMemoryBound(to: UInt8.self), count: n, into: destination.baseAddress!,
                       accumulate: mode == .accumulate)
        default:
            throw CodecError("codec zstd cannot decode wire form \(wire)")
        }
    }
}
