import Optim
import Tensors

extension TrainingConfig {
    /// The optimizer this config asks for: weight decay decoupled (AdamW-style, also for SGD),
    /// on weights only unless `decay_norms_and_biases`; frozen prefixes; clipping.
    public var optimizerConfig: OptimizerConfig {
        OptimizerConfig(type: optimizer == "adamw" ? .adamw : .sgd,
                        momentum: Float(momentum), nesterov: nesterov && momentum > 0, dampening: 0,
                        weightDecay: Float(weightDecay), weightDecayMode: .decoupled,
                        beta1: Float(beta1), beta2: Float(beta2), eps: Float(eps),
                        clipGradNorm: clipNorm > 0 ? Float(clipNorm) : nil,
                        decayRoles: decayNormsAndBiases ? [.weight, .bias, .normScale, .normShift] : [.weight],
                        freeze: freeze, lrMultipliers: lrMultipliers.mapValues(Float.init),
                        l1: Float(l1), l1Multipliers: l1Multipliers.mapValues(Float.init))
    }
}

extension TrainingConfig {
    /// The schedule's base learning rate for a world size (`lr_scaling`).
    public func effectiveLR(worldSize: Int) -> Double {
        lrScaling == "linear" ? lr * Double(worldSize) : lr
    }
}
