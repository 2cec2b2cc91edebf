// The identity codec: the reference. Payload = raw little-endian float32.

public final class IdentityCodec: BlockCodec {
    public init() {}
    public var kind: CodecKind { .none }
    public func maxEncodedBytes(count: Int) -> Int { count * 4 }

    public func encode(_ source: UnsafeBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>?,
                       into destination: UnsafeMutableRawBufferPointer) throws -> (wire: WireCodec, bytes: Int) {
        let bytes = source.count * 4
        guard destination.count >= bytes else { throw CodecError("destination too small: \(destination.count) < \(bytes)") }
        if bytes > 0 { destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: bytes) }
        return (.rawF32, bytes)
    }

    public func decode(_ source: UnsafeRawBufferPointer, wire: WireCodec,
                       into destination: UnsafeMutableBufferPointer<Float>, mode: DecodeMode) throws {
        guard wire == .rawF32 else { throw CodecError("codec none cannot decode wire form \(wire)") }
        try decodeRawF32(source, into: destination, mode: mode)
    }
}
