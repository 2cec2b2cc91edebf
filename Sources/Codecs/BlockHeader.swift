// The 40-byte header in front of every gradient block. All integers little-endian.
//
//  off size field
//    0    1 kind          0x42 ('B'): a gradient block
//    1    1 codec         WireCodec raw value
//    2    1 phase         0 reduce-scatter, 1 all-gather
//    3    1 reserved      0
//    4    4 step          step within the phase
//    8    4 bucket        the caller's bucket id
//   12    4 chunk         ring chunk index (0 ..< world size)
//   16    4 segment       segment index within the chunk
//   20    4 rawLength     bytes of float32 the block decodes to (4 * elements)
//   24    4 encodedLength payload bytes that follow the header
//   28    4 reserved      0
//   32    8 checksum      blockChecksum of the payload (BlockChecksum.swift)

public struct BlockHeader: Equatable, Sendable {
    public static let size = 40
    public static let kindByte: UInt8 = 0x42

    public var codec: WireCodec
    public var phase: UInt8
    public var step: UInt32
    public var bucket: UInt32
    public var chunk: UInt32
    public var segment: UInt32
    public var rawLength: UInt32
    public var encodedLength: UInt32
    public var checksum: UInt64

    public init(codec: WireCodec, phase: UInt8, step: UInt32, bucket: UInt32, chunk: UInt32, segment: UInt32,
                rawLength: UInt32, encodedLength: UInt32, checksum: UInt64) {
        self.codec = codec; self.phase = phase; self.step = step; self.bucket = bucket
        self.chunk = chunk; self.segment = segment; self.rawLength = rawLength
        self.encodedLength = encodedLength; self.checksum = checksum
    }

    /// Writes the 40 header bytes at `p`.
    public func write(to p: UnsafeMutableRawPointer) {
        p.storeBytes(of: BlockHeader.kindByte, toByteOffset: 0, as: UInt8.self)
        p.storeBytes(of: codec.rawValue, toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: phase, toByteOffset: 2, as: UInt8.self)
        p.storeBytes(of: 0, toByteOffset: 3, as: UInt8.self)
        p.storeBytes(of: step.littleEndian, toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: bucket.littleEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: chunk.littleEndian, toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: segment.littleEndian, toByteOffset: 16, as: UInt32.self)
        p.storeBytes(of: rawLength.littleEndian, toByteOffset: 20, as: UInt32.self)
        p.storeBytes(of: encodedLength.littleEndian, toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 28, as: UInt32.self)
        p.storeBytes(of: checksum.littleEndian, toByteOffset: 32, as: UInt64.self)
    }

    /// Parses a header; throws on a wrong kind byte, unknown codec or non-zero reserved bytes.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> BlockHeader {
        guard bytes.count >= size, let p = bytes.baseAddress else {
            throw CodecError("block shorter than its \(size)-byte header (\(bytes.count) bytes)")
        }
        let kind = p.load(fromByteOffset: 0, as: UInt8.self)
        guard kind == kindByte else { throw CodecError("not a block header (kind byte 0x\(String(kind, radix: 16)))") }
        let c = p.load(fromByteOffset: 1, as: UInt8.self)
        guard let codec = WireCodec(rawValue: c) else { throw CodecError("unknown codec id \(c)") }
        guard p.load(fromByteOffset: 3, as: UInt8.self) == 0,
              p.loadUnaligned(fromByteOffset: 28, as: UInt32.self) == 0 else {
            throw CodecError("reserved header bytes are not zero")
        }
        func u32(_ o: Int) -> UInt32 { UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        return BlockHeader(codec: codec, phase: p.load(fromByteOffset: 2, as: UInt8.self), step: u32(4),
                           bucket: u32(8), chunk: u32(12), segment: u32(16), rawLength: u32(20),
                           encodedLength: u32(24),
                           checksum: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: UInt64.self)))
    }
}
