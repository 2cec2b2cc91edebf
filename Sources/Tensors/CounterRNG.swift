#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11).
//
// Every random choice in RingTrain (initialisation, shuffling, augmentation, dropout) is a
// pure function of a key and a counter, never of hidden generator state. That is what makes
// a run resumed from a checkpoint, or resharded over a different world size, draw exactly
// the same numbers as an uninterrupted run (DESIGN.md §4).

/// What a random stream is used for. Part of the key, so two purposes never share numbers.
public enum RandomPurpose: UInt32, Sendable {
    case initialisation = 1
    case shuffle = 2
    case augmentation = 3
    case dropout = 4
    case split = 5
    case oversampling = 6
    case synthetic = 7
    case hyperparameterSearch = 8
    /// Colour and crop augmentation of images (one stream per operation, see Datasets).
    case imageAugmentation = 9
    /// MixUp / CutMix of a batch.
    case batchMixing = 10
}

/// Philox4x32 with 10 rounds: a bijection of a 128-bit counter under a 64-bit key.
@inlinable
public func philox4x32(_ counter: SIMD4<UInt32>, key: SIMD2<UInt32>) -> SIMD4<UInt32> {
    // Multipliers and Weyl constants from the Random123 reference implementation.
    let m0: UInt64 = 0xD251_1F53, m1: UInt64 = 0xCD9E_8D57
    let w0: UInt32 = 0x9E37_79B9, w1: UInt32 = 0xBB67_AE85
    var c = counter
    var k = key
    for _ in 0..<10 {
        let p0 = m0 &* UInt64(c[0])
        let p1 = m1 &* UInt64(c[2])
        c = SIMD4(UInt32(truncatingIfNeeded: p1 >> 32) ^ c[1] ^ k[0],
                  UInt32(truncatingIfNeeded: p1),
                  UInt32(truncatingIfNeeded: p0 >> 32) ^ c[3] ^ k[1],
                  UInt32(truncatingIfNeeded: p0))
        k = SIMD2(k[0] &+ w0, k[1] &+ w1)
    }
    return c
}

/// A stream of random numbers identified by (seed, purpose, a, b).
///
/// `a` and `b` are the caller's coordinates, for example (epoch, global sample index) for
/// augmentation or (step, layer) for dropout. Drawing is sequential within one stream, but the
/// stream itself is addressed, so any stream can be recomputed in isolation.
/// Counter layout: [block, a, b.lo, b.hi]; key: (seed.lo ^ purpose-mix, seed.hi).
public struct CounterRNG: RandomNumberGenerator, Sendable {
    public let key: SIMD2<UInt32>
    public let a: UInt32
    public let b: UInt64
    @usableFromInline var block: UInt32 = 0
    @usableFromInline var buffer = SIMD4<UInt32>()
    @usableFromInline var used = 4

    public init(seed: UInt64, purpose: RandomPurpose, a: UInt64 = 0, b: UInt64 = 0) {
        precondition(a <= UInt64(UInt32.max), "CounterRNG coordinate a must fit 32 bits")
        key = SIMD2(UInt32(truncatingIfNeeded: seed) ^ (purpose.rawValue &* 0x9E37_79B9),
                    UInt32(truncatingIfNeeded: seed >> 32))
        self.a = UInt32(a)
        self.b = b
    }

    /// Jumps to a block of the stream (four 32-bit words per block), for random access.
    public init(seed: UInt64, purpose: RandomPurpose, a: UInt64, b: UInt64, block: UInt32) {
        self.init(seed: seed, purpose: purpose, a: a, b: b)
        self.block = block
    }

    @inlinable
    public mutating func next32() -> UInt32 {
        if used == 4 { refill() }
        let v = buffer[used]
        used &+= 1
        return v
    }

    @inlinable
    mutating func refill() {
        let counter = SIMD4<UInt32>(block, a, UInt32(truncatingIfNeeded: b), UInt32(truncatingIfNeeded: b >> 32))
        buffer = philox4x32(counter, key: key)
        block &+= 1
        used = 0
    }

    public mutating func next() -> UInt64 {
        let hi = UInt64(next32())
        return (hi << 32) | UInt64(next32())
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inlinable
    public mutating func nextUnitFloat() -> Float {
        Float(next32() >> 8) * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in 0..<bound without modulo bias.
    public mutating func nextBelow(_ bound: Int) -> Int {
        precondition(bound > 0, "nextBelow needs a positive bound")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Standard normal by Box-Muller (one value per call; the twin is discarded so the
    /// stream position stays a simple function of the number of draws).
    public mutating func nextNormal() -> Float {
        var u1 = nextUnitFloat()
        if u1 < 1e-7 { u1 = 1e-7 }
        let u2 = nextUnitFloat()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
}

