import Foundation
import Imaging
import Tensors

/// The per-image augmentations of `ImageAugmentations`, in torchvision's usual order:
///   RandomResizedCrop (or the crop/flip/affine warps of AugmentationConfig) -> flip ->
///   ColorJitter -> RandomGrayscale -> TrivialAugmentWide | RandAugment -> Normalize ->
///   RandomErasing.
/// Every operation draws from its own counter-based stream keyed by (seed, epoch, global
/// sample index, operation), so the same sample gets the same pixels on any rank, after any
/// resume, and switching one operation on or off leaves the others' draws alone.
struct ImageAugmenter {
    let config: AugmentationConfig
    let seed: UInt64

    /// Stream numbers of the operations (the block offset of each one's stream).
    enum Stream: UInt32 { case crop = 1, jitter, grayscale, augment, erasing }

    func rng(_ stream: Stream, epoch: Int, index: Int) -> CounterRNG {
        CounterRNG(seed: seed, purpose: .imageAugmentation, a: UInt64(epoch), b: UInt64(index), block: stream.rawValue << 24)
    }

    /// One sample: UInt8 CHW `source` in, normalised Float CHW in `output`.
    func apply(source: UnsafePointer<UInt8>, output: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int, epoch: Int, index: Int, mean: [Float], std: [Float]) {
        let shape = try! PlanarShape(channels: channels, height: height, width: width)
        let draw = AugmentationDraw(config: config, seed: seed, epoch: epoch, index: index, width: width, height: height)
        let image = config.image
        // 1. Geometry, into [0, 1].
        if let crop = image.randomResizedCrop {
            var r = rng(.crop, epoch: epoch, index: index)
            let box = Self.randomResizedCropBox(width: width, height: height, config: crop, rng: &r)
            try! resizePlanar(source: source, width: width, height: height, channels: channels, box: box,
                              output: output, outWidth: width, outHeight: height, filter: .bilinear)
            for i in 0..<shape.count { output[i] /= 255 }
            if draw.flip { flipHorizontal(output, shape: shape) }
        } else {
            // The warps of AugmentationConfig, normalised to [0, 1] (mean 0, std 1).
            Augmenter.apply(draw, source: source, output: output, channels: channels, height: height, width: width,
                            mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
        }
        // 2. Colour.
        if let jitter = image.colorJitter {
            var r = rng(.jitter, epoch: epoch, index: index)
            Self.colorJitter(output, shape: shape, config: jitter, rng: &r)
        }
        if image.randomGrayscale > 0, channels == 3 {
            var r = rng(.grayscale, epoch: epoch, index: index)
            if Double(r.nextUnitFloat()) < image.randomGrayscale { try! rgbToGrayscale(output, shape: shape) }
        }
        if image.trivialAugment || image.randAugment != nil {
            var r = rng(.augment, epoch: epoch, index: index)
            Self.autoAugment(output, shape: shape, image: image, rng: &r)
        }
        // 3. Normalisation, exactly Augmenter's formula on the [0, 1] value.
        let plane = height * width
        for c in 0..<channels {
            let m = mean.count > c ? mean[c] : 0
            let s = std.count > c && std[c] > 0 ? std[c] : 1
            let p = output + c * plane
            for j in 0..<plane { p[j] = (p[j] - m) / s }
        }
        // 4. Erasing, on normalised values.
        if let erasing = image.randomErasing {
            var r = rng(.erasing, epoch: epoch, index: index)
            Self.randomErase(output, shape: shape, config: erasing, rng: &r)
        }
    }

    /// torchvision RandomResizedCrop.get_params: up to 10 tries of (area in scale, log-uniform
    /// ratio) that fit, else the centre crop of the ratio clamped to the range. A full box
    /// when scale and ratio allow only the whole image.
    static func randomResizedCropBox(width: Int, height: Int, config: RandomResizedCropConfig, rng: inout CounterRNG) -> ResampleBox {
        let area = Double(width * height)
        let logRatio = (log(config.ratio[0]), log(config.ratio[1]))
        for _ in 0..<10 {
            let u0 = Double(rng.nextUnitFloat()), u1 = Double(rng.nextUnitFloat())
            let u2 = Double(rng.nextUnitFloat()), u3 = Double(rng.nextUnitFloat())
            let target = area * (config.scale[0] + u0 * (config.scale[1] - config.scale[0]))
            let aspect = exp(logRatio.0 + u1 * (logRatio.1 - logRatio.0))
            let w = Int((target * aspect).squareRoot().rounded()), h = Int((target / aspect).squareRoot().rounded())
            if w > 0 && w <= width && h > 0 && h <= height {
                let x = min(Int(u2 * Double(width - w + 1)), width - w), y = min(Int(u3 * Double(height - h + 1)), height - h)
                return ResampleBox(x0: Double(x), y0: Double(y), x1: Double(x + w), y1: Double(y + h))
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < config.ratio[0] {
            h = Int((Double(w) / config.ratio[0]).rounded())
        } else if inRatio > config.ratio[1] {
            w = Int((Double(h) * config.ratio[1]).rounded())
        }
        let x = (width - w) / 2, y = (height - h) / 2
        return ResampleBox(x0: Double(x), y0: Double(y), x1: Double(x + w), y1: Double(y + h))
    }

    /// torchvision ColorJitter: the four adjustments in a random order, each with a factor
    /// drawn uniformly from its range (a zero setting skips the adjustment and its draw's use).
    static func colorJitter(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, config: ColorJitterConfig,
                            rng: inout CounterRNG) {
        var order = [0, 1, 2, 3]
        for i in stride(from: 3, to: 0, by: -1) { order.swapAt(i, rng.nextBelow(i + 1)) }
        let u = (0..<4).map { _ in Double(rng.nextUnitFloat()) }
        func factor(_ x: Double, _ v: Double) -> Float { Float(max(0, 1 - x) + v * ((1 + x) - max(0, 1 - x))) }
        for op in order {
            switch op {
            case 0 where config.brightness > 0: adjustBrightness(pixels, shape: shape, factor: factor(config.brightness, u[0]))
            case 1 where config.contrast > 0: try? adjustContrast(pixels, shape: shape, factor: factor(config.contrast, u[1]))
            case 2 where config.saturation > 0: try? adjustSaturation(pixels, shape: shape, factor: factor(config.saturation, u[2]))
            case 3 where config.hue > 0: try? adjustHue(pixels, shape: shape, shift: Float(-config.hue + u[3] * 2 * config.hue))
            default: break
            }
        }
    }

    /// TrivialAugmentWide (one op, a random bin) or RandAugment (N ops at bin M), with signs.
    static func autoAugment(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape,
                            image: ImageAugmentations, rng: inout CounterRNG) {
        let space: AugmentSpace
        let picks: [(op: Int, bin: Int, negative: Bool)]
        if let ra = image.randAugment {
            space = try! AugmentSpace.randAugment(bins: ra.bins, width: shape.width, height: shape.height)
            picks = (0..<ra.n).map { _ in (rng.nextBelow(space.entries.count), ra.m, rng.nextUnitFloat() < 0.5) }
        } else {
            space = try! AugmentSpace.trivialAugmentWide()
            picks = [(rng.nextBelow(space.entries.count), rng.nextBelow(space.bins), rng.nextUnitFloat() < 0.5)]
        }
        for p in picks { try? space.apply(opIndex: p.op, bin: p.bin, negative: p.negative, to: pixels, shape: shape) }
    }

    /// torchvision RandomErasing.get_params: with probability p, up to 10 tries of a box of
    /// area in scale x image and log-uniform aspect that fits; the box takes `value`.
    static func randomErase(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, config: RandomErasingConfig,
                            rng: inout CounterRNG) {
        guard Double(rng.nextUnitFloat()) < config.p else { return }
        let area = Double(shape.height * shape.width)
        let logRatio = (log(config.ratio[0]), log(config.ratio[1]))
        for _ in 0..<10 {
            let target = area * (config.scale[0] + Double(rng.nextUnitFloat()) * (config.scale[1] - config.scale[0]))
            let aspect = exp(logRatio.0 + Double(rng.nextUnitFloat()) * (logRatio.1 - logRatio.0))
            let h = Int((target * aspect).squareRoot().rounded()), w = Int((target / aspect).squareRoot().rounded())
            let u0 = Double(rng.nextUnitFloat()), u1 = Double(rng.nextUnitFloat())
            guard h < shape.height && w < shape.width && h > 0 && w > 0 else { continue }
            let y = Int(u0 * Double(shape.height - h + 1)), x = Int(u1 * Double(shape.width - w + 1))
            try? erase(pixels, shape: shape, x: x, y: y, width: w, height: h, value: [Float(config.value)])
            return
        }
    }
}
