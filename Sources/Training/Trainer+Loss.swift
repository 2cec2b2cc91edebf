import Datasets
import Kernels
import Tensors

extension Trainer {
    /// The step's mean loss, with its gradient in `dLogits`: softmax cross-entropy (class
    /// weights and label smoothing as configured). A mixed batch (MixUp / CutMix) takes the
    /// soft target w * y + (1 - w) * y_partner; cross-entropy is linear in the target, so that is
    /// w * CE(y) + (1 - w) * CE(y_partner), and the same blend of the two gradients.
    func stepLoss(_ batch: Batch, logits: UnsafeBufferPointer<Float>, count n: Int) -> Float {
        let own = crossEntropy(dLogits.pointer, logits: logits, labels: batch.labels, count: n)
        guard let mix = batch.mix else { return own }
        let partner = crossEntropy(dLogitsPartner.pointer, logits: logits, labels: mix.partnerLabels, count: n)
        let w = mix.weight, k = n * network.classes
        let d = dLogits.pointer, dp = dLogitsPartner.pointer
        for i in 0..<k { d[i] = w * d[i] + (1 - w) * dp[i] }
        return w * own + (1 - w) * partner
    }

    func crossEntropy(_ gradient: UnsafeMutablePointer<Float>, logits: UnsafeBufferPointer<Float>, labels: [Int32],
                      count n: Int) -> Float {
        labels.withUnsafeBufferPointer { l -> Float in
            if let weights = classWeights {
                return weights.withUnsafeBufferPointer { w in
                    softmaxCrossEntropy(dLogits: gradient, logits: logits.baseAddress!, labels: l.baseAddress!, batch: n,
                                        classes: network.classes, classWeights: w.baseAddress,
                                        labelSmoothing: Float(config.labelSmoothing))
                }
            }
            return softmaxCrossEntropy(dLogits: gradient, logits: logits.baseAddress!, labels: l.baseAddress!, batch: n,
                                       classes: network.classes, classWeights: nil, labelSmoothing: Float(config.labelSmoothing))
        }
    }

    /// The label training accuracy is counted against: a mixed sample's larger share.
    static func dominantLabels(_ batch: Batch) -> [Int32] {
        guard let mix = batch.mix, mix.weight < 0.5 else { return batch.labels }
        return mix.partnerLabels + Array(batch.labels.dropFirst(mix.partnerLabels.count))
    }
}
