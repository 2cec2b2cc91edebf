// Hue rotation through HSV, torchvision's _rgb_to_hsv / _hsv_to_rgb (transforms.v2.functional
// _color.py, itself after Pillow's Convert.c) step for step in Float.

/// (h, s, v) of one RGB pixel, h in [0, 1).
@inline(__always)
func rgbToHSV(_ r: Float, _ g: Float, _ b: Float) -> (Float, Float, Float) {
    let maxc = max(r, max(g, b)), minc = min(r, min(g, b))
    let equal = maxc == minc
    let range = maxc - minc
    let s = range / (equal ? 1 : maxc)
    let divisor = equal ? 1 : range
    let rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor
    let maxIsR = maxc == r, maxIsG = maxc == g
    let hr: Float = maxIsR ? bc - gc : 0
    let hg: Float = maxIsG && !maxIsR ? 2 + rc - bc : 0
    let hb: Float = !maxIsG && !maxIsR ? 4 + gc - rc : 0
    let h = (hr + hg + hb) * (1.0 / 6.0) + 1
    return (h.truncatingRemainder(dividingBy: 1), s, maxc)
}

@inline(__always)
func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
    let h6 = h * 6
    let i = h6.rounded(.down)
    let f = h6 - i
    var sector = Int(i) % 6
    if sector < 0 { sector += 6 }
    let sxf = s * f, oneMinusS = 1 - s
    let q = clampUnit((1 - sxf) * v)
    let t = clampUnit((sxf + oneMinusS) * v)
    let p = clampUnit(oneMinusS * v)
    switch sector {
    case 0: return (v, t, p)
    case 1: return (q, v, p)
    case 2: return (p, v, t)
    case 3: return (p, q, v)
    case 4: return (t, p, v)
    default: return (v, p, q)
    }
}

/// Rotates the hue by `shift` turns (in [-0.5, 0.5]): h = (h + shift) mod 1. No-op for 1 channel,
/// and for shift 0 (where torchvision's round trip through HSV would change the last bits).
public func adjustHue(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, shift: Float) throws {
    guard shift >= -0.5 && shift <= 0.5 else { throw ImagingError.invalidArgument("hue shift \(shift) is not in [-0.5, 0.5]") }
    guard shape.channels == 1 || shape.channels == 3 else {
        throw ImagingError.invalidArgument("hue needs 1 or 3 channels, not \(shape.channels)")
    }
    guard shape.channels == 3 && shift != 0 else { return }
    let n = shape.planeCount
    for i in 0..<n {
        var (h, s, v) = rgbToHSV(pixels[i], pixels[n &+ i], pixels[2 &* n &+ i])
        // torch.remainder: the result takes the divisor's sign, so it lands in [0, 1).
        h += shift
        h -= h.rounded(.down)
        let (r, g, b) = hsvToRGB(h, s, v)
        pixels[i] = r; pixels[n &+ i] = g; pixels[2 &* n &+ i] = b
    }
}
