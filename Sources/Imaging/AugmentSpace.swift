// The operation lists and magnitude bins of torchvision's TrivialAugmentWide and RandAugment
// (transforms.v2 _auto_augment.py), and the application of one drawn operation. The random
// choices (which op, which bin, which sign) are the caller's, drawn from its counter-based
// generator; everything here is a pure function of (op index, bin, sign, image).
//
// Magnitudes are torch.linspace(start, end, bins) in float32 exactly as torch's CPU kernel
// computes them (fma(step, i, start) for the first half, fma(-step, bins - 1 - i, end) for the
// second), then used as Double, as torchvision's float(tensor[i]) does. This matters: bin 15 of
// TrivialAugmentWide's translate is 15.999999 in torch, so int() gives 15 pixels, not 16.

/// One augmentation operation (torchvision's names in the raw values).
public enum AugmentOp: String, Sendable, CaseIterable {
    case identity = "Identity", shearX = "ShearX", shearY = "ShearY", translateX = "TranslateX"
    case translateY = "TranslateY", rotate = "Rotate", brightness = "Brightness", color = "Color"
    case contrast = "Contrast", sharpness = "Sharpness", posterize = "Posterize", solarize = "Solarize"
    case autoContrast = "AutoContrast", equalize = "Equalize", invert = "Invert"
}

/// An augmentation space: ops in torchvision's dictionary order (the index a caller draws),
/// each with its magnitude per bin (nil: the op takes none) and whether a sign is drawn.
public struct AugmentSpace: Sendable {
    public struct Entry: Sendable {
        public let op: AugmentOp
        /// Magnitude of each bin (unsigned), nil for ops without one.
        public let magnitudes: [Double]?
        /// True when the caller draws a sign (negative with probability 1/2).
        public let signed: Bool
    }

    public let entries: [Entry]
    public let bins: Int

    public var ops: [AugmentOp] { entries.map(\.op) }

    /// torchvision TrivialAugmentWide(num_magnitude_bins: bins): 14 ops.
    public static func trivialAugmentWide(bins: Int = 31) throws -> AugmentSpace {
        try checkBins(bins)
        return AugmentSpace(bins: bins, [
            (.identity, nil, false),
            (.shearX, linspace(0, 0.99, bins), true),
            (.shearY, linspace(0, 0.99, bins), true),
            (.translateX, linspace(0, 32, bins), true),
            (.translateY, linspace(0, 32, bins), true),
            (.rotate, linspace(0, 135, bins), true),
            (.brightness, linspace(0, 0.99, bins), true),
            (.color, linspace(0, 0.99, bins), true),
            (.contrast, linspace(0, 0.99, bins), true),
            (.sharpness, linspace(0, 0.99, bins), true),
            (.posterize, posterizeBits(bins, spread: 6), false),
            (.solarize, linspace(1, 0, bins), false),
            (.autoContrast, nil, false),
            (.equalize, nil, false),
        ])
    }

    /// torchvision RandAugment(num_magnitude_bins: bins) for a width x height image (its
    /// translate range is 150/331 of the size): 14 ops; the caller applies N of them at one
    /// magnitude bin M.
    public static func randAugment(bins: Int = 31, width: Int, height: Int) throws -> AugmentSpace {
        try checkBins(bins)
        try checkSide(width, "width")
        try checkSide(height, "height")
        return AugmentSpace(bins: bins, [
            (.identity, nil, false),
            (.shearX, linspace(0, 0.3, bins), true),
            (.shearY, linspace(0, 0.3, bins), true),
            (.translateX, linspace(0, 150.0 / 331.0 * Double(width), bins), true),
            (.translateY, linspace(0, 150.0 / 331.0 * Double(height), bins), true),
            (.rotate, linspace(0, 30, bins), true),
            (.brightness, linspace(0, 0.9, bins), true),
            (.color, linspace(0, 0.9, bins), true),
            (.contrast, linspace(0, 0.9, bins), true),
            (.sharpness, linspace(0, 0.9, bins), true),
            (.posterize, posterizeBits(bins, spread: 4), false),
            (.solarize, linspace(1, 0, bins), false),
            (.autoContrast, nil, false),
            (.equalize, nil, false),
        ])
    }

    private init(bins: Int, _ list: [(AugmentOp, [Double]?, Bool)]) {
        self.bins = bins
        self.entries = list.map { Entry(op: $0.0, magnitudes: $0.1, signed: $0.2) }
    }

    private static func checkBins(_ bins: Int) throws {
        guard bins >= 2 && bins <= 1024 else { throw ImagingError.invalidArgument("magnitude bins \(bins) is not in 2...1024") }
    }

    /// The signed magnitude torchvision would apply for (op index, bin, sign): 0 for ops without
    /// one; `negative` flips the sign of signed ops only.
    public func magnitude(opIndex: Int, bin: Int, negative: Bool) throws -> Double {
        guard entries.indices.contains(opIndex) else {
            throw ImagingError.invalidArgument("op index \(opIndex) is not in 0..<\(entries.count)")
        }
        let entry = entries[opIndex]
        guard let magnitudes = entry.magnitudes else { return 0 }
        guard (0..<bins).contains(bin) else { throw ImagingError.invalidArgument("magnitude bin \(bin) is not in 0..<\(bins)") }
        return entry.signed && negative ? -magnitudes[bin] : magnitudes[bin]
    }

    /// Applies op `opIndex` at `bin` (sign `negative`) to a planar Float image in [0, 1], in
    /// place, as torchvision's _apply_image_or_video_transform does (geometric ops with nearest
    /// sampling and `fill`, like TrivialAugmentWide's defaults).
    public func apply(opIndex: Int, bin: Int, negative: Bool, to pixels: UnsafeMutablePointer<Float>,
                      shape: PlanarShape, fill: [Float]? = nil) throws {
        let m = try magnitude(opIndex: opIndex, bin: bin, negative: negative)
        try applyAugment(entries[opIndex].op, magnitude: m, to: pixels, shape: shape, fill: fill)
    }
}

/// torch.linspace(start, end, steps) in float32, as torch's CPU kernel computes it.
func linspace(_ start: Double, _ end: Double, _ steps: Int) -> [Double] {
    let s = Float(start), e = Float(end)
    let step = (e - s) / Float(steps - 1)
    return (0..<steps).map { i in
        let v = i < steps / 2 ? s.addingProduct(step, Float(i)) : e.addingProduct(-step, Float(steps - 1 - i))
        return Double(v)
    }
}

/// (8 - arange(bins) / ((bins - 1) / spread)).round() in float32 (round half to even).
func posterizeBits(_ bins: Int, spread: Double) -> [Double] {
    let divisor = Float(Double(bins - 1) / spread)
    return (0..<bins).map { Double((8 - Float($0) / divisor).rounded(.toNearestOrEven)) }
}
