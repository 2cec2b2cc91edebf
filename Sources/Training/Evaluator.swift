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
        evaluateEnsemble(networks: networks, images: images, indices: indices, mean: mean, std: std,
                         batchSize: batchSize, k: k).ensemble
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
