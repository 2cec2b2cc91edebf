import Foundation
import Tensors

/// MixUp and CutMix of a whole batch, as torchvision.transforms.v2 does them: the batch is
/// paired with itself rolled by one (sample i with sample i - 1), and one lambda ~ Beta(a, a)
/// is drawn per batch. MixUp blends the images, CutMix pastes a box of the partner (lambda is
/// then the area left). The loss takes the soft target lambda * y_i + (1 - lambda) * y_(i-1).
/// Draws come from (seed, epoch, first sample index of the batch).
enum BatchMixing {
    static func mix(_ batch: Batch, config: ImageAugmentations, seed: UInt64, epoch: Int,
                    channels: Int, height: Int, width: Int) {
        let n = batch.count
        guard n >= 2, config.mixes else { batch.setMix(nil); return }
        var rng = CounterRNG(seed: seed, purpose: .batchMixing, a: UInt64(epoch), b: UInt64(batch.indices[0]))
        let useCutMix = config.mixup > 0 && config.cutmix > 0 ? rng.nextUnitFloat() < 0.5 : config.cutmix > 0
        let alpha = useCutMix ? config.cutmix : config.mixup
        var lambda = beta(alpha, &rng)
        let size = channels * height * width
        let original = UnsafeMutablePointer<Float>.allocate(capacity: n * size)
        defer { original.deallocate() }
        original.update(from: batch.images.pointer, count: n * size)
        func partner(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(original + ((i + n - 1) % n) * size) }
        if useCutMix {
            // torchvision CutMix: a box of area (1 - lambda) centred uniformly, clipped.
            let r = (1 - lambda).squareRoot()
            let cx = Int(Double(rng.nextUnitFloat()) * Double(width)), cy = Int(Double(rng.nextUnitFloat()) * Double(height))
            let bw = Int(Double(width) * r), bh = Int(Double(height) * r)
            let x0 = max(cx - bw / 2, 0), x1 = min(cx + bw / 2, width)
            let y0 = max(cy - bh / 2, 0), y1 = min(cy + bh / 2, height)
            lambda = 1 - Double((x1 - x0) * (y1 - y0)) / Double(width * height)
            for i in 0..<n {
                let dst = batch.images.pointer + i * size, src = partner(i)
                for c in 0..<channels {
                    for y in y0..<y1 {
                        let at = c * height * width + y * width
                        (dst + at + x0).update(from: src + at + x0, count: x1 - x0)
                    }
                }
            }
        } else {
            let l = Float(lambda)
            for i in 0..<n {
                let dst = batch.images.pointer + i * size, src = partner(i)
                for j in 0..<size { dst[j] = l * dst[j] + (1 - l) * src[j] }
            }
        }
        let partners = (0..<n).map { batch.labels[($0 + n - 1) % n] }
        batch.setMix((partners, Float(lambda)))
    }

    /// Beta(a, a) as X / (X + Y) of two Gamma(a) draws (Marsaglia and Tsang; a < 1 boosted).
    static func beta(_ a: Double, _ rng: inout CounterRNG) -> Double {
        let x = gamma(a, &rng), y = gamma(a, &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    static func gamma(_ a: Double, _ rng: inout CounterRNG) -> Double {
        if a < 1 {
            let u = max(Double(rng.nextUnitFloat()), 1e-12)
            return gamma(a + 1, &rng) * pow(u, 1 / a)
        }
        let d = a - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = Double(rng.nextNormal())
            let v = pow(1 + c * x, 3)
            guard v > 0 else { continue }
            let u = max(Double(rng.nextUnitFloat()), 1e-12)
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
        }
    }
}
