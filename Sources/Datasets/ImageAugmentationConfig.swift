import Foundation

/// Augmentations for colour (and grey) images, torchvision's names and semantics, each off
/// unless configured. JSON: inside `augmentation`, e.g.
/// `{"random_resized_crop": {"scale": [0.08, 1]}, "color_jitter": {"brightness": 0.4},
///   "trivial_augment": true, "random_erasing": {"p": 0.25}, "mixup": 0.2, "cutmix": 1.0}`.
public struct RandomResizedCropConfig: Codable, Equatable, Sendable {
    /// Range of the crop's area as a fraction of the image's.
    public var scale: [Double] = [0.08, 1]
    /// Range of the crop's aspect ratio (width / height), drawn log-uniformly.
    public var ratio: [Double] = [3.0 / 4.0, 4.0 / 3.0]
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        scale = try c.decodeIfPresent([Double].self, forKey: .scale) ?? [0.08, 1]
        ratio = try c.decodeIfPresent([Double].self, forKey: .ratio) ?? [3.0 / 4.0, 4.0 / 3.0]
    }
    enum CodingKeys: String, CodingKey, CaseIterable { case scale, ratio }
}

public struct ColorJitterConfig: Codable, Equatable, Sendable {
    /// Factors drawn from [max(0, 1 - x), 1 + x]; hue's shift from [-hue, hue] (hue <= 0.5).
    public var brightness: Double = 0, contrast: Double = 0, saturation: Double = 0, hue: Double = 0
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        brightness = try c.decodeIfPresent(Double.self, forKey: .brightness) ?? 0
        contrast = try c.decodeIfPresent(Double.self, forKey: .contrast) ?? 0
        saturation = try c.decodeIfPresent(Double.self, forKey: .saturation) ?? 0
        hue = try c.decodeIfPresent(Double.self, forKey: .hue) ?? 0
    }
    enum CodingKeys: String, CodingKey, CaseIterable { case brightness, contrast, saturation, hue }
}

public struct RandAugmentConfig: Codable, Equatable, Sendable {
    /// Operations applied per image, and their magnitude bin (of `bins`).
    public var n: Int = 2, m: Int = 9, bins: Int = 31
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        n = try c.decodeIfPresent(Int.self, forKey: .n) ?? 2
        m = try c.decodeIfPresent(Int.self, forKey: .m) ?? 9
        bins = try c.decodeIfPresent(Int.self, forKey: .bins) ?? 31
    }
    enum CodingKeys: String, CodingKey, CaseIterable { case n, m, bins }
}

public struct RandomErasingConfig: Codable, Equatable, Sendable {
    public var p: Double = 0.5
    public var scale: [Double] = [0.02, 0.33]
    public var ratio: [Double] = [0.3, 3.3]
    /// Written into the erased box, on normalised values (0: the dataset mean).
    public var value: Double = 0
    public init() {}
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        p = try c.decodeIfPresent(Double.self, forKey: .p) ?? 0.5
        scale = try c.decodeIfPresent([Double].self, forKey: .scale) ?? [0.02, 0.33]
        ratio = try c.decodeIfPresent([Double].self, forKey: .ratio) ?? [0.3, 3.3]
        value = try c.decodeIfPresent(Double.self, forKey: .value) ?? 0
    }
    enum CodingKeys: String, CodingKey, CaseIterable { case p, scale, ratio, value }
}

/// The image augmentations of one config, validated as a whole.
public struct ImageAugmentations: Codable, Equatable, Sendable {
    public var randomResizedCrop: RandomResizedCropConfig? = nil
    public var colorJitter: ColorJitterConfig? = nil
    /// Probability of turning an image grey (kept with all its channels).
    public var randomGrayscale: Double = 0
    public var trivialAugment: Bool = false
    public var randAugment: RandAugmentConfig? = nil
    public var randomErasing: RandomErasingConfig? = nil
    /// Beta(alpha, alpha) parameter of MixUp / CutMix (0: off). With both on, each batch
    /// takes one of them with probability 1/2 (torchvision's RandomChoice of the two).
    public var mixup: Double = 0
    public var cutmix: Double = 0

    public init() {}

    /// Any per-image operation beyond the crop/flip/affine warps of `AugmentationConfig`.
    public var hasPerImageOps: Bool {
        randomResizedCrop != nil || colorJitter != nil || randomGrayscale > 0 || trivialAugment || randAugment != nil
            || randomErasing != nil
    }
    public var mixes: Bool { mixup > 0 || cutmix > 0 }

    static let keys = ["random_resized_crop", "color_jitter", "random_grayscale", "trivial_augment", "rand_augment",
                       "random_erasing", "mixup", "cutmix"]

    func validate() -> [String] {
        var problems: [String] = []
        func range(_ r: [Double], _ name: String, _ ok: (Double) -> Bool) {
            if r.count != 2 || !(r[0] <= r[1]) || !r.allSatisfy(ok) { problems.append("\(name) must be [low, high] with low <= high in range") }
        }
        if let c = randomResizedCrop {
            range(c.scale, "random_resized_crop.scale", { $0 > 0 && $0 <= 1 })
            range(c.ratio, "random_resized_crop.ratio", { $0 > 0 && $0 < 100 })
        }
        if let j = colorJitter {
            for (v, n) in [(j.brightness, "brightness"), (j.contrast, "contrast"), (j.saturation, "saturation")] where !(v >= 0 && v <= 10) {
                problems.append("color_jitter.\(n) must be in 0...10")
            }
            if !(j.hue >= 0 && j.hue <= 0.5) { problems.append("color_jitter.hue must be in 0...0.5") }
        }
        if !(randomGrayscale >= 0 && randomGrayscale <= 1) { problems.append("random_grayscale must be in 0...1") }
        if trivialAugment && randAugment != nil { problems.append("trivial_augment and rand_augment: choose one") }
        if let r = randAugment, !(r.bins >= 2 && r.bins <= 1024 && r.m >= 0 && r.m < r.bins && r.n >= 0 && r.n <= 16) {
            problems.append("rand_augment needs 0 <= m < bins (2...1024) and n in 0...16")
        }
        if let e = randomErasing {
            if !(e.p >= 0 && e.p <= 1) { problems.append("random_erasing.p must be in 0...1") }
            range(e.scale, "random_erasing.scale", { $0 > 0 && $0 <= 1 })
            range(e.ratio, "random_erasing.ratio", { $0 > 0 && $0 < 100 })
            if !e.value.isFinite { problems.append("random_erasing.value must be a number") }
        }
        for (v, n) in [(mixup, "mixup"), (cutmix, "cutmix")] where !(v >= 0 && v <= 100) { problems.append("\(n) must be in 0...100 (alpha; 0 = off)") }
        return problems
    }
}
