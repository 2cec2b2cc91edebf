/// The protobuf wire format, as much of it as an ONNX model needs: varints (non-negative and
/// two's-complement int64), length-delimited bytes, strings and nested messages, fixed32 and
/// fixed64, and packed floats. Field numbers come from the schema (constants), so a bad one is
/// a programming error, not an input error.
///
/// Written by hand, as Telemetry's TensorBoard writer is, rather than shared with it or taken
/// from a protobuf library: a dozen lines of encoding do not justify a dependency, and keeping
/// the targets apart keeps Telemetry free of model code.
public struct ProtobufWriter {
    public enum WireType: UInt64, Sendable {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Base-128, least significant group first, high bit set on every byte but the last.
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func tag(field: Int, _ wireType: WireType) {
        precondition(field >= 1 && field < 1 << 29, "protobuf field number \(field) out of range")
        varint(UInt64(field) << 3 | wireType.rawValue)
    }

    /// uint64, or an enum / bool / non-negative int.
    public mutating func varint(field: Int, _ value: UInt64) {
        tag(field: field, .varint)
        varint(value)
    }

    /// int64 / int32: a negative value is its 64-bit two's complement, always 10 bytes.
    public mutating func int64(field: Int, _ value: Int64) {
        varint(field: field, UInt64(bitPattern: value))
    }

    public mutating func fixed32(field: Int, _ value: UInt32) {
        tag(field: field, .fixed32)
        appendLittleEndian(value)
    }

    public mutating func fixed64(field: Int, _ value: UInt64) {
        tag(field: field, .fixed64)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// A `float` field: fixed32 holding the IEEE 754 bits.
    public mutating func float(field: Int, _ value: Float) { fixed32(field: field, value.bitPattern) }

    public mutating func lengthDelimited(field: Int, _ payload: [UInt8]) {
        tag(field: field, .lengthDelimited)
        varint(UInt64(payload.count))
        bytes += payload
    }

    public mutating func string(field: Int, _ text: String) { lengthDelimited(field: field, Array(text.utf8)) }

    public mutating func message(field: Int, _ message: ProtobufWriter) { lengthDelimited(field: field, message.bytes) }

    /// A packed `repeated float`: one length-delimited field of little-endian IEEE 754 values.
    public mutating func packedFloats(field: Int, _ values: [Float]) {
        lengthDelimited(field: field, ProtobufWriter.littleEndianBytes(values))
    }

    /// The floats as 4-byte little-endian IEEE 754 values, as ONNX's `raw_data` wants them.
    public static func littleEndianBytes(_ values: [Float]) -> [UInt8] {
        let words = values.map { $0.bitPattern.littleEndian }
        return words.withUnsafeBytes { Array($0) }
    }

    private mutating func appendLittleEndian(_ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }
}
