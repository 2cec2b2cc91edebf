// Byte shuffling: float32 -> 4 byte planes (all byte 0s, then all byte 1s, ...), and
// bfloat16 -> 2 planes. Exponent bytes of neighbouring gradients are alike, so the planes
// compress much better than interleaved bytes.

/// Writes the 4 byte planes of `count` float32 at `source` to `planes` (4*count bytes).
@inline(__always)
func shuffle4(_ source: UnsafePointer<Float>, count n: Int, into planes: UnsafeMutablePointer<UInt8>) {
    let s = UnsafeRawPointer(source).assumingMemoryBound(to: UInt32.self)
    let p0 = planes, p1 = planes + n, p2 = planes + 2 * n, p3 = planes + 3 * n
    for i in 0..<n {
        let v = s[i]
        p0[i] = UInt8(truncatingIfNeeded: v)
        p1[i] = UInt8(truncatingIfNeeded: v >> 8)
        p2[i] = UInt8(truncatingIfNeeded: v >> 16)
        p3[i] = UInt8(truncatingIfNeeded: v >> 24)
    }
}

/// Inverse of `shuffle4`, overwriting or accumulating into `destination`.
@inline(__always)
func unshuffle4(_ planes: UnsafePointer<UInt8>, count n: Int, into destination: UnsafeMutablePointer<Float>,
                accumulate: Bool) {
    let p0 = planes, p1 = planes + n, p2 = planes + 2 * n, p3 = planes + 3 * n
    if accumulate {
        for i in 0..<n {
            let v = UInt32(p0[i]) | UInt32(p1[i]) << 8 | UInt32(p2[i]) << 16 | UInt32(p3[i]) << 24
            destination[i] = Float(bitPattern: v) + destination[i]
        }
    } else {
        let d = UnsafeMutableRawPointer(destination).assumingMemoryBound(to: UInt32.self)
        for i in 0..<n {
            d[i] = UInt32(p0[i]) | UInt32(p1[i]) << 8 | UInt32(p2[i]) << 16 | UInt32(p3[i]) << 24
        }
    }
}

/// Round to nearest even float32 -> bfloat16 bits. NaN stays a (quiet) NaN.
@inline(__always)
public func bfloat16Bits(_ x: Float) -> UInt16 {
    let bits = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
}

/// bfloat16 bits -> float32 (exact).
@inline(__always)
public func floatFromBFloat16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
