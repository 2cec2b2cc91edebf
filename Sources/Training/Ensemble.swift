import Datasets
import Foundation
import Layers
import Tensors

/// How an ensemble's members are combined into one prediction.
public enum EnsembleCombine: String, Sendable, CaseIterable {
    /// The (weighted) mean of the members' softmax outputs.
    case mean
    /// Each member votes for its top-1 class (with its weight); the most votes win, a tie goes
    /// to the class with the larger (weighted) summed probability, then to the lower index.
    case vote
}

public enum EnsembleRule {
    /// One sample's combined prediction from its members' class probabilities: the weighted
    /// mean of the probabilities (what the loss is computed from, for both rules) and, for
    /// `vote`, each class's vote total. Weights need not sum to 1; equal weights: nil.
    public static func combine(_ members: [[Double]], weights: [Double]?, rule: EnsembleCombine) -> (probabilities: [Double], votes: [Double]?) {
        precondition(!members.isEmpty, "an ensemble needs a member")
        let classes = members[0].count
        let w = weights ?? [Double](repeating: 1, count: members.count)
        precondition(w.count == members.count, "one weight per member")
        let total = w.reduce(0, +)
        var mean = [Double](repeating: 0, count: classes)
        for (m, p) in members.enumerated() {
            for c in 0..<classes { mean[c] += w[m] * p[c] }
        }
        for c in 0..<classes { mean[c] /= total }
        guard rule == .vote else { return (mean, nil) }
        var votes = [Double](repeating: 0, count: classes)
        for (m, p) in members.enumerated() {
            var best = 0
            for c in 1..<classes where p[c] > p[best] { best = c }
            votes[best] += w[m]
        }
        return (mean, votes)
    }
}

/// An ensemble's figures and each member's, on the plain images and (with test-time views)
/// averaged over the views.
public struct EnsembleEvaluation {
    public var ensemble: ClassificationMetrics
    public var members: [ClassificationMetrics]
    /// With more views than the identity: the same figures over the averaged views.
    public var augmentedEnsemble: ClassificationMetrics?
    public var augmentedMembers: [ClassificationMetrics]?
}

extension Evaluator {
    /// Every member's and the ensemble's figures on `images[indices]`; with `views` beyond
    /// the identity, also those of each member's prediction averaged over the views (the
    /// mean of the views' softmax outputs), combined into the ensemble the same way.
    public static func evaluateEnsemble(networks: [Network], images: LabeledImages, indices: [Int], mean: [Float], std: [Float],
                                        batchSize: Int, k: Int = 5, weights: [Double]? = nil, combine: EnsembleCombine = .mean,
                                        views: [TestTimeView] = [.identity]) -> EnsembleEvaluation {
        precondition(!networks.isEmpty, "evaluate needs at least one network")
        precondition(views.first == .identity, "the first view is the image itself")
        let classes = networks[0].classes
        let empty = ClassificationMetrics(classCount: classes, k: k)
        var result = EnsembleEvaluation(ensemble: empty, members: Array(repeating: empty, count: networks.count))
        let augmented = views.count > 1
        if augmented {
            result.augmentedEnsemble = empty
            result.augmentedMembers = Array(repeating: empty, count: networks.count)
        }
        let capacity = max(min(batchSize, networks.map(\.maxBatch).min()!), 1)
        let assembler = BatchAssembler(data: images, mean: mean, std: std, seed: 0)
        let prefetcher = Prefetcher(assembler: assembler, plan: Prefetcher.chunk(indices, batchSize: capacity),
                                    epoch: 0, capacity: capacity)
        defer { prefetcher.cancel() }
        let imageSize = images.channels * images.height * images.width
        let viewBuffer = FloatBuffer(count: augmented ? capacity * imageSize : 1)
        // A black pixel's normalised value, per channel: what lies outside a shifted view.
        let fill = (0..<images.channels).map { c in (0 - mean[c % mean.count]) / std[c % std.count] }
        while let batch = prefetcher.next() {
            let n = batch.count
            let labels = Array(batch.labels.prefix(n))
            // plain[m][i] and averaged[m][i]: member m's probabilities for sample i.
            var plain: [[[Double]]] = [], averaged: [[[Double]]] = []
            for (m, network) in networks.enumerated() {
                let logits = network.forward(batch.images.pointer, batch: n, training: false, step: 0)
                result.members[m].add(logits: UnsafeBufferPointer(rebasing: logits[0..<(n * classes)]), labels: labels)
                // One plain model (every validation of a run) needs nothing beyond its logits.
                guard networks.count > 1 || augmented else { continue }
                var p = softmaxRows(logits, n: n, classes: classes)
                plain.append(p)
                guard augmented else { continue }
                for view in views.dropFirst() {
                    view.apply(source: batch.images.pointer, output: viewBuffer.pointer, count: n, channels: images.channels,
                               height: images.height, width: images.width, fill: fill)
                    let q = softmaxRows(network.forward(viewBuffer.pointer, batch: n, training: false, step: 0), n: n, classes: classes)
                    for i in 0..<n { for c in 0..<classes { p[i][c] += q[i][c] } }
                }
                for i in 0..<n { for c in 0..<classes { p[i][c] /= Double(views.count) } }
                result.augmentedMembers![m].add(probabilities: p.flatMap { $0.map(Float.init) }, labels: labels.map(Int.init))
                averaged.append(p)
            }
            if networks.count == 1 {
                result.ensemble = result.members[0]
            } else {
                add(combining: plain, weights: weights, rule: combine, labels: labels, to: &result.ensemble)
            }
            if augmented {
                if networks.count == 1 {
                    result.augmentedEnsemble = result.augmentedMembers![0]
                } else {
                    add(combining: averaged, weights: weights, rule: combine, labels: labels, to: &result.augmentedEnsemble!)
                }
            }
        }
        return result
    }

    static func softmaxRows(_ logits: UnsafeBufferPointer<Float>, n: Int, classes: Int) -> [[Double]] {
        (0..<n).map { i in
            let row = logits[(i * classes)..<((i + 1) * classes)]
            let zmax = Double(row.max()!)
            let e = row.map { exp(Double($0) - zmax) }
            let total = e.reduce(0, +)
            return e.map { $0 / total }
        }
    }

    /// Combines the members' probabilities sample by sample into `metrics`.
    static func add(combining members: [[[Double]]], weights: [Double]?, rule: EnsembleCombine, labels: [Int32],
                    to metrics: inout ClassificationMetrics) {
        for (i, label) in labels.enumerated() {
            let (p, votes) = EnsembleRule.combine(members.map { $0[i] }, weights: weights, rule: rule)
            metrics.add(probabilities: p.map(Float.init), votes: votes, label: Int(label))
        }
    }
}
