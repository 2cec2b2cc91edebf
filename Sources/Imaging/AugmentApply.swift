// One TrivialAugment / RandAugment / AutoAugment operation at a given signed magnitude, as
// torchvision's _apply_image_or_video_transform applies it to a float image (bound 1).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Applies `op` with `magnitude` (already signed) in place. Geometric ops use nearest sampling
/// and `fill` outside the image (TrivialAugmentWide's defaults: NEAREST, fill None = zeros).
public func applyAugment(_ op: AugmentOp, magnitude m: Double, to pixels: UnsafeMutablePointer<Float>,
                         shape: PlanarShape, fill: [Float]? = nil) throws {
    switch op {
    case .identity:
        return
    case .shearX, .shearY, .translateX, .translateY, .rotate:
        guard let matrix = augmentMatrix(op, m, shape) else { return }
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: shape.count)
        defer { copy.deallocate() }
        copy.update(from: pixels, count: shape.count)
        try affineWarp(source: copy, output: pixels, shape: shape, matrix: matrix, interpolation: .nearest, fill: fill)
    case .brightness:
        adjustBrightness(pixels, shape: shape, factor: Float(1 + m))
    case .color:
        try adjustSaturation(pixels, shape: shape, factor: Float(1 + m))
    case .contrast:
        try adjustContrast(pixels, shape: shape, factor: Float(1 + m))
    case .sharpness:
        adjustSharpness(pixels, shape: shape, factor: Float(1 + m))
    case .posterize:
        try posterize(pixels, shape: shape, bits: Int(m))
    case .solarize:
        // threshold = bound * magnitude, bound 1 for float images.
        solarize(pixels, shape: shape, threshold: Float(m))
    case .autoContrast:
        autocontrast(pixels, shape: shape)
    case .equalize:
        equalize(pixels, shape: shape)
    case .invert:
        invert(pixels, shape: shape)
    }
}

/// The inverse matrix of a geometric op, nil when it is the identity (magnitude 0, or a
/// translation that truncates to 0 pixels), so identity parameters leave the bits alone.
func augmentMatrix(_ op: AugmentOp, _ m: Double, _ shape: PlanarShape) -> AffineMatrix? {
    // ShearX/Y shear about the top-left corner: torchvision passes center=[0, 0], which is
    // (-W/2, -H/2) relative to the centre; the shear angle is atan(magnitude) in degrees.
    let corner = (-Double(shape.width) * 0.5, -Double(shape.height) * 0.5)
    switch op {
    case .shearX where m != 0:
        return .torchvision(angle: 0, shear: (atan(m) * degreesPerRadian, 0), center: corner)
    case .shearY where m != 0:
        return .torchvision(angle: 0, shear: (0, atan(m) * degreesPerRadian), center: corner)
    case .translateX where Int(m) != 0:
        return .torchvision(angle: 0, translate: (Double(Int(m)), 0))
    case .translateY where Int(m) != 0:
        return .torchvision(angle: 0, translate: (0, Double(Int(m))))
    case .rotate where m != 0:
        return .torchvision(angle: -m)
    default:
        return nil
    }
}
