import CSparsePlanes
import Codecs
import XCTest

/// The sparse-planes payload (wire ids 4 and 5): the AVX2 loops against their portable
/// reference, exact round trips of zero-heavy data, the +0.0 rule, and every malformed
/// payload a peer could send.
final class SparsePlanesTests: XCTestCase {
    static let counts = [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099]

    /// Bit patterns with the zero layouts that matter: none, all, runs that start and end
    /// inside groups of 8, scattered, alternating; plus -0.0, NaN, infinity and subnormals.
    static func patterns(_ n: Int) -> [(String, [UInt32])] {
        var state: UInt64 = 0x5EED &+ UInt64(n)
        func next() -> UInt32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: state >> 32)
        }
        func value() -> UInt32 { let v = next(); return v == 0 ? 1 : v }
        var special = (0..<n).map { _ in value() }
        let specials: [Float] = [-0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNormalMagnitude]
        for (j, f) in specials.enumerated() where j < n { special[j] = f.bitPattern }
        return [
            ("dense", (0..<n).map { _ in value() }),
            ("zeros", [UInt32](repeating: 0, count: n)),
            ("runs", (0..<n).map { i in (i / 13) % 3 == 0 ? 0 : value() }),
            ("scattered", (0..<n).map { _ in next() % 3 == 0 ? 0 : value() }),
            ("alternating", (0..<n).map { i in i % 2 == 0 ? 0 : value() }),
            ("special", special),
        ]
    }

    func split(_ v: [UInt32], width: Int, portable: Bool) -> (mask: [UInt8], high: [UInt8], low: [[UInt8]], k: Int) {
        let n = v.count, stride = n + Int(RT_SPARSE_SLACK)
        var mask = [UInt8](repeating: 0xAA, count: (n + 7) / 8)
        var high = [UInt8](repeating: 0, count: stride)
        var low = [UInt8](repeating: 0, count: (width - 1) * stride + 1)
        let source: [UInt8] = width == 4 ? v.withUnsafeBytes { Array($0) }
                                         : v.map { UInt16(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
        let k = source.withUnsafeBytes { s in
            mask.withUnsafeMutableBufferPointer { m in high.withUnsafeMutableBufferPointer { h in low.withUnsafeMutableBufferPointer { l in
                portable ? rt_split_sparse_portable(s.baseAddress, n, Int32(width), m.baseAddress, h.baseAddress, l.baseAddress, stride)
                         : rt_split_sparse(s.baseAddress, n, Int32(width), m.baseAddress, h.baseAddress, l.baseAddress, stride)
            } } }
        }
        let planes = (0..<(width - 1)).map { Array(low[($0 * stride)..<($0 * stride + k)]) }
        return (mask, Array(high[0..<k]), planes, k)
    }

    func testVectorSplitAndExpandMatchThePortableReference() {
        for width in [4, 2] {
            for n in Self.counts {
                for (name, raw) in Self.patterns(n) {
                    let v = width == 4 ? raw : raw.map { $0 & 0xFFFF }
                    let label = "width \(width) n=\(n) \(name)"
                    let fast = split(v, width: width, portable: false)
                    let ref = split(v, width: width, portable: true)
                    XCTAssertEqual(fast.k, v.filter { $0 != 0 }.count, label)
                    XCTAssertEqual(fast.k, ref.k, label)
                    XCTAssertEqual(fast.mask, ref.mask, label)
                    XCTAssertEqual(fast.high, ref.high, label)
                    XCTAssertEqual(fast.low, ref.low, label)
                    // Expand (planes k apart, as in a payload) both ways, overwrite and accumulate.
                    let packedLow = fast.low.flatMap { $0 }
                    let expected = v.map { Float(bitPattern: width == 4 ? $0 : $0 << 16) }
                    for accumulate in [false, true] {
                        let start = (0..<n).map { Float($0 % 5) - 2.0 }
                        var a = start, b = start
                        for portable in [false, true] {
                            fast.mask.withUnsafeBufferPointer { m in fast.high.withUnsafeBufferPointer { h in packedLow.withUnsafeBufferPointer { l in
                                if portable {
                                    b.withUnsafeMutableBufferPointer { rt_expand_sparse_portable(m.baseAddress, h.baseAddress, l.baseAddress, fast.k, n, Int32(width), $0.baseAddress, accumulate ? 1 : 0) }
                                } else {
                                    a.withUnsafeMutableBufferPointer { rt_expand_sparse(m.baseAddress, h.baseAddress, l.baseAddress, fast.k, n, Int32(width), $0.baseAddress, accumulate ? 1 : 0) }
                                }
                            } } }
                        }
                        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(label) accumulate=\(accumulate)")
                        let want = accumulate ? zip(expected, start).map { $0 + $1 } : expected
                        XCTAssertEqual(a.map(\.bitPattern), want.map(\.bitPattern), "\(label) accumulate=\(accumulate)")
                    }
                }
            }
        }
    }

    func testZeroHeavyBlocksRoundTripExactlyAndShrink() throws {
        for config in [CodecConfig(.zstd, zstdLevel: 1), CodecConfig(.zstd, zstdLevel: -5), CodecConfig(.bf16Zstd, zstdLevel: 1)] {
            let codec = config.makeCodec()
            for n in Self.counts + [65_536, 65_539] {
                for (name, bits) in Self.patterns(n) {
                    let x = bits.map { Float(bitPattern: $0) }
                    var noResidual: [Float]? = nil
                    let (wire, bytes, y) = try roundTrip(codec, x, residual: &noResidual)
                    let want = config.kind.isLossy ? x.map { floatFromBFloat16(bfloat16Bits($0)) } : x
                    XCTAssertEqual(y.map(\.bitPattern), want.map(\.bitPattern), "\(config) n=\(n) \(name)")
                    if n >= 1000 && (name == "runs" || name == "zeros") {
                        XCTAssertEqual(wire, config.kind.isLossy ? .sparseBF16 : .sparseF32, "\(config) n=\(n) \(name)")
                        // Zeros cost at most their bit in the bitmap (these values have random
                        // high bytes, so the non-zeros do not shrink).
                        let kept = want.filter { $0.bitPattern != 0 }.count
                        XCTAssertLessThanOrEqual(bytes, kept * (config.kind.isLossy ? 2 : 4) + (n + 7) / 8 + 64, "\(config) n=\(n) \(name)")
                    }
                }
            }
        }
    }

    /// A zero position adds +0.0 in accumulate mode, as the raw form does: -0.0 becomes +0.0,
    /// so a ring sum is the same bytes whichever wire form a block took.
    func testAccumulateAddsPositiveZeroLikeTheRawForm() throws {
        let n = 4096
        let x = (0..<n).map { i -> Float in (i / 40) % 2 == 0 ? 0 : Float(i) * 0.25 }
        let start = (0..<n).map { i -> Float in i % 3 == 0 ? -0.0 : Float(i % 7) - 3 }
        let raw = zip(x, start).map { $0 + $1 }
        let codec = ZstdCodec(level: 1)
        var enc = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: n))
        let (wire, k) = try x.withUnsafeBufferPointer { s in try enc.withUnsafeMutableBytes { try codec.encode(s, residual: nil, into: $0) } }
        XCTAssertEqual(wire, .sparseF32)
        var acc = start
        try enc.withUnsafeBytes { b in try acc.withUnsafeMutableBufferPointer {
            try codec.decode(UnsafeRawBufferPointer(rebasing: b[0..<k]), wire: wire, into: $0, mode: .accumulate) } }
        XCTAssertEqual(acc.map(\.bitPattern), raw.map(\.bitPattern))
        XCTAssertTrue(acc.contains { $0 == 0 && $0.sign == .plus })
    }

    /// Every field of a sparse payload a peer could lie about ends in a named error.
    func testMalformedPayloadsAreNamedErrors() throws {
        let n = 1003   // not a multiple of 8: the last bitmap byte has unused bits
        // Random mantissas, so the low planes are stored and every length must add up exactly.
        var state: UInt64 = 77
        let x = (0..<n).map { i -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (i / 50) % 2 == 0 ? 0 : Float(bitPattern: 0x3F80_0000 | UInt32(truncatingIfNeeded: state >> 41))
        }
        for config in [CodecConfig(.zstd), CodecConfig(.bf16Zstd)] {
            let codec = config.makeCodec()
            var enc = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: n))
            let (wire, bytes) = try x.withUnsafeBufferPointer { s in try enc.withUnsafeMutableBytes { try codec.encode(s, residual: nil, into: $0) } }
            let good = Array(enc[0..<bytes])
            func expectError(_ payload: [UInt8], count: Int = n, _ fragment: String, line: UInt = #line) {
                var out = [Float](repeating: 0, count: count)
                XCTAssertThrowsError(try payload.withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer {
                    try codec.decode(b, wire: wire, into: $0, mode: .overwrite) } }, "\(config)", line: line) { error in
                    XCTAssertTrue("\(error)".contains(fragment), "\(config): \(error) lacks '\(fragment)'", line: line)
                }
            }
            func patched(_ offset: Int, _ value: UInt32) -> [UInt8] {
                var p = good
                withUnsafeBytes(of: value.littleEndian) { for j in 0..<4 { p[offset + j] = $0[j] } }
                return p
            }
            let k = good.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) }
            let maskLen = good.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))) }
            XCTAssertEqual(wire, config.kind.isLossy ? .sparseBF16 : .sparseF32)
            XCTAssertEqual(k, x.filter { $0 != 0 }.count)
            expectError(Array(good[0..<10]), "shorter than its 16-byte header")
            var flags = good; flags[0] |= 0x80
            expectError(flags, "unknown flags")
            var reserved = good; reserved[2] = 1
            expectError(reserved, "non-zero reserved bytes")
            expectError(patched(4, UInt32(n + 1)), "claims \(n + 1) non-zero elements of \(n)")
            expectError(patched(4, UInt32(k - 1)), "do not add up")
            expectError(patched(8, UInt32(maskLen + 1)), "do not add up")
            expectError(patched(8, UInt32.max), "do not add up")
            expectError(Array(good.dropLast()), "do not add up")
            expectError(good, count: n - 8, "bitmap")   // the bitmap was cut for n, one byte longer
            // A raw bitmap that marks the wrong number of elements, or bits past n.
            let rawMask = (0..<(n + 7) / 8).map { b -> UInt8 in
                var bits: UInt8 = 0
                for j in 0..<8 where 8 * b + j < n && x[8 * b + j] != 0 { bits |= 1 << UInt8(j) }
                return bits
            }
            let rest = Array(good[(16 + maskLen)...])
            func withRawMask(_ m: [UInt8]) -> [UInt8] {
                var header = Array(good[0..<16])
                header[0] &= ~1   // flags bit 0: bitmap compressed
                withUnsafeBytes(of: UInt32(m.count).littleEndian) { for j in 0..<4 { header[8 + j] = $0[j] } }
                return header + m + rest
            }
            var out = [Float](repeating: 0, count: n)
            try withRawMask(rawMask).withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer {
                try codec.decode(b, wire: wire, into: $0, mode: .overwrite) } }
            let want = config.kind.isLossy ? x.map { floatFromBFloat16(bfloat16Bits($0)) } : x
            XCTAssertEqual(out.map(\.bitPattern), want.map(\.bitPattern), "the hand-built raw bitmap decodes")
            var extraBit = rawMask; extraBit[0] ^= 1
            expectError(withRawMask(extraBit), "marks")
            var pastEnd = rawMask
            if let i = pastEnd.indices.last { pastEnd[i] |= 0x80 }
            pastEnd[pastEnd.count - 2] &= 0x7F   // keep the count of ones
            expectError(withRawMask(pastEnd), "past its \(n)")
            expectError(withRawMask(Array(rawMask.dropLast())), "raw bitmap has \(rawMask.count - 1) bytes")
        }
        // Repeated values: the low planes become a zstd frame, the rest of the payload.
        let repeated = (0..<n).map { i -> Float in (i / 50) % 2 == 0 ? 0 : 0.123 }
        for config in [CodecConfig(.zstd), CodecConfig(.bf16Zstd)] {
            let codec = config.makeCodec()
            var enc = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: n))
            let (wire, bytes) = try repeated.withUnsafeBufferPointer { s in try enc.withUnsafeMutableBytes { try codec.encode(s, residual: nil, into: $0) } }
            XCTAssertEqual(enc[0] & 4, 4, "\(config): low planes not compressed")
            XCTAssertLessThan(bytes, n / 4, "\(config)")
            var out = [Float](repeating: 1, count: n)
            try enc.withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer {
                try codec.decode(UnsafeRawBufferPointer(rebasing: b[0..<bytes]), wire: wire, into: $0, mode: .overwrite) } }
            let want = config.kind.isLossy ? repeated.map { floatFromBFloat16(bfloat16Bits($0)) } : repeated
            XCTAssertEqual(out.map(\.bitPattern), want.map(\.bitPattern), "\(config)")
            XCTAssertThrowsError(try enc.withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer {
                try codec.decode(UnsafeRawBufferPointer(rebasing: b[0..<(bytes - 1)]), wire: wire, into: $0, mode: .overwrite) } }) { error in
                XCTAssertTrue("\(error)".contains("low planes"), "\(config): \(error)")
            }
        }
    }
}
