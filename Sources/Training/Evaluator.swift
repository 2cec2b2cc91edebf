import Datasets
import Foundation
import Layers
import Tensors

/// Runs models in evaluation mode over a split and counts what metrics need. With several
/// networks it is an ensemble: the mean of their softmax outputs.
public enum Evaluator {
    /// Loss, top-1/top-5 and the confusion matrix of `networks` on `images[indices]`.
    public static func evaluate(networks: [Network], images: LabeledImages, indices: [Int],
                                mean: [Float], std: [Float], batchSize: Int) -> EvaluationCounts {
        precondition(!networks.isEmpty, "evaluate needs at least one network")
        let classes = networks[0].classes
        var counts = EvaluationCounts(classes: classes)
        let assembler = BatchAssembler(data: images, mean: mean, std: std, seed: 0)
        let capacity = min(batchSize, networks.map(\.maxBatch).min()!)
        let plan = Prefetcher.chunk(indices, batchSize: max(capacity, 1))
        let prefetcher = Prefetcher(assembler: assembler, plan: plan, epoch: 0, capacity: max(capacity, 1))
        defer { prefetcher.cancel() }
        var probabilities = [Double](repeating: 0, count: capacity * classes)
        while let batch = prefetcher.next() {
            let n = batch.count
            for i in 0..<(n * classes) { probabilities[i] = 0 }
            for network in networks {
                let logits = network.forward(batch.images.pointer, batch: n, training: false, step: 0)
                for i in 0..<n {
                    var zmax = -Float.infinity
                    for c in 0..<classes { zmax = max(zmax, logits[i * classes + c]) }
                    var sum = 0.0
                    for c in 0..<classes { sum += exp(Double(logits[i * classes + c] - zmax)) }
                    for c in 0..<classes {
                        probabilities[i * classes + c] += exp(Double(logits[i * classes + c] - zmax)) / sum / Double(networks.count)
                    }
                }
            }
            for i in 0..<n {
                counts.add(probabilities: probabilities[(i * classes)..<((i + 1) * classes)], label: Int(batch.labels[i]))
            }
        }
        return counts
    }
}

/// Sums over samples, so ranks can add theirs (distributed evaluation) before dividing.
public struct EvaluationCounts: Codable, Sendable, Equatable {
    public var classes: Int
    public var samples: Int = 0
    public var lossSum: Double = 0
    public var top1: Int = 0
    public var top5: Int = 0
    /// confusion[true][predicted]
    public var confusion: [[Int]]

    public init(classes: Int) {
        self.classes = classes
        confusion = Array(repeating: Array(repeating: 0, count: classes), count: classes)
    }

    mutating func add(probabilities p: ArraySlice<Double>, label: Int) {
        let base = p.startIndex
        lossSum += -log(max(p[base + label], 1e-30))
        var rank = 0, best = 0
        for c in 0..<classes {
            if p[base + c] > p[base + label] || (p[base + c] == p[base + label] && c < label) { rank += 1 }
            if p[base + c] > p[base + best] { best = c }
        }
        if rank == 0 { top1 += 1 }
        if rank < 5 { top5 += 1 }
        confusion[label][best] += 1
        samples += 1
    }

    public mutating func merge(_ other: EvaluationCounts) {
        samples += other.samples
        lossSum += other.lossSum
        top1 += other.top1
        top5 += other.top5
        for t in 0..<classes { for p in 0..<classes { confusion[t][p] += other.confusion[t][p] } }
    }

    public var loss: Double { samples > 0 ? lossSum / Double(samples) : .nan }
    public var top1Accuracy: Double { samples > 0 ? Double(top1) / Double(samples) : 0 }
    public var top5Accuracy: Double { samples > 0 ? Double(top5) / Double(samples) : 0 }

    /// Per class: precision (of predictions of c, how many were c), recall, F1, support.
    public func perClass() -> [(precision: Double, recall: Double, f1: Double, support: Int)] {
        (0..<classes).map { c in
            let tp = Double(confusion[c][c])
            let predicted = Double((0..<classes).reduce(0) { $0 + confusion[$1][c] })
            let actual = confusion[c].reduce(0, +)
            let precision = predicted > 0 ? tp / predicted : 0
            let recall = actual > 0 ? tp / Double(actual) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return (precision, recall, f1, actual)
        }
    }

    /// Flattened for an all-gather of doubles.
    public var asDoubles: [Double] {
        [Double(samples), lossSum, Double(top1), Double(top5)] + confusion.flatMap { $0.map(Double.init) }
    }

    public init(classes: Int, doubles d: [Double]) {
        self.init(classes: classes)
        samples = Int(d[0]); lossSum = d[1]; top1 = Int(d[2]); top5 = Int(d[3])
        for t in 0..<classes { for p in 0..<classes { confusion[t][p] = Int(d[4 + t * classes + p]) } }
    }
}

extension Trainer {
    public struct EvaluationResult {
        public var loss: Double, top1: Double, top5: Double
        public var counts: EvaluationCounts
    }

    /// Evaluates this rank's share of `images` (every world-size-th sample) and combines the
    /// counts of all ranks, so every rank returns the same numbers.
    func evaluate(_ images: LabeledImages) throws -> EvaluationResult {
        let world = communicator.worldSize, rank = communicator.rank
        let mine = Array(stride(from: rank, to: images.count, by: world))
        var counts = Evaluator.evaluate(networks: [network], images: images, indices: mine,
                                        mean: state.normalizationMean, std: state.normalizationStd,
                                        batchSize: config.batchSize)
        if world > 1 {
            let all = try communicator.allGather(counts.asDoubles)
            counts = EvaluationCounts(classes: counts.classes)
            for d in all { counts.merge(EvaluationCounts(classes: counts.classes, doubles: d)) }
        }
        return EvaluationResult(loss: counts.loss, top1: counts.top1Accuracy, top5: counts.top5Accuracy, counts: counts)
    }
}
