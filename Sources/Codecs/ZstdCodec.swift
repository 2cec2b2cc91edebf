// Lossless zstd codec: the block as sparse planes (SparsePlanes.swift) — bitmap of non-zero
// elements and their exponent bytes through zstd, mantissa bytes stored. Falls back to raw
// float32 (wire form rawF32) when that does not make the block smaller.

public final class ZstdCodec: BlockCodec {
    private let zstd: SparseCompressors
    private let scratch = Scratch()

    /// `level`: zstd level, negative for the fast modes.
    public init(level: Int32 = 1) { zstd = SparseCompressors(level: level) }

    public var kind: CodecKind { .zstd }
    public var level: Int32 { zstd.level }
    public func maxEncodedBytes(count: Int) -> Int { max(count * 4, SparsePlanes.maxBytes(count: count, width: 4)) }

    public func encode(_ source: UnsafeBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>?,
                       into destination: UnsafeMutableRawBufferPointer) throws -> (wire: WireCodec, bytes: Int) {
        let n = source.count, raw = n * 4
        guard destination.count >= maxEncodedBytes(count: n) else { throw CodecError("destination too small: \(destination.count) < \(maxEncodedBytes(count: n))") }
        guard n > 0 else { return (.rawF32, 0) }
        if let c = try encodeSparse(UnsafeRawPointer(source.baseAddress!), count: n, width: 4, rawBytes: raw, zstd: zstd, scratch: scratch,
                                    into: destination.baseAddress!, capacity: destination.count) {
            return (.sparseF32, c)
        }
        destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: raw)
        return (.rawF32, raw)
    }

    public func decode(_ source: UnsafeRawBufferPointer, wire: WireCodec,
                       into destination: UnsafeMutableBufferPointer<Float>, mode: DecodeMode) throws {
        switch wire {
        case .rawF32:
            try decodeRawF32(source, into: destination, mode: mode)
        case .sparseF32:
            let n = destination.count
            guard n > 0, let d = destination.baseAddress else { throw CodecError("sparse block for 0 elements") }
            let view = try parseSparse(source, count: n, width: 4, zstd: zstd, scratch: scratch)
            expandSparse(view, width: 4, into: d, accumulate: mode == .accumulate)
        default:
            throw CodecError("codec zstd cannot decode wire form \(wire)")
        }
    }
}
