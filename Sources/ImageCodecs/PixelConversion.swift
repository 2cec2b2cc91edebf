// Per-pixel conversions from what a library decoded to the 8-bit grey or RGB we return. Each
// matches a named reference: Pillow's "L" luma and CMYK conversion exactly, and, where Pillow
// has no such step (alpha over white, 16 -> 8 bits by rounding), the exact rounded arithmetic
// written out in the comment, which the tests recompute by hand.

/// Pillow's L24 luma: ITU-R 601-2 weights in 16-bit fixed point (they sum to 65536), rounded.
@inline(__always)
func pillowLuma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    let sum = UInt32(r) * 19595 + UInt32(g) * 38470 + UInt32(b) * 7471 + 0x8000
    return UInt8(truncatingIfNeeded: sum >> 16)
}

/// A sample `c` with alpha `a` over white, 8-bit: round((c*a + 255*(255 - a)) / 255).
/// 255 is odd, so there are no ties: (2n + 255) / 510 is the exact rounding.
@inline(__always)
func overWhite8(_ c: UInt8, _ a: UInt8) -> UInt8 {
    let n = UInt32(c) * UInt32(a) + 255 * (255 - UInt32(a))
    return UInt8(truncatingIfNeeded: (2 * n + 255) / 510)
}

/// A 16-bit sample `c` with 16-bit alpha `a` over white, reduced to 8 bits in one rounding:
/// round((c*a + 65535*(65535 - a)) / 65535 / 257) (x / 257 = x * 255 / 65535). The divisor
/// 65535*257 is odd, so (2n + d) / 2d rounds exactly. With a = 65535 it is round(c / 257).
@inline(__always)
func overWhite16to8(_ c: UInt16, _ a: UInt16) -> UInt8 {
    let n = UInt64(c) * UInt64(a) + 65535 * (65535 - UInt64(a))
    let d: UInt64 = 65535 * 257
    return UInt8(truncatingIfNeeded: (2 * n + d) / (2 * d))
}

/// Pillow's CMYK -> RGB for a JPEG's CMYK samples. Pillow reads every CMYK JPEG as Adobe's
/// inverted CMYK ("CMYK;I": stored 255 means no ink), then computes
/// R = clip(nk - MULDIV255(C, nk)) with nk = 255 - K and MULDIV255(a, b) = ((t >> 8) + t) >> 8,
/// t = a*b + 128. With C = 255 - storedC and nk = storedK this is written out below.
@inline(__always)
func pillowCMYKToRGB(_ c: UInt8, _ m: UInt8, _ y: UInt8, _ k: UInt8) -> (UInt8, UInt8, UInt8) {
    let nk = Int(k)
    @inline(__always) func channel(_ stored: UInt8) -> UInt8 {
        let t = (255 - Int(stored)) * nk + 128
        let v = nk - (((t >> 8) + t) >> 8)
        return UInt8(clamping: v)
    }
    return (channel(c), channel(m), channel(y))
}

/// The pixel layouts the libraries decode into before we convert.
enum SourceLayout {
    case gray8
    case rgb8
    /// Straight (not premultiplied) alpha: composited over white.
    case rgba8
    /// A JPEG's CMYK as TurboJPEG returns it (inverted, Adobe's convention).
    case cmyk8
    /// libspng's RGBA16, host-endian: composited over white and rounded to 8 bits.
    case rgba16

    var bytesPerPixel: Int {
        switch self {
        case .gray8: return 1
        case .rgb8: return 3
        case .rgba8, .cmyk8: return 4
        case .rgba16: return 8
        }
    }
}

/// One source pixel to RGB and to luma. Generic code over these is specialised per layout, so
/// the per-pixel switch happens once per image, not per pixel.
protocol SourcePixel {
    static func rgb(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8)
    static func luma(_ p: UnsafePointer<UInt8>) -> UInt8
}

enum Gray8Pixel: SourcePixel {
    @inline(__always) static func rgb(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8) { (p[0], p[0], p[0]) }
    @inline(__always) static func luma(_ p: UnsafePointer<UInt8>) -> UInt8 { p[0] }
}

enum RGB8Pixel: SourcePixel {
    @inline(__always) static func rgb(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8) { (p[0], p[1], p[2]) }
    @inline(__always) static func luma(_ p: UnsafePointer<UInt8>) -> UInt8 { pillowLuma(p[0], p[1], p[2]) }
}

enum RGBA8Pixel: SourcePixel {
    @inline(__always) static func rgb(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8) {
        (overWhite8(p[0], p[3]), overWhite8(p[1], p[3]), overWhite8(p[2], p[3]))
    }
    @inline(__always) static func luma(_ p: UnsafePointer<UInt8>) -> UInt8 {
        let (r, g, b) = rgb(p)
        return pillowLuma(r, g, b)
    }
}

enum CMYK8Pixel: SourcePixel {
    @inline(__always) static func rgb(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8) {
        pillowCMYKToRGB(p[0], p[1], p[2], p[3])
    }
    @inline(__always) static func luma(_ p: UnsafePointer<UInt8>) -> UInt8 {
        let (r, g, b) = rgb(p)
        return pillowLuma(r, g, b)
    }
}

enum RGBA16Pixel: SourcePixel {
    @inline(__always) static func rgb(_ p: UnsafePointer<UInt8>) -> (UInt8, UInt8, UInt8) {
        let s = UnsafeRawPointer(p)
        let a = s.loadUnaligned(fromByteOffset: 6, as: UInt16.self)
        return (overWhite16to8(s.loadUnaligned(as: UInt16.self), a),
                overWhite16to8(s.loadUnaligned(fromByteOffset: 2, as: UInt16.self), a),
                overWhite16to8(s.loadUnaligned(fromByteOffset: 4, as: UInt16.self), a))
    }
    @inline(__always) static func luma(_ p: UnsafePointer<UInt8>) -> UInt8 {
        let (r, g, b) = rgb(p)
        return pillowLuma(r, g, b)
    }
}
