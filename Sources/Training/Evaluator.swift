import Datasets
import Foundation
import Layers
import Tensors

/// Runs models in evaluation mode over a split and counts what metrics need. With several
/// networks it is an ensemble: the mean of their softmax outputs.
public enum Evaluator {
    /// Loss, top-1/top-k and the confusion matrix of `networks` on `images[indices]`.
    /// One network: softmax cross-entropy of its logits. Several: the mean of their softmax
    /// outputs, and the loss is -log of the mean probability of the true class.
    public static func evaluate(networks: [Network], images: LabeledImages, indices: [Int],
                                mean: [Float], std: [Float], batchSize: Int, k: Int = 5) -> ClassificationMetrics {
        precondition(!networks.isEmpty, "evaluate needs at least one network")
        let classes = networks[0].classes
        var metrics = ClassificationMetrics(classCount: classes, k: k)
        let capacity = max(min(batchSize, networks.map(\.maxBatch).min()!), 1)
        let assembler = BatchAssembler(data: images, mean: mean, std: std, seed: 0)
        let prefetcher = Prefetcher(assembler: assembler, plan: Prefetcher.chunk(indices, batchSize: capacity),
                                    epoch: 0, capacity: capacity)
        defer { prefetcher.cancel() }
        var probabilities = [Float](repeating: 0, count: capacity * classes)
        while let batch = prefetcher.next() {
            let n = batch.count
            let labels = batch.labels.prefix(n)
            if networks.count == 1 {
                let logits = networks[0].forward(batch.images.pointer, batch: n, training: false, step: 0)
                metrics.add(logits: UnsafeBufferPointer(rebasing: logits[0..<(n * classes)]), labels: labels)
                continue
            }
            var sums = [Double](repeating: 0, count: n * classes)
            for network in networks {
                let logits = network.forward(batch.images.pointer, batch: n, training: false, step: 0)
                for i in 0..<n {
                    let row = (i * classes)..<((i + 1) * classes)
                    let zmax = Double(logits[row].max()!)
                    let total = logits[row].reduce(0.0) { $0 + exp(Double($1) - zmax) }
                    for j in row { sums[j] += exp(Double(logits[j]) - zmax) / total }
                }
            }
            for j in 0..<(n * classes) { probabilities[j] = Float(sums[j] / Double(networks.count)) }
            probabilities.withUnsafeBufferPointer { p in
                metrics.add(probabilities: UnsafeBufferPointer(rebasing: p[0..<(n * classes)]), labels: labels)
            }
        }
        return metrics
    }
}

extension Trainer {
    public struct EvaluationResult {
        public var loss: Double, top1: Double, top5: Double
        public var metrics: ClassificationMetrics
    }

    /// Evaluates this rank's share of `images` (every world-size-th sample) and combines the
    /// counts of all ranks, so every rank returns the same numbers.
    func evaluate(_ images: LabeledImages) throws -> EvaluationResult {
        let world = communicator.worldSize, rank = communicator.rank
        let mine = Array(stride(from: rank, to: images.count, by: world))
        var metrics = Evaluator.evaluate(networks: [network], images: images, indices: mine,
                                         mean: state.normalizationMean, std: state.normalizationStd,
                                         batchSize: config.batchSize)
        if world > 1 {
            let all = try communicator.allGather(metrics.packed())
            metrics = ClassificationMetrics(classCount: metrics.classCount, k: metrics.k)
            for packed in all { metrics.merge(try ClassificationMetrics(classCount: metrics.classCount, k: metrics.k, packed: packed)) }
        }
        return EvaluationResult(loss: metrics.loss, top1: metrics.top1, top5: metrics.topK, metrics: metrics)
    }
}
