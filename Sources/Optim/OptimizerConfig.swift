import Tensors

/// Which update rule an `Optimizer` applies.
public enum OptimizerAlgorithm: Sendable, Equatable {
    /// PyTorch `torch.optim.SGD`.
    case sgd(SGDOptions)
    /// PyTorch `torch.optim.AdamW` (amsgrad off).
    case adamw(AdamWOptions)
}

/// How weight decay enters an SGD step.
public enum WeightDecayMode: String, Codable, Sendable {
    /// `g += wd * p` before momentum: what `torch.optim.SGD(weight_decay=)` does (the default,
    /// so PyTorch hyperparameters transfer unchanged).
    case l2
    /// `p -= lr * wd * p` before the update, outside momentum (decoupled, as in AdamW/SGDW).
    case decoupled
}

/// `torch.optim.SGD` options. `momentum` here is the default; a schedule may override it per step.
public struct SGDOptions: Sendable, Equatable {
    public var momentum: Float
    public var dampening: Float
    public var nesterov: Bool
    public var weightDecay: Float
    public var weightDecayMode: WeightDecayMode

    /// Defaults: momentum 0.9, dampening 0, nesterov false, weight decay 0, mode `.l2`.
    public init(momentum: Float = 0.9, dampening: Float = 0, nesterov: Bool = false,
                weightDecay: Float = 0, weightDecayMode: WeightDecayMode = .l2) {
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.weightDecayMode = weightDecayMode
    }
}

/// `torch.optim.AdamW` options. A schedule's momentum (one-cycle, cyclic) replaces `beta1`.
public struct AdamWOptions: Sendable, Equatable {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float

    /// Defaults are PyTorch's: betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }
}

/// Which slots get weight decay and which are frozen.
public struct ParameterGroups: Sendable, Equatable {
    /// Roles that receive weight decay. Default `[.weight]`: biases and norm scales/shifts are
    /// excluded, as is usual for CNNs. `.buffer` slots never take part in a step.
    public var decayRoles: Set<TensorRole>
    /// Slots whose name starts with one of these prefixes are frozen: parameters and optimizer
    /// state stay unchanged bit for bit and their gradients are left out of the clipping norm.
    /// A prefix matches whole name components: "conv1" freezes "conv1.weight", not "conv10.weight";
    /// "conv1." and "" (everything) are taken literally.
    public var frozenPrefixes: [String]
    /// Per name prefix, a factor on the learning rate (discriminative fine-tuning: a new head
    /// at 10x the backbone's rate). The longest matching prefix wins; no match: 1.
    public var lrMultipliers: [String: Float]
    /// Per name prefix, a factor on the L1 strength (`{"fc": 0}`: no L1 on the head). The
    /// longest matching prefix wins; no match: 1. L1 reaches the roles weight decay reaches.
    public var l1Multipliers: [String: Float]

    public init(decayRoles: Set<TensorRole> = [.weight], frozenPrefixes: [String] = [], lrMultipliers: [String: Float] = [:],
                l1Multipliers: [String: Float] = [:]) {
        self.decayRoles = decayRoles
        self.frozenPrefixes = frozenPrefixes
        self.lrMultipliers = lrMultipliers
        self.l1Multipliers = l1Multipliers
    }

    public func isFrozen(_ name: String) -> Bool {
        frozenPrefixes.contains { Self.prefix($0, matches: name) }
    }

    /// Whether `prefix` covers `name` in whole name components ("conv1" covers "conv1.weight",
    /// not "conv10.weight"; "" and prefixes ending in "." are taken literally).
    public static func prefix(_ prefix: String, matches name: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        if prefix.isEmpty || prefix.hasSuffix(".") || name.count == prefix.count { return true }
        return name.dropFirst(prefix.count).first == "."
    }

    /// The learning-rate factor of a slot.
    public func lrMultiplier(_ name: String) -> Float { Self.factor(lrMultipliers, name) }

    /// The L1 strength of a slot for a base strength: 0 outside the decayed roles.
    public func l1Strength(_ slot: TensorSlot, base: Float) -> Float {
        base > 0 && decays(slot) ? base * Self.factor(l1Multipliers, slot.name) : 0
    }

    /// The factor of the longest prefix in `table` covering `name` (1 when none does).
    static func factor(_ table: [String: Float], _ name: String) -> Float {
        var best: (length: Int, factor: Float)? = nil
        for (prefix, factor) in table where Self.prefix(prefix, matches: name) {
            if best == nil || prefix.count > best!.length { best = (prefix.count, factor) }
        }
        return best?.factor ?? 1
    }

    /// Whether a slot is updated by a step (not frozen, not a buffer).
    public func isTrainable(_ slot: TensorSlot) -> Bool {
        slot.role != .buffer && !isFrozen(slot.name)
    }

    public func decays(_ slot: TensorSlot) -> Bool { decayRoles.contains(slot.role) }
}

/// The optimizer section of a run configuration. JSON keys (unknown keys are rejected):
///
/// ```json
/// {"type": "sgd",   "momentum": 0.9, "nesterov": false, "dampening": 0,
///  "weight_decay": 5e-4, "weight_decay_mode": "l2", "clip_grad_norm": 5.0,
///  "decay_roles": ["weight"], "freeze": ["conv1"]}
/// {"type": "adamw", "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01,
///  "clip_grad_norm": 1.0, "decay_roles": ["weight"], "freeze": []}
/// ```
/// - `type`: `sgd` (default) or `adamw`.
/// - SGD: `momentum` (default 0.9, in [0, 1)), `nesterov` (false; needs momentum > 0 and
///   dampening 0), `dampening` (0), `weight_decay` (0), `weight_decay_mode` (`l2`: PyTorch
///   SGD's coupled decay, default; `decoupled`: `p -= lr*wd*p`).
/// - AdamW: `beta1` (0.9), `beta2` (0.999), both in [0, 1); `eps` (1e-8, > 0); `weight_decay`
///   (0.01), always decoupled.
/// - `clip_grad_norm`: clip the gradients to this global L2 norm before the step (absent: no clipping).
/// - `decay_roles`: which tensor roles get weight decay (`weight`, `bias`, `normScale`, `normShift`);
///   default `["weight"]`.
/// - `freeze`: name prefixes of frozen tensors (see `ParameterGroups.frozenPrefixes`).
/// - `l1`: L1 strength λ: λ·sign(w) is added to the gradients of the decayed roles before
///   clipping and the update (0: off); `l1_multipliers` scales it by name prefix.
public struct OptimizerConfig: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case sgd, adamw }

    public var type: Kind
    public var momentum: Float
    public var nesterov: Bool
    public var dampening: Float
    public var weightDecay: Float?
    public var weightDecayMode: WeightDecayMode
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var clipGradNorm: Float?
    public var decayRoles: [TensorRole]
    public var freeze: [String]
    /// `lr_multipliers`: name prefix -> learning-rate factor (see `ParameterGroups.lrMultipliers`).
    public var lrMultipliers: [String: Float] = [:]
    /// `l1`: the L1 strength (0: off).
    public var l1: Float = 0
    /// `l1_multipliers`: name prefix -> factor on `l1` (see `ParameterGroups.l1Multipliers`).
    public var l1Multipliers: [String: Float] = [:]

    public init(type: Kind = .sgd, momentum: Float = 0.9, nesterov: Bool = false, dampening: Float = 0,
                weightDecay: Float? = nil, weightDecayMode: WeightDecayMode = .l2,
                beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                clipGradNorm: Float? = nil, decayRoles: [TensorRole] = [.weight], freeze: [String] = [],
                lrMultipliers: [String: Float] = [:], l1: Float = 0, l1Multipliers: [String: Float] = [:]) {
        self.type = type
        self.momentum = momentum
        self.nesterov = nesterov
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.weightDecayMode = weightDecayMode
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.clipGradNorm = clipGradNorm
        self.decayRoles = decayRoles
        self.freeze = freeze
        self.lrMultipliers = lrMultipliers
        self.l1 = l1
        self.l1Multipliers = l1Multipliers
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, momentum, nesterov, dampening
        case weightDecay = "weight_decay", weightDecayMode = "weight_decay_mode"
        case beta1, beta2, eps
        case clipGradNorm = "clip_grad_norm", decayRoles = "decay_roles", freeze, lrMultipliers = "lr_multipliers"
        case l1, l1Multipliers = "l1_multipliers"
    }

    public init(from decoder: Decoder) throws {
        try ConfigKeys.rejectUnknown(in: decoder, allowed: CodingKeys.allCases.map(\.stringValue), section: "optimizer")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = OptimizerConfig()
        type = try c.decodeIfPresent(Kind.self, forKey: .type) ?? d.type
        momentum = try c.decodeIfPresent(Float.self, forKey: .momentum) ?? d.momentum
        nesterov = try c.decodeIfPresent(Bool.self, forKey: .nesterov) ?? d.nesterov
        dampening = try c.decodeIfPresent(Float.self, forKey: .dampening) ?? d.dampening
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay)
        weightDecayMode = try c.decodeIfPresent(WeightDecayMode.self, forKey: .weightDecayMode) ?? d.weightDecayMode
        beta1 = try c.decodeIfPresent(Float.self, forKey: .beta1) ?? d.beta1
        beta2 = try c.decodeIfPresent(Float.self, forKey: .beta2) ?? d.beta2
        eps = try c.decodeIfPresent(Float.self, forKey: .eps) ?? d.eps
        clipGradNorm = try c.decodeIfPresent(Float.self, forKey: .clipGradNorm)
        decayRoles = try c.decodeIfPresent([TensorRole].self, forKey: .decayRoles) ?? d.decayRoles
        freeze = try c.decodeIfPresent([String].self, forKey: .freeze) ?? d.freeze
        lrMultipliers = try c.decodeIfPresent([String: Float].self, forKey: .lrMultipliers) ?? d.lrMultipliers
        l1 = try c.decodeIfPresent(Float.self, forKey: .l1) ?? d.l1
        l1Multipliers = try c.decodeIfPresent([String: Float].self, forKey: .l1Multipliers) ?? d.l1Multipliers
        try validate()
    }

    /// Throws a `ConfigError` naming the key of the first value out of range.
    public func validate() throws {
        func check(_ ok: Bool, _ key: CodingKeys, _ why: String) throws {
            if !ok { throw ConfigError(key: "optimizer.\(key.stringValue)", message: why) }
        }
        try check(momentum >= 0 && momentum < 1, .momentum, "must be in [0, 1), got \(momentum)")
        try check(dampening >= 0 && dampening <= 1, .dampening, "must be in [0, 1], got \(dampening)")
        try check(!nesterov || (momentum > 0 && dampening == 0), .nesterov,
                  "needs momentum > 0 and dampening 0")
        if let wd = weightDecay { try check(wd >= 0 && wd.isFinite, .weightDecay, "must be >= 0, got \(wd)") }
        try check(beta1 >= 0 && beta1 < 1, .beta1, "must be in [0, 1), got \(beta1)")
        try check(beta2 >= 0 && beta2 < 1, .beta2, "must be in [0, 1), got \(beta2)")
        try check(eps > 0 && eps.isFinite, .eps, "must be > 0, got \(eps)")
        if let c = clipGradNorm { try check(c > 0 && c.isFinite, .clipGradNorm, "must be > 0, got \(c)") }
        for (prefix, factor) in lrMultipliers.sorted(by: { $0.key < $1.key }) {
            try check(factor >= 0 && factor <= 1000 && factor.isFinite, .lrMultipliers, "'\(prefix)': factor must be in 0...1000, got \(factor)")
        }
        try check(l1 >= 0 && l1 < 1, .l1, "must be in [0, 1), got \(l1)")
        for (prefix, factor) in l1Multipliers.sorted(by: { $0.key < $1.key }) {
            try check(factor >= 0 && factor <= 1000 && factor.isFinite, .l1Multipliers, "'\(prefix)': factor must be in 0...1000, got \(factor)")
        }
    }

    public var algorithm: OptimizerAlgorithm {
        switch type {
        case .sgd:
            return .sgd(SGDOptions(momentum: momentum, dampening: dampening, nesterov: nesterov,
                                   weightDecay: weightDecay ?? 0, weightDecayMode: weightDecayMode))
        case .adamw:
            return .adamw(AdamWOptions(beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: weightDecay ?? 0.01))
        }
    }

    public var groups: ParameterGroups {
        ParameterGroups(decayRoles: Set(decayRoles), frozenPrefixes: freeze, lrMultipliers: lrMultipliers, l1Multipliers: l1Multipliers)
    }
}
