import Codecs
import XCTest

/// A gradient-like test signal (the codec benchmark's generator, no zeros), fixed seed.
func gradientLike(_ n: Int, seed: UInt64 = 1) -> [Float] {
    syntheticGradient(count: n, zeroFraction: 0, seed: seed)
}

/// Encodes `x` with `codec` (with the residual when given) and decodes it back.
func roundTrip(_ codec: BlockCodec, _ x: [Float], residual: inout [Float]?) throws -> (WireCodec, Int, [Float]) {
    var enc = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: x.count))
    let (wire, n) = try x.withUnsafeBufferPointer { src in
        try enc.withUnsafeMutableBytes { dst in
            if residual != nil {
                return try residual!.withUnsafeMutableBufferPointer { r in try codec.encode(src, residual: r, into: dst) }
            }
            return try codec.encode(src, residual: nil, into: dst)
        }
    }
    var out = [Float](repeating: .nan, count: x.count)
    try enc.withUnsafeBytes { b in
        try out.withUnsafeMutableBufferPointer { d in
            try codec.decode(UnsafeRawBufferPointer(rebasing: b[0..<n]), wire: wire, into: d, mode: .overwrite)
        }
    }
    return (wire, n, out)
}

final class CodecsTests: XCTestCase {
    let counts = [0, 1, 7, 1000, 65_539]

    func testLosslessCodecsRoundTripExactly() throws {
        for config in [CodecConfig(.none), CodecConfig(.zstd, zstdLevel: 1), CodecConfig(.zstd, zstdLevel: -5),
                       CodecConfig(.zstd, zstdLevel: 3)] {
            let codec = config.makeCodec()
            for n in counts {
                var x = gradientLike(n, seed: UInt64(n))
                if n > 3 { x[0] = .infinity; x[1] = -0.0; x[2] = .nan; x[3] = .leastNonzeroMagnitude }
                var r: [Float]? = nil
                let (_, _, y) = try roundTrip(codec, x, residual: &r)
                XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), "\(config) n=\(n)")
            }
        }
    }

    func testZstdCompressesGradientsAndFallsBackOnNoise() throws {
        let codec = ZstdCodec(level: 1)
        let x = gradientLike(100_000)
        var r: [Float]? = nil
        let (wire, n, _) = try roundTrip(codec, x, residual: &r)
        XCTAssertEqual(wire, .sparseF32)
        // Dense normal values with random mantissas: ~1.1x is all there is (real gradients, with
        // their zeros, give more); it must at least not grow.
        XCTAssertLessThan(n, x.count * 4 * 100 / 105, "expected at least 1.05x on gradient-like data")
        // Pure random bits do not compress: stored raw.
        var state: UInt64 = 12345
        let noise = (0..<5000).map { _ -> Float in state = state &* 6364136223846793005 &+ 1442695040888963407; return Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32)) }
        let (w2, n2, y2) = try roundTrip(codec, noise, residual: &r)
        XCTAssertEqual(w2, .rawF32)
        XCTAssertEqual(n2, noise.count * 4)
        XCTAssertEqual(noise.map(\.bitPattern), y2.map(\.bitPattern))
    }

    func testAccumulateAddsDecodedValues() throws {
        for config in [CodecConfig(.none), CodecConfig(.zstd), CodecConfig(.bf16Zstd)] {
            let codec = config.makeCodec()
            let x: [Float] = (0..<1000).map { Float($0) }
            var enc = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: x.count))
            let (wire, n) = try x.withUnsafeBufferPointer { s in try enc.withUnsafeMutableBytes { try codec.encode(s, residual: nil, into: $0) } }
            var acc = [Float](repeating: 0.5, count: x.count)
            try enc.withUnsafeBytes { b in try acc.withUnsafeMutableBufferPointer {
                try codec.decode(UnsafeRawBufferPointer(rebasing: b[0..<n]), wire: wire, into: $0, mode: .accumulate) } }
            for i in 0..<x.count { XCTAssertEqual(acc[i], (config.kind.isLossy ? floatFromBFloat16(bfloat16Bits(x[i])) : x[i]) + 0.5, "\(config)") }
        }
    }

    func testBFloat16RoundsToNearestEven() {
        XCTAssertEqual(bfloat16Bits(1.0), 0x3F80)
        // 1 + 2^-8 is exactly half-way between 1 and 1 + 2^-7: ties to even (1.0).
        XCTAssertEqual(bfloat16Bits(1 + 1.0 / 256), 0x3F80)
        // 1 + 3*2^-8 is half-way between 1+2^-7 (odd) and 1+2^-6: ties to even (up).
        XCTAssertEqual(bfloat16Bits(1 + 3.0 / 256), 0x3F82)
        XCTAssertEqual(bfloat16Bits(1 + 1.0 / 256 + 1.0 / 65536), 0x3F81)
        XCTAssertEqual(bfloat16Bits(-2.0), 0xC000)
        XCTAssertEqual(bfloat16Bits(.infinity), 0x7F80)
        XCTAssertTrue(floatFromBFloat16(bfloat16Bits(.nan)).isNaN)
        XCTAssertEqual(bfloat16Bits(Float.greatestFiniteMagnitude), 0x7F80) // rounds up to inf
    }

    func testBF16ErrorFeedbackResidualAndConvergence() throws {
        let codec = BF16ZstdCodec(level: 1)
        let n = 1000
        let x = gradientLike(n, seed: 7)
        var residual: [Float]? = [Float](repeating: 0, count: n)
        var exact = [Double](repeating: 0, count: n)
        var decodedSum = [Double](repeating: 0, count: n)
        for _ in 0..<200 {
            let (_, _, y) = try roundTrip(codec, x, residual: &residual)
            for i in 0..<n {
                exact[i] += Double(x[i]); decodedSum[i] += Double(y[i])
                // Each decoded value is within bf16 rounding of its input (plus the residual).
                XCTAssertLessThanOrEqual(abs(y[i] - x[i]), abs(x[i]) * (1.0 / 128) + 1e-30)
            }
        }
        // Running sum error stays bounded by one rounding step instead of growing with steps.
        for i in 0..<n {
            XCTAssertLessThanOrEqual(abs(decodedSum[i] - exact[i]), Double(abs(x[i])) * (1.0 / 128) + 1e-12, "element \(i)")
        }
        // Without feedback the drift would be ~200x larger for most elements.
        var none: [Float]? = nil
        let (_, _, y) = try roundTrip(codec, x, residual: &none)
        let drift = (0..<n).map { abs(Double(y[$0]) - Double(x[$0])) * 200 }.reduce(0, +)
        let withFeedback = (0..<n).map { abs(decodedSum[$0] - exact[$0]) }.reduce(0, +)
        XCTAssertLessThan(withFeedback * 10, drift)
    }

    func testResidualStoreGetSetSnapshot() {
        let store = ResidualStore()
        let b = store.buffer(bucket: 3, count: 4)
        XCTAssertEqual(Array(b), [0, 0, 0, 0])
        b[1] = 2.5
        XCTAssertEqual(store.get(bucket: 3), [0, 2.5, 0, 0])
        store.set(bucket: 5, [1, 2])
        XCTAssertEqual(store.buckets, [3, 5])
        let snap = store.snapshot()
        store.reset()
        XCTAssertNil(store.get(bucket: 3))
        store.restore(snap)
        XCTAssertEqual(store.get(bucket: 5), [1, 2])
        XCTAssertEqual(Array(store.buffer(bucket: 5, count: 2)), [1, 2])
    }

    func testXXH64KnownValues() {
        // Reference values of XXH64 with seed 0 (low 32 bits cross-checked with `zstd --check`).
        XCTAssertEqual(xxh64(UnsafeRawBufferPointer(start: nil, count: 0)), 0xEF46DB3751D8E999)
        let abc = Array("abc".utf8)
        XCTAssertEqual(abc.withUnsafeBytes { xxh64($0) }, 0x44BC2CF5AD770999)
        let long = Array("Nobody inspects the spammish repetition".utf8)
        XCTAssertEqual(long.withUnsafeBytes { xxh64($0) }, 0xFBCEA83C8A378BF1)
    }

    func testBlockChecksumDetectsChangesAndMatchesItsDefinition() {
        var state: UInt64 = 3
        for n in [0, 1, 5, 31, 32, 33, 100, 4099] {
            let bytes = (0..<n).map { _ -> UInt8 in state = state &* 6364136223846793005 &+ 1; return UInt8(truncatingIfNeeded: state >> 40) }
            // Reference: the documented definition, written with scalar loops.
            var s1 = [UInt32](repeating: 0, count: 8), s2 = s1
            let padded = bytes + [UInt8](repeating: 0, count: (32 - n % 32) % 32)
            for b in stride(from: 0, to: padded.count, by: 32) {
                for k in 0..<8 {
                    let o = b + 4 * k
                    s1[k] &+= UInt32(padded[o]) | UInt32(padded[o + 1]) << 8 | UInt32(padded[o + 2]) << 16 | UInt32(padded[o + 3]) << 24
                    s2[k] &+= s1[k]
                }
            }
            let ref = (s1 + s2).withUnsafeBytes { xxh64($0.baseAddress, count: 64, seed: UInt64(n)) }
            let h = bytes.withUnsafeBytes { blockChecksum($0) }
            XCTAssertEqual(h, ref, "n=\(n)")
            for i in Swift.stride(from: 0, to: n, by: max(1, n / 7)) {
                var c = bytes; c[i] ^= 0x10
                XCTAssertNotEqual(c.withUnsafeBytes { blockChecksum($0) }, h, "flip at \(i) of \(n)")
            }
            if n >= 64 {   // swapped 32-byte blocks
                var c = bytes; c.swapAt(0, 32)
                if c != bytes { XCTAssertNotEqual(c.withUnsafeBytes { blockChecksum($0) }, h) }
            }
        }
        // Trailing zeros change the length, hence the checksum.
        XCTAssertNotEqual([UInt8](repeating: 0, count: 3).withUnsafeBytes { blockChecksum($0) },
                          [UInt8](repeating: 0, count: 4).withUnsafeBytes { blockChecksum($0) })
    }

    func testFusedAccumulateMatchesChecksumAndSum() {
        for n in [1, 7, 8, 9, 1000, 4099] {
            let src = gradientLike(n, seed: 11)
            var dst = gradientLike(n, seed: 12)
            let expected = zip(src, dst).map { $0 + $1 }
            let h = src.withUnsafeBytes { s in dst.withUnsafeMutableBufferPointer { accumulateRawF32WithChecksums(s.baseAddress!, into: $0.baseAddress!, count: n) } }
            XCTAssertEqual(h.payload, src.withUnsafeBytes { blockChecksum($0) }, "n=\(n)")
            XCTAssertEqual(dst.map(\.bitPattern), expected.map(\.bitPattern), "n=\(n)")
            XCTAssertEqual(h.sums, dst.withUnsafeBytes { blockChecksum($0) }, "n=\(n)")
        }
    }

    func testBlockHeaderRoundTripAndRejects() throws {
        let h = BlockHeader(codec: .sparseBF16, phase: 1, step: 2, bucket: 7, chunk: 3, segment: 9,
                            rawLength: 4000, encodedLength: 1234, checksum: 0x0123456789ABCDEF)
        var bytes = [UInt8](repeating: 0, count: BlockHeader.size)
        bytes.withUnsafeMutableBytes { h.write(to: $0.baseAddress!) }
        XCTAssertEqual(try bytes.withUnsafeBytes { try BlockHeader.parse($0) }, h)
        var bad = bytes; bad[0] = 0x41
        XCTAssertThrowsError(try bad.withUnsafeBytes { try BlockHeader.parse($0) })
        bad = bytes; bad[1] = 99
        XCTAssertThrowsError(try bad.withUnsafeBytes { try BlockHeader.parse($0) })
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try BlockHeader.parse(UnsafeRawBufferPointer(rebasing: $0[0..<39])) })
    }

    func testCorruptZstdPayloadIsAnErrorNotACrash() throws {
        let codec = ZstdCodec()
        let x = gradientLike(4096)
        var enc = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: x.count))
        let (wire, n) = try x.withUnsafeBufferPointer { s in try enc.withUnsafeMutableBytes { try codec.encode(s, residual: nil, into: $0) } }
        var out = [Float](repeating: 0, count: x.count)
        var state: UInt64 = 99
        for _ in 0..<200 {
            var e = Array(enc[0..<n])
            state = state &* 6364136223846793005 &+ 1442695040888963407
            e[Int(state >> 33) % n] ^= UInt8(truncatingIfNeeded: state | 1)
            _ = try? e.withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer { try codec.decode(b, wire: wire, into: $0, mode: .overwrite) } }
            // Wrong element count must fail.
            XCTAssertThrowsError(try e.withUnsafeBytes { b in try out.withUnsafeMutableBufferPointer {
                try codec.decode(b, wire: wire, into: UnsafeMutableBufferPointer(rebasing: $0[0..<100]), mode: .overwrite) } })
        }
    }

    func testCodecConfigParsing() {
        XCTAssertEqual(CodecConfig(parsing: "none"), CodecConfig(.none))
        XCTAssertEqual(CodecConfig(parsing: "zstd:-3"), CodecConfig(.zstd, zstdLevel: -3))
        XCTAssertEqual(CodecConfig(parsing: "bf16-zstd"), CodecConfig(.bf16Zstd))
        XCTAssertNil(CodecConfig(parsing: "gzip"))
        XCTAssertNil(CodecConfig(parsing: "none:3"))
    }
}
