import Tensors

/// Which samples a rank trains on: a pure function of (seed, epoch, rank, world size, cursor).
///
/// Each epoch has one global order of sample indices (shuffled by the counter-based generator
/// keyed by seed and epoch, or class-balanced by over- or undersampling). The `cursor` counts the
/// positions of that order already consumed by all ranks together. From a cursor, the
/// remaining positions are padded by wrapping around to the start of the order (PyTorch
/// DistributedSampler's `drop_last=False`) or truncated (`drop_last=True`) to a multiple of
/// the world size, and rank r takes every world-size-th position starting at r
/// (`indices[rank::world]`). Because nothing depends on state, a run resumed at any cursor,
/// with any world size, draws exactly the samples not yet seen.
public struct EpochSampler: Sendable {
    public enum Order: Sendable {
        /// 0, 1, 2, ... every epoch (evaluation).
        case sequential
        /// A fresh permutation per epoch.
        case shuffled
        /// Every class oversampled to the size of the largest (or to `perClass` samples), then
        /// shuffled (class imbalance).
        case balanced(labels: [Int32], classCount: Int, perClass: Int? = nil)
        /// Every class cut down to the size of the smallest non-empty one (or to `perClass`),
        /// a fresh random subset each epoch, then shuffled. A class smaller than `perClass` is
        /// drawn with repetition, as in `balanced`.
        case undersampled(labels: [Int32], classCount: Int, perClass: Int? = nil)
    }

    public let datasetSize: Int
    public let seed: UInt64
    public let order: Order
    public let dropLast: Bool
    /// Positions in one epoch's global order, before padding or truncation.
    public let epochLength: Int
    /// Balanced and undersampled orders: how many samples each non-empty class contributes.
    let perClassTarget: Int

    public init(datasetSize: Int, seed: UInt64, order: Order = .shuffled, dropLast: Bool = false) {
        precondition(datasetSize >= 0)
        self.datasetSize = datasetSize
        self.seed = seed
        self.order = order
        self.dropLast = dropLast
        switch order {
        case .sequential, .shuffled:
            perClassTarget = 0
            epochLength = datasetSize
        case .balanced(let labels, let classCount, let perClass), .undersampled(let labels, let classCount, let perClass):
            precondition(labels.count == datasetSize)
            precondition(perClass.map { $0 > 0 } ?? true, "perClass must be positive")
            var counts = [Int](repeating: 0, count: classCount)
            for l in labels { counts[Int(l)] += 1 }
            let present = counts.filter { $0 > 0 }
            if case .balanced = order {
                perClassTarget = perClass ?? (present.max() ?? 0)
            } else {
                perClassTarget = perClass ?? (present.min() ?? 0)
            }
            epochLength = perClassTarget * present.count
        }
    }

    /// The epoch's global order of sample indices.
    public func epochOrder(epoch: Int) -> [Int] {
        switch order {
        case .sequential:
            return Array(0..<datasetSize)
        case .shuffled:
            var indices = Array(0..<datasetSize)
            var rng = CounterRNG(seed: seed, purpose: .shuffle, a: UInt64(epoch))
            fisherYates(&indices, &rng)
            return indices
        case .balanced(let labels, let classCount, _), .undersampled(let labels, let classCount, _):
            return resampledOrder(labels: labels, classCount: classCount, epoch: epoch)
        }
    }

    /// This rank's sample indices from `cursor` to the end of the epoch, in training order.
    public func indices(epoch: Int, cursor: Int, rank: Int, worldSize: Int) -> [Int] {
        precondition(worldSize > 0 && (0..<worldSize).contains(rank), "rank \(rank) outside world size \(worldSize)")
        let full = epochOrder(epoch: epoch)
        let start = min(max(cursor, 0), full.count)
        let remaining = full.count - start
        let total = dropLast ? remaining / worldSize * worldSize
                             : (remaining + worldSize - 1) / worldSize * worldSize
        guard total > 0, !full.isEmpty else { return [] }
        var mine: [Int] = []
        mine.reserveCapacity(total / worldSize)
        var p = rank
        while p < total {
            let position = start + p
            // Padding wraps around to the start of the order (again, for tiny datasets).
            mine.append(position < full.count ? full[position] : full[(position - full.count) % full.count])
            p += worldSize
        }
        return mine
    }

    /// Samples per rank left in the epoch from `cursor` (the length `indices` returns).
    public func samplesPerRank(cursor: Int, worldSize: Int) -> Int {
        let remaining = max(epochLength - max(cursor, 0), 0)
        return dropLast ? remaining / worldSize : (remaining + worldSize - 1) / worldSize
    }

    /// The cursor after one step in which every rank consumed `batchSize` samples.
    public func advance(cursor: Int, batchSize: Int, worldSize: Int) -> Int {
        min(cursor + batchSize * worldSize, epochLength)
    }

    /// `perClassTarget` samples of every non-empty class, shuffled together. A class larger
    /// than the target gives a random subset (undersampling), a smaller one whole shuffled
    /// copies and a partial one (oversampling); both are fresh every epoch.
    private func resampledOrder(labels: [Int32], classCount: Int, epoch: Int) -> [Int] {
        var byClass = [[Int]](repeating: [], count: classCount)
        for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
        let target = perClassTarget
        var out: [Int] = []
        out.reserveCapacity(target * classCount)
        for (c, members) in byClass.enumerated() where !members.isEmpty {
            // Whole shuffled copies of the class, then a shuffled partial copy.
            var taken = 0, round: UInt64 = 0
            while taken < target {
                var copy = members
                var rng = CounterRNG(seed: seed, purpose: .oversampling, a: UInt64(epoch),
                                     b: UInt64(c) << 32 | round)
                fisherYates(&copy, &rng)
                let n = min(copy.count, target - taken)
                out.append(contentsOf: copy[0..<n])
                taken += n
                round += 1
            }
        }
        var rng = CounterRNG(seed: seed, purpose: .shuffle, a: UInt64(epoch), b: 1)
        fisherYates(&out, &rng)
        return out
    }
}

func fisherYates(_ a: inout [Int], _ rng: inout CounterRNG) {
    guard a.count > 1 else { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
        let j = rng.nextBelow(i + 1)
        if i != j { a.swapAt(i, j) }
    }
}
