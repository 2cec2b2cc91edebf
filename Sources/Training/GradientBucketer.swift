import Collectives

/// Groups the per-layer gradient ranges that backward hands out (last layer first) into
/// contiguous buckets of at least `bucketFloats`, and starts each bucket's all-reduce as soon
/// as it is full, so communication of late layers overlaps backward of early ones (as
/// PyTorch DDP does). Every rank forms the same buckets in the same order, because the model
/// and the threshold are the same.
final class GradientBucketer {
    private let communicator: Communicator
    private let base: UnsafeMutablePointer<Float>
    private let total: Int
    private let bucketFloats: Int
    private var lower: Int?
    private var upper: Int?
    private var nextBucket = 0
    private var covered = 0

    init(communicator: Communicator, gradients base: UnsafeMutablePointer<Float>, count: Int, bucketBytes: Int) {
        self.communicator = communicator
        self.base = base
        total = count
        bucketFloats = max(bucketBytes / MemoryLayout<Float>.stride, 1)
    }

    /// Called by backward with a layer's final gradient range.
    func ready(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        // Ranges arrive in decreasing offsets; a bucket grows downwards and also absorbs the
        // alignment padding between tensors (always zero), so buckets tile the arena.
        let hi = upper ?? total
        upper = hi
        lower = min(lower ?? range.lowerBound, range.lowerBound)
        if hi - lower! >= bucketFloats { submit() }
    }

    /// Submits what is pending (down to offset 0) and resets for the next step.
    func finishStep() {
        let hi = upper ?? total
        if hi > 0 {
            upper = hi
            lower = 0
            submit()
        }
        precondition(covered == total, "gradient buckets covered \(covered) of \(total) floats")
        covered = 0
        nextBucket = 0
        upper = nil
        lower = nil
    }

    private func submit() {
        guard let lo = lower, let hi = upper, hi > lo else { return }
        communicator.beginAllReduce(UnsafeMutableBufferPointer(start: base + lo, count: hi - lo), bucket: nextBucket)
        nextBucket += 1
        covered += hi - lo
        upper = lo
        lower = nil
    }
}
