/// A fast 128-bit hash of decoded pixels, for finding exact duplicates among millions of
/// images: eight 32-bit lanes of xxHash32's round (multiply, rotate, multiply) over 32-byte
/// blocks, folded with the length and the tail into two 64-bit words by splitmix64's
/// finaliser. 32-bit lanes because AVX2 has no 64-bit vector multiply. Not cryptographic: a
/// crafted collision could at worst make `prepare` report (and by default skip) an image as a
/// duplicate of another, which the report shows. SHA-256 took 15% of a 224x224 prepare of
/// 500x375 photos; this takes about 2%.
enum PixelHash {
    static let p1: UInt32 = 0x9E37_79B1, p2: UInt32 = 0x85EB_CA77, p3: UInt64 = 0x1656_67B1_9E37_79F9

    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let (a, b) = hash(bytes)
        return hex64(a) + hex64(b)
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var lanes = SIMD8<UInt32>(0x2452_4F16, 0x81F9_F63C, 0x5E1D_DE4A, 0x06A8_A9C1, 0xC7E0_02B4, 0x1F83_D9AB,
                                  0x5BE0_CD19, 0x6A09_E667)
        let m1 = SIMD8<UInt32>(repeating: p1), m2 = SIMD8<UInt32>(repeating: p2)
        let n = bytes.count
        var i = 0
        while i &+ 32 <= n {
            let w = bytes.loadUnaligned(fromByteOffset: i, as: SIMD8<UInt32>.self)
            lanes = lanes &+ w &* m2
            lanes = (lanes &<< 13) | (lanes &>> 19)
            lanes = lanes &* m1
            i &+= 32
        }
        var fold = UInt64(truncatingIfNeeded: n) &* p3
        var tail: UInt64 = 0, shift: UInt64 = 0
        while i < n {   // leftovers, 8 bytes to a word
            tail |= UInt64(bytes[i]) << shift
            shift &+= 8
            i &+= 1
            if shift == 64 { fold = avalanche(fold ^ tail); tail = 0; shift = 0 }
        }
        fold = avalanche(fold ^ tail)
        func word(_ a: Int, _ b: Int) -> UInt64 { UInt64(lanes[a]) << 32 | UInt64(lanes[b]) }
        let h1 = avalanche(word(0, 1) ^ avalanche(word(2, 3)) ^ fold)
        let h2 = avalanche(word(4, 5) ^ avalanche(word(6, 7)) ^ (fold &* p3))
        return (h1, h2)
    }

    /// splitmix64's finaliser: every input bit reaches every output bit.
    @inline(__always)
    static func avalanche(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func hex64(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
