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
        for (slot, index) in indices.enumerated() {
            let draw = augmentation.isIdentity ? AugmentationDraw()
                : AugmentationDraw(config: augmentation, seed: seed, epoch: epoch, index: index,
                                   width: data.width, height: data.height)
            Augmenter.apply(draw, source: data.image(index),
                            output: batch.images.pointer + slot * size,
                            channels: data.channels, height: data.height, width: data.width,
                            mean: mean, std: std)
            batch.set(label: data.labels[index], index: index, at: slot)
        }
        data.releasePages(of: indices)
        batch.count = indices.count
    }
}
