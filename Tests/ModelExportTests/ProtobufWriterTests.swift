import ModelExport
import XCTest

/// The wire encodings against bytes worked out by hand from the protobuf encoding rules.
final class ProtobufWriterTests: XCTestCase {
    private func varintBytes(_ v: UInt64) -> [UInt8] {
        var w = ProtobufWriter()
        w.varint(v)
        return w.bytes
    }

    func testVarints() {
        XCTAssertEqual(varintBytes(0), [0x00])
        XCTAssertEqual(varintBytes(1), [0x01])
        XCTAssertEqual(varintBytes(127), [0x7F])
        XCTAssertEqual(varintBytes(128), [0x80, 0x01])
        // 300 = 0b10_0101100: low group 0101100 | 0x80 = 0xAC, then 0b10 = 0x02.
        XCTAssertEqual(varintBytes(300), [0xAC, 0x02])
        XCTAssertEqual(varintBytes(16_383), [0xFF, 0x7F])
        XCTAssertEqual(varintBytes(16_384), [0x80, 0x80, 0x01])
        // 2^32: four empty groups of 7 bits (28 bits), then 2^4 = 0x10.
        XCTAssertEqual(varintBytes(1 << 32), [0x80, 0x80, 0x80, 0x80, 0x10])
        XCTAssertEqual(varintBytes(UInt64.max), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    func testNegativeInt64IsTenBytesOfTwosComplement() {
        var w = ProtobufWriter()
        w.int64(field: 3, -1)
        // Tag 3 << 3 | 0 = 0x18, then 64 one-bits: nine 0xFF and a final 0x01.
        XCTAssertEqual(w.bytes, [0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        var two = ProtobufWriter()
        two.int64(field: 1, -2)
        XCTAssertEqual(two.bytes, [0x08, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        var positive = ProtobufWriter()
        positive.int64(field: 1, 150)
        XCTAssertEqual(positive.bytes, [0x08, 0x96, 0x01], "the example of the protobuf encoding guide")
    }

    func testTagsAndFixedWidthFields() {
        var w = ProtobufWriter()
        w.float(field: 2, 1.0)              // 1.0f = 0x3F800000, little-endian
        w.fixed32(field: 5, 0x0102_0304)
        w.fixed64(field: 1, 0x0102_0304_0506_0708)
        w.varint(field: 20, 7)               // a two-byte tag: 20 << 3 = 160 = 0xA0 0x01
        XCTAssertEqual(w.bytes, [0x15, 0x00, 0x00, 0x80, 0x3F,
                                 0x2D, 0x04, 0x03, 0x02, 0x01,
                                 0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                                 0xA0, 0x01, 0x07])
    }

    func testLengthDelimitedStringsMessagesAndPackedFloats() {
        var inner = ProtobufWriter()
        inner.varint(field: 1, 150)
        var w = ProtobufWriter()
        w.string(field: 2, "testing")
        w.message(field: 3, inner)
        w.packedFloats(field: 4, [1.0, -2.0])
        w.string(field: 1, "")
        XCTAssertEqual(w.bytes, [0x12, 0x07] + Array("testing".utf8)
                       + [0x1A, 0x03, 0x08, 0x96, 0x01]
                       + [0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0]
                       + [0x0A, 0x00])
        // A payload of 200 bytes takes a two-byte length.
        var long = ProtobufWriter()
        long.lengthDelimited(field: 9, [UInt8](repeating: 7, count: 200))
        XCTAssertEqual(Array(long.bytes.prefix(3)), [0x4A, 0xC8, 0x01])
        XCTAssertEqual(long.bytes.count, 203)
    }

    /// AttributeProto with its `type` discriminator, which onnx.checker requires.
    func testAttributeEncodingCarriesItsType() {
        XCTAssertEqual(ONNXAttribute.int("axis", 1).encoded().bytes,
                       [0x0A, 0x04] + Array("axis".utf8) + [0x18, 0x01, 0xA0, 0x01, 0x02])
        XCTAssertEqual(ONNXAttribute.ints("pads", [1, 0]).encoded().bytes,
                       [0x0A, 0x04] + Array("pads".utf8) + [0x40, 0x01, 0x40, 0x00, 0xA0, 0x01, 0x07])
        XCTAssertEqual(ONNXAttribute.float("alpha", 0.5).encoded().bytes,
                       [0x0A, 0x05] + Array("alpha".utf8) + [0x15, 0x00, 0x00, 0x00, 0x3F, 0xA0, 0x01, 0x01])
    }

    func testTensorUsesRawLittleEndianData() {
        let t = ONNXTensor(name: "w", dims: [2, 1], values: [1.0, 2.0])
        XCTAssertEqual(t.encoded().bytes, [0x08, 0x02, 0x08, 0x01,          // dims 2, 1
                                           0x10, 0x01,                      // data_type FLOAT
                                           0x42, 0x01, 0x77,                // name "w"
                                           0x4A, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40])
    }
}
