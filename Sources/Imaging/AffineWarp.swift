// Affine warps of planar Float images with torchvision's conventions (transforms.v2.functional
// affine / rotate on tensors): the matrix maps an OUTPUT pixel centre, in coordinates relative
// to the image centre (x + 0.5 - W/2, y + 0.5 - H/2), to the source point in the same kind of
// coordinates; the source is then sampled like grid_sample(align_corners=False, zeros padding).
// The output has the input's size (expand=False).
//
// The sampling grid is computed in Float exactly as torchvision builds it (theta / (W/2), the
// base grid, then (g + 1) * W/2 - 0.5), because nearest-neighbour ties are common: at 45 degrees
// sin and cos are equal in float32, so coordinates land exactly on half pixels, and in Double
// they would fall on the other side. Checked against torchvision 0.29 on every
// TrivialAugmentWide shear and rotation bin at several image sizes: no pixel differs.
//
// Fill: nil samples zeros outside the image (torchvision fill=None). With a fill, torchvision
// samples a mask of ones alongside and returns (sample - fill) * mask + fill (for bilinear this
// weighs border pixels by the mask twice; we copy it as it is).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Inverse affine map [a b c; d e f] from output to source, in centred pixel coordinates.
public struct AffineMatrix: Sendable, Equatable {
    public var a, b, c, d, e, f: Double

    public init(a: Double, b: Double, c: Double, d: Double, e: Double, f: Double) {
        self.a = a; self.b = b; self.c = c; self.d = d; self.e = e; self.f = f
    }

    public static let identity = AffineMatrix(a: 1, b: 0, c: 0, d: 0, e: 1, f: 0)

    /// torchvision's `_get_inverse_affine_matrix` (rotation `angle` degrees, `translate` pixels,
    /// `scale`, `shear` degrees (x, y), all about `center`, which is relative to the image centre
    /// as in torchvision's tensor path: (0, 0) is the centre).
    public static func torchvision(angle: Double, translate: (Double, Double) = (0, 0), scale: Double = 1,
                                   shear: (Double, Double) = (0, 0), center: (Double, Double) = (0, 0)) -> AffineMatrix {
        let rot = angle * radiansPerDegree, sx = shear.0 * radiansPerDegree, sy = shear.1 * radiansPerDegree
        let (cx, cy) = center, (tx, ty) = translate
        let cosSy = cos(sy), tanSx = tan(sx), rotMinusSy = rot - sy
        let cxPlusTx = cx + tx, cyPlusTy = cy + ty
        let a = cos(rotMinusSy) / cosSy
        let b = -(a * tanSx + sin(rot))
        let c = sin(rotMinusSy) / cosSy
        let d = cos(rot) - c * tanSx
        var m = AffineMatrix(a: d / scale, b: -b / scale, c: 0, d: -c / scale, e: a / scale, f: 0)
        m.c += cx - m.a * cxPlusTx - m.b * cyPlusTy
        m.f += cy - m.d * cxPlusTx - m.e * cyPlusTy
        return m
    }
}

/// Python's math.radians / math.degrees constants (a multiply by a rounded constant).
let radiansPerDegree = Double.pi / 180.0
let degreesPerRadian = 180.0 / Double.pi

public enum WarpInterpolation: String, Sendable, CaseIterable {
    case nearest, bilinear
}

/// Warps `source` into `output` (distinct buffers, both `shape`). `fill`: nil for zeros with
/// torchvision's fill=None behaviour, else one value for every channel or one per channel.
public func affineWarp(source: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, shape: PlanarShape,
                       matrix m: AffineMatrix, interpolation: WarpInterpolation, fill: [Float]? = nil) throws {
    if let fill, fill.count != 1 && fill.count != shape.channels {
        throw ImagingError.invalidArgument("fill has \(fill.count) values for \(shape.channels) channels")
    }
    guard m != .identity else {
        // Exactly the input (the mask formula would round (v - fill) + fill).
        output.update(from: source, count: shape.count)
        return
    }
    let w = shape.width, h = shape.height
    let halfW = Float(w) * 0.5, halfH = Float(h) * 0.5
    // torchvision's rescaled theta (float32), and its base grid: half-integers, exact in Float.
    let r0 = Float(m.a) / halfW, r1 = Float(m.b) / halfW, r2 = Float(m.c) / halfW
    let r3 = Float(m.d) / halfH, r4 = Float(m.e) / halfH, r5 = Float(m.f) / halfH
    let x0 = (1 - Float(w)) * 0.5, y0 = (1 - Float(h)) * 0.5
    for y in 0..<h {
        let yb = y0 + Float(y)
        for x in 0..<w {
            let xb = x0 + Float(x)
            let gx = (xb * r0 + yb * r1) + r2, gy = (xb * r3 + yb * r4) + r5
            let ix = (gx + 1) * halfW - 0.5, iy = (gy + 1) * halfH - 0.5
            switch interpolation {
            case .nearest: nearestSample(source, shape, ix, iy, fill, output + (y &* w &+ x))
            case .bilinear: bilinearSample(source, shape, ix, iy, fill, output + (y &* w &+ x))
            }
        }
    }
}

@inline(__always)
private func fillValue(_ fill: [Float]?, _ c: Int) -> Float {
    guard let fill else { return 0 }
    return fill[fill.count == 1 ? 0 : c]
}

/// grid_sample nearest: round half to even.
@inline(__always)
private func nearestSample(_ source: UnsafePointer<Float>, _ shape: PlanarShape, _ ix: Float, _ iy: Float,
                           _ fill: [Float]?, _ out: UnsafeMutablePointer<Float>) {
    let sx = ix.rounded(.toNearestOrEven), sy = iy.rounded(.toNearestOrEven)
    let plane = shape.planeCount
    guard sx >= 0 && sx < Float(shape.width) && sy >= 0 && sy < Float(shape.height) else {
        for c in 0..<shape.channels { out[c &* plane] = fillValue(fill, c) }
        return
    }
    let from = Int(sy) &* shape.width &+ Int(sx)
    for c in 0..<shape.channels { out[c &* plane] = source[c &* plane &+ from] }
}

/// grid_sample bilinear (its CPU kernel's weights: nw = (1 - ty)(1 - tx), ...), zeros outside;
/// with a fill, torchvision's mask blend.
@inline(__always)
private func bilinearSample(_ source: UnsafePointer<Float>, _ shape: PlanarShape, _ ix: Float, _ iy: Float,
                            _ fill: [Float]?, _ out: UnsafeMutablePointer<Float>) {
    let w = shape.width, h = shape.height, plane = shape.planeCount
    let fx = ix.rounded(.down), fy = iy.rounded(.down)
    guard fx >= -1 && fy >= -1 && fx < Float(w) && fy < Float(h) else {
        // No neighbour inside: zero sample, zero mask.
        for c in 0..<shape.channels { out[c &* plane] = fillValue(fill, c) }
        return
    }
    let xw = Int(fx), yn = Int(fy)
    let tx = ix - fx, ty = iy - fy
    let e = 1 - tx, s = 1 - ty
    let weights = (s * e, s * tx, ty * e, ty * tx)
    let inside = (xw >= 0 && yn >= 0, xw &+ 1 < w && yn >= 0, xw >= 0 && yn &+ 1 < h, xw &+ 1 < w && yn &+ 1 < h)
    let mask = (inside.0 ? weights.0 : 0) + (inside.1 ? weights.1 : 0) + (inside.2 ? weights.2 : 0) + (inside.3 ? weights.3 : 0)
    let at = yn &* w &+ xw
    for c in 0..<shape.channels {
        let p = source + c &* plane
        var v = (inside.0 ? p[at] * weights.0 : 0) + (inside.1 ? p[at &+ 1] * weights.1 : 0)
        v += inside.2 ? p[at &+ w] * weights.2 : 0
        v += inside.3 ? p[at &+ w &+ 1] * weights.3 : 0
        if fill != nil {
            let f = fillValue(fill, c)
            v = (v - f) * mask + f
        }
        out[c &* plane] = v
    }
}

/// torchvision `rotate(image, angle)` (counter-clockwise degrees, about the centre, same size).
public func rotate(source: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, shape: PlanarShape,
                   degrees: Double, interpolation: WarpInterpolation = .nearest, fill: [Float]? = nil) throws {
    // rotate_image passes -angle: its rotation sense is opposite to affine's.
    try affineWarp(source: source, output: output, shape: shape, matrix: .torchvision(angle: -degrees),
                   interpolation: interpolation, fill: fill)
}
