import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// On-the-fly augmentation settings. Everything is off by default.
/// JSON keys (config file `augmentation` object): `crop_padding`, `horizontal_flip`,
/// `rotation_degrees`, `shift`, `zoom`, `shear_degrees`.
public struct AugmentationConfig: Codable, Equatable, Sendable {
    /// Random crop after zero-padding every side by this many pixels (CIFAR's classic 4).
    public var cropPadding: Int = 0
    /// Mirror left-right with probability 1/2.
    public var horizontalFlip: Bool = false
    /// Rotation uniform in [-r, r] degrees.
    public var rotationDegrees: Float = 0
    /// Translation uniform in [-s, s] times the image size, per axis.
    public var shift: Float = 0
    /// Scale uniform in [1 - z, 1 + z].
    public var zoom: Float = 0
    /// Shear angle uniform in [-s, s] degrees.
    public var shearDegrees: Float = 0
    /// Colour and crop augmentations, batch mixing (ImageAugmentationConfig.swift).
    public var image = ImageAugmentations()

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, rotationDegrees: Float = 0,
                shift: Float = 0, zoom: Float = 0, shearDegrees: Float = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.rotationDegrees = rotationDegrees
        self.shift = shift
        self.zoom = zoom
        self.shearDegrees = shearDegrees
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case cropPadding = "crop_padding", horizontalFlip = "horizontal_flip"
        case rotationDegrees = "rotation_degrees", shift, zoom, shearDegrees = "shear_degrees"
        case randomResizedCrop = "random_resized_crop", colorJitter = "color_jitter", randomGrayscale = "random_grayscale"
        case trivialAugment = "trivial_augment", randAugment = "rand_augment", randomErasing = "random_erasing"
        case mixup, cutmix
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cropPadding = try c.decodeIfPresent(Int.self, forKey: .cropPadding) ?? 0
        horizontalFlip = try c.decodeIfPresent(Bool.self, forKey: .horizontalFlip) ?? false
        rotationDegrees = try c.decodeIfPresent(Float.self, forKey: .rotationDegrees) ?? 0
        shift = try c.decodeIfPresent(Float.self, forKey: .shift) ?? 0
        zoom = try c.decodeIfPresent(Float.self, forKey: .zoom) ?? 0
        shearDegrees = try c.decodeIfPresent(Float.self, forKey: .shearDegrees) ?? 0
        image.randomResizedCrop = try c.decodeIfPresent(RandomResizedCropConfig.self, forKey: .randomResizedCrop)
        image.colorJitter = try c.decodeIfPresent(ColorJitterConfig.self, forKey: .colorJitter)
        image.randomGrayscale = try c.decodeIfPresent(Double.self, forKey: .randomGrayscale) ?? 0
        image.trivialAugment = try c.decodeIfPresent(Bool.self, forKey: .trivialAugment) ?? false
        image.randAugment = try c.decodeIfPresent(RandAugmentConfig.self, forKey: .randAugment)
        image.randomErasing = try c.decodeIfPresent(RandomErasingConfig.self, forKey: .randomErasing)
        image.mixup = try c.decodeIfPresent(Double.self, forKey: .mixup) ?? 0
        image.cutmix = try c.decodeIfPresent(Double.self, forKey: .cutmix) ?? 0
    }

    /// The augmentations of earlier versions always, the image ones only when set, so a
    /// config without them is written as before.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cropPadding, forKey: .cropPadding)
        try c.encode(horizontalFlip, forKey: .horizontalFlip)
        try c.encode(rotationDegrees, forKey: .rotationDegrees)
        try c.encode(shift, forKey: .shift)
        try c.encode(zoom, forKey: .zoom)
        try c.encode(shearDegrees, forKey: .shearDegrees)
        try c.encodeIfPresent(image.randomResizedCrop, forKey: .randomResizedCrop)
        try c.encodeIfPresent(image.colorJitter, forKey: .colorJitter)
        if image.randomGrayscale > 0 { try c.encode(image.randomGrayscale, forKey: .randomGrayscale) }
        if image.trivialAugment { try c.encode(true, forKey: .trivialAugment) }
        try c.encodeIfPresent(image.randAugment, forKey: .randAugment)
        try c.encodeIfPresent(image.randomErasing, forKey: .randomErasing)
        if image.mixup > 0 { try c.encode(image.mixup, forKey: .mixup) }
        if image.cutmix > 0 { try c.encode(image.cutmix, forKey: .cutmix) }
    }

    public static var allKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public var isIdentity: Bool { self == AugmentationConfig() }
    var hasAffine: Bool { rotationDegrees != 0 || shift != 0 || zoom != 0 || shearDegrees != 0 }

    /// Range checks, so a bad config fails before training with the key's name.
    public func validate() -> [String] {
        var problems: [String] = []
        if cropPadding < 0 || cropPadding > 64 { problems.append("crop_padding must be in 0...64") }
        if rotationDegrees < 0 || rotationDegrees > 180 { problems.append("rotation_degrees must be in 0...180") }
        if shift < 0 || shift > 0.5 { problems.append("shift must be in 0...0.5") }
        if zoom < 0 || zoom >= 1 { problems.append("zoom must be in 0..<1") }
        if shearDegrees < 0 || shearDegrees > 60 { problems.append("shear_degrees must be in 0...60") }
        return problems + image.validate()
    }
}

/// The random parameters drawn for one sample. Identity values reproduce the input exactly.
public struct AugmentationDraw: Equatable, Sendable {
    public var cropX = 0, cropY = 0
    public var flip = false
    public var rotation: Float = 0, shear: Float = 0, scale: Float = 1
    public var shiftX: Float = 0, shiftY: Float = 0

    public init() {}

    /// Draws the parameters for (seed, epoch, global sample index). Always eight draws in a
    /// fixed order, so switching one transform on or off leaves the others' values alone.
    public init(config: AugmentationConfig, seed: UInt64, epoch: Int, index: Int, width: Int, height: Int) {
        var rng = CounterRNG(seed: seed, purpose: .augmentation, a: UInt64(epoch), b: UInt64(index))
        let u = (0..<8).map { _ in rng.nextUnitFloat() }
        let p = config.cropPadding
        if p > 0 {
            cropX = min(Int(u[0] * Float(2 * p + 1)), 2 * p) - p
            cropY = min(Int(u[1] * Float(2 * p + 1)), 2 * p) - p
        }
        flip = config.horizontalFlip && u[2] < 0.5
        let radians = Float.pi / 180
        rotation = (2 * u[3] - 1) * config.rotationDegrees * radians
        shear = (2 * u[4] - 1) * config.shearDegrees * radians
        scale = 1 + (2 * u[5] - 1) * config.zoom
        shiftX = (2 * u[6] - 1) * config.shift * Float(width)
        shiftY = (2 * u[7] - 1) * config.shift * Float(height)
    }
}

/// Applies augmentation and normalisation to one image: UInt8 CHW in, Float CHW out.
public enum Augmenter {
    /// Writes `(pixel/255 - mean[c]) / std[c]` of the transformed image to `output`.
    ///
    /// All transforms are one inverse mapping per output pixel: output (x, y) -> undo the affine
    /// warp about the centre -> undo the flip -> undo the crop offset -> bilinear sample of the
    /// source, zero outside. Integer mappings (crop, flip) take an exact copying path.
    public static func apply(_ draw: AugmentationDraw, source: UnsafePointer<UInt8>, output: UnsafeMutablePointer<Float>,
                             channels: Int, height: Int, width: Int, mean: [Float], std: [Float]) {
        let plane = height * width
        let affine = draw.rotation != 0 || draw.shear != 0 || draw.scale != 1 || draw.shiftX != 0 || draw.shiftY != 0
        for c in 0..<channels {
            let src = source + c * plane
            let dst = output + c * plane
            let m = mean.count > c ? mean[c] : 0
            let s = std.count > c && std[c] > 0 ? std[c] : 1
            // Exactly (pixel / 255 - mean) / std, the formula the docs and the tests state.
            @inline(__always) func normalise(_ v: Float) -> Float { (v / 255 - m) / s }
            if !affine {
                for y in 0..<height {
                    let sy = y + draw.cropY
                    for x in 0..<width {
                        let fx = draw.flip ? width - 1 - x : x
                        let sx = fx + draw.cropX
                        let v: Float = (sy >= 0 && sy < height && sx >= 0 && sx < width) ? Float(src[sy * width + sx]) : 0
                        dst[y * width + x] = normalise(v)
                    }
                }
                continue
            }
            // Forward warp A = R(rotation) * Shear * scale; we need A^-1 applied to (p - centre - shift).
            let cr = cosf(draw.rotation), sr = sinf(draw.rotation), sh = tanf(draw.shear)
            let a00 = cr * draw.scale, a01 = (cr * sh - sr) * draw.scale
            let a10 = sr * draw.scale, a11 = (sr * sh + cr) * draw.scale
            let det = a00 * a11 - a01 * a10
            let i00 = a11 / det, i01 = -a01 / det, i10 = -a10 / det, i11 = a00 / det
            let cx = Float(width - 1) / 2, cy = Float(height - 1) / 2
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Float(x) - cx - draw.shiftX, dy = Float(y) - cy - draw.shiftY
                    var u = i00 * dx + i01 * dy + cx
                    let v = i10 * dx + i11 * dy + cy + Float(draw.cropY)
                    if draw.flip { u = Float(width - 1) - u }
                    u += Float(draw.cropX)
                    dst[y * width + x] = normalise(bilinear(src, width: width, height: height, x: u, y: v))
                }
            }
        }
    }

    /// Bilinear sample at (x, y) with zeros outside the image.
    @inline(__always)
    static func bilinear(_ src: UnsafePointer<UInt8>, width: Int, height: Int, x: Float, y: Float) -> Float {
        let x0f = x.rounded(.down), y0f = y.rounded(.down)
        let fx = x - x0f, fy = y - y0f
        let x0 = Int(x0f), y0 = Int(y0f)
        @inline(__always) func at(_ xx: Int, _ yy: Int) -> Float {
            (xx >= 0 && xx < width && yy >= 0 && yy < height) ? Float(src[yy * width + xx]) : 0
        }
        let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
        let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
        return top * (1 - fy) + bottom * fy
    }

    /// Mirrors a float CHW image left-right in place.
    public static func flipHorizontally(_ image: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int) {
        for row in 0..<(channels * height) {
            let r = image + row * width
            var i = 0, j = width - 1
            while i < j {
                let t = r[i]; r[i] = r[j]; r[j] = t
                i += 1; j -= 1
            }
        }
    }
}
