import Tensors

/// One batch in training layout: images as Float NCHW (`[count, C, H, W]`, contiguous,
/// normalised), labels as Int32. The buffers are allocated once for `capacity` samples and
/// reused; `count` may be smaller for the last batch of an epoch.
public final class Batch: @unchecked Sendable {
    public let capacity: Int
    public let imageSize: Int
    public let images: FloatBuffer
    public private(set) var labels: [Int32]
    public private(set) var indices: [Int]
    public internal(set) var count = 0
    /// MixUp / CutMix: each sample's partner label and the weight of its own label (the soft
    /// target is weight * own + (1 - weight) * partner); nil for an unmixed batch.
    public private(set) var mix: (partnerLabels: [Int32], weight: Float)?

    public init(capacity: Int, imageSize: Int) {
        self.capacity = capacity
        self.imageSize = imageSize
        images = FloatBuffer(count: capacity * imageSize)
        labels = [Int32](repeating: 0, count: capacity)
        indices = [Int](repeating: 0, count: capacity)
    }

    func set(label: Int32, index: Int, at slot: Int) {
        labels[slot] = label
        indices[slot] = index
    }

    func setMix(_ m: (partnerLabels: [Int32], weight: Float)?) { mix = m }
}

/// Turns sample indices into a filled `Batch`: augmentation (if any) and normalisation.
public struct BatchAssembler: Sendable {
    public let data: LabeledImages
    public let augmentation: AugmentationConfig
    public let mean: [Float]
    public let std: [Float]
    public let seed: UInt64

    public init(data: LabeledImages, augmentation: AugmentationConfig = AugmentationConfig(),
                mean: [Float], std: [Float], seed: UInt64) {
        self.data = data
        self.augmentation = augmentation
        self.mean = mean
        self.std = std
        self.seed = seed
    }

    public func makeBatch(capacity: Int) -> Batch { Batch(capacity: capacity, imageSize: data.imageSize) }

    /// Fills `batch` with the samples at `indices` (global sample indices, which also key the
    /// augmentation draws, so the same sample gets the same augmentation on any rank).
    public func fill(_ batch: Batch, indices: ArraySlice<Int>, epoch: Int) {
        precondition(indices.count <= batch.capacity, "batch of \(indices.count) exceeds capacity \(batch.capacity)")
        let size = data.imageSize
        let images = ImageAugmenter(config: augmentation, seed: seed)
        let perImage = augmentation.image.hasPerImageOps
        for (slot, index) in indices.enumerated() {
            let output = batch.images.pointer + slot * size
            if perImage {
                images.apply(source: data.image(index), output: output, channels: data.channels, height: data.height,
                             width: data.width, epoch: epoch, index: index, mean: mean, std: std)
            } else {
                let draw = augmentation.isIdentity ? AugmentationDraw()
                    : AugmentationDraw(config: augmentation, seed: seed, epoch: epoch, index: index,
                                       width: data.width, height: data.height)
                Augmenter.apply(draw, source: data.image(index), output: output,
                                channels: data.channels, height: data.height, width: data.width, mean: mean, std: std)
            }
            batch.set(label: data.labels[index], index: index, at: slot)
        }
        data.releasePages(of: indices)
        batch.count = indices.count
        BatchMixing.mix(batch, config: augmentation.image, seed: seed, epoch: epoch,
                        channels: data.channels, height: data.height, width: data.width)
    }
}
