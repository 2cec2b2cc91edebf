// The codec protocol: one bucket segment of float32 in, bytes out, and back.

/// Errors from encoding or decoding a block. The ring wraps them with the peer's name.
public struct CodecError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "[codec] \(message)" }
}

/// How a decoded block lands in the destination.
public enum DecodeMode: Sendable {
    /// destination[i] = decoded[i]
    case overwrite
    /// destination[i] = decoded[i] + destination[i] (the ring's reduce step)
    case accumulate
}

/// A block codec: encodes a run of float32 into bytes and decodes them back.
/// Instances hold contexts and scratch buffers and are not thread-safe: use one per thread.
public protocol BlockCodec: AnyObject {
    /// The configured codec.
    var kind: CodecKind { get }
    /// An upper bound of `encode`'s output for `count` elements.
    func maxEncodedBytes(count: Int) -> Int
    /// Encodes `source` into `destination` (at least `maxEncodedBytes(count:)` bytes).
    /// Lossy codecs add `residual` (same count) to the source before rounding and store the new
    /// rounding error back into it; lossless codecs ignore it.
    /// Returns the wire form used and the number of bytes written.
    func encode(_ source: UnsafeBufferPointer<Float>, residual: UnsafeMutableBufferPointer<Float>?,
                into destination: UnsafeMutableRawBufferPointer) throws -> (wire: WireCodec, bytes: Int)
    /// Decodes a payload of wire form `wire` holding exactly `destination.count` elements.
    func decode(_ source: UnsafeRawBufferPointer, wire: WireCodec,
                into destination: UnsafeMutableBufferPointer<Float>, mode: DecodeMode) throws
}

/// Shared raw-float decoding, used by every codec for the `rawF32` wire form.
@inline(__always)
func decodeRawF32(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableBufferPointer<Float>,
                  mode: DecodeMode) throws {
    let n = destination.count
    guard source.count == n * 4 else {
        throw CodecError("raw float32 block has \(source.count) bytes, expected \(n * 4)")
    }
    guard n > 0, let src = source.baseAddress, let dst = destination.baseAddress else { return }
    switch mode {
    case .overwrite:
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: n * 4)
    case .accumulate:
        if Int(bitPattern: src) & 3 == 0 {
            let s = src.assumingMemoryBound(to: Float.self)
            for i in 0..<n { dst[i] = s[i] + dst[i] }
        } else {
            for i in 0..<n { dst[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) + dst[i] }
        }
    }
}
