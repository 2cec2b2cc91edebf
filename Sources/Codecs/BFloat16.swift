// float32 <-> bfloat16 (the upper 16 bits of a float32), for the lossy codec.

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
