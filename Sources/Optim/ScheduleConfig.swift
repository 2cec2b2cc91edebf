/// The learning-rate schedule section of a run configuration, decoded from JSON such as
/// `{"type": "cosine", "warmup_steps": 500}`. Unknown keys, and keys that do not belong to the
/// chosen `type`, are rejected with a `ConfigError` naming the key; values out of range likewise.
///
/// Positions: every count below (`step_size`, `milestones`, `warmup_steps`, `total_steps`,
/// `step_size_up`, ...) is in units of `interval`: `"step"` (default) counts optimizer steps;
/// `"epoch"` counts whole epochs, i.e. the schedule sees `floor(global_step / steps_per_epoch)`,
/// exactly like calling a PyTorch scheduler's `.step()` once per epoch.
///
/// Keys by `type` (the base learning rate is the optimizer's `lr`, unless noted):
/// - `constant`: no further keys. lr = base.
/// - `step`: `step_size` (required, > 0), `gamma` (0.1). lr = base * gamma^floor(t / step_size) (StepLR).
/// - `multistep`: `milestones` (required, increasing, > 0), `gamma` (0.1).
///   lr = base * gamma^(number of milestones <= t) (MultiStepLR).
/// - `exponential`: `gamma` (required, in (0, 1]). lr = base * gamma^t (ExponentialLR).
/// - `cosine`: `warmup_steps` (0) or `warmup_fraction` (of the total, in [0, 0.5]),
///   `warmup_start_factor` (0, in [0, 1]), `total_steps` (default: the run's total in the
///   chosen unit), `min_lr` (0). Linear warmup over W steps, lr(t) = base * (f0 + (1 - f0) *
///   (t + 1) / W) for t < W (the first step never runs at exactly 0; base at t = W - 1), then
///   lr = min_lr + (base - min_lr) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2,
///   held at `min_lr` after `total_steps`.
/// - `onecycle` (OneCycleLR, cos annealing): `max_lr` (default: base), `total_steps` (default: the
///   run's total), `pct_start` (0.3), `div_factor` (25), `final_div_factor` (1e4), `three_phase`
///   (false), `cycle_momentum` (true), `base_momentum` (0.85), `max_momentum` (0.95). Held at the
///   final value after `total_steps`.
/// - `cyclic` (CyclicLR): `base_lr` (default: the optimizer's lr), `max_lr` (required),
///   `step_size_up` (2000), `step_size_down` (default: `step_size_up`), `mode` (`triangular`,
///   `triangular2`, `exp_range`; default `triangular`), `gamma` (1.0, used by `exp_range`),
///   `cycle_momentum` (true), `base_momentum` (0.8), `max_momentum` (0.9).
/// - `plateau`: a constant base lr reduced by `reduce_on_plateau` (PyTorch's defaults when that
///   key is left out; see below).
///
/// Keys for every type:
/// - `interval`: `"step"` or `"epoch"` (see above).
/// - `monitor`: the validation metric passed to `HyperparameterScheduler.observe`: `val_loss`
///   (default) or `val_top1`, `val_top5`, `val_balanced_accuracy`, `val_macro_f1`. The training loop reads it; the scheduler only sees numbers.
/// - `reduce_on_plateau` (ReduceLROnPlateau, evaluated at each `observe`; multiplies the scheduled lr):
///   `{"factor": 0.1, "patience": 10, "threshold": 1e-4, "threshold_mode": "rel",
///     "cooldown": 0, "min_lr": 0, "eps": 1e-8}` (PyTorch's defaults).
/// - `early_stopping` (stop when the monitored metric has not improved for `patience` observations):
///   `{"patience": 5, "min_delta": 0}` (Keras EarlyStopping semantics).
/// - Both also accept `mode` (`min`/`max`), but it follows from `monitor` (`val_loss`: min, the
///   accuracies: max) and a contradicting value is rejected.
///
/// Momentum: `onecycle` and `cyclic` with `cycle_momentum` set momentum (SGD) or beta1 (AdamW)
/// per step; every other schedule leaves the optimizer's configured value.
public struct ScheduleConfig: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case constant, step, multistep, exponential, cosine, onecycle, cyclic, plateau
    }

    public enum Interval: String, Codable, Sendable { case step, epoch }

    public enum CyclicMode: String, Codable, Sendable {
        case triangular, triangular2
        case expRange = "exp_range"
    }

    public var type: Kind
    public var interval: Interval = .step
    public var monitor: String = "val_loss"
    // step / multistep / exponential / cyclic(exp_range)
    public var stepSize: Int?
    public var milestones: [Int]?
    public var gamma: Double?
    // cosine
    public var warmupSteps: Int?
    public var warmupFraction: Double?
    public var warmupStartFactor: Double?
    public var totalSteps: Int?
    public var minLR: Double?
    // onecycle
    public var maxLR: Double?
    public var pctStart: Double?
    public var divFactor: Double?
    public var finalDivFactor: Double?
    public var threePhase: Bool?
    public var cycleMomentum: Bool?
    public var baseMomentum: Double?
    public var maxMomentum: Double?
    // cyclic
    public var baseLR: Double?
    public var stepSizeUp: Int?
    public var stepSizeDown: Int?
    public var mode: CyclicMode?
    // every type
    public var reduceOnPlateau: PlateauConfig?
    public var earlyStopping: EarlyStoppingConfig?

    public init(type: Kind) { self.type = type }

    /// The ReduceLROnPlateau settings in force: the configured ones, or PyTorch's defaults for
    /// type `plateau`.
    public var effectivePlateau: PlateauConfig? {
        reduceOnPlateau ?? (type == .plateau ? PlateauConfig() : nil)
    }

    /// The validation metrics a schedule can watch: balanced accuracy (the mean recall over the
    /// classes present) and macro-F1 see what top-1 hides on an imbalanced split.
    public static let monitors = ["val_loss", "val_top1", "val_top5", "val_balanced_accuracy", "val_macro_f1"]

    /// Whether lower (`val_loss`) or higher (the accuracies) values of `monitor` are better.
    public var monitorMode: MetricMode { monitor == "val_loss" ? .min : .max }

    public static let constant = ScheduleConfig(type: .constant)

    /// Cosine decay with linear warmup; `totalSteps` nil means the run's length.
    public static func cosine(warmupSteps: Int = 0, totalSteps: Int? = nil, minLR: Double = 0) -> ScheduleConfig {
        var c = ScheduleConfig(type: .cosine)
        c.warmupSteps = warmupSteps
        c.totalSteps = totalSteps
        c.minLR = minLR
        return c
    }

    /// The default schedule: cosine decay over the run after a warm-up of 5% of its steps
    /// (a fixed count would outlast a short fine-tune and be nothing in a long run).
    public static let defaultSchedule: ScheduleConfig = {
        var c = ScheduleConfig(type: .cosine)
        c.warmupFraction = 0.05
        return c
    }()

    /// Cosine decay with a warm-up of `warmupFraction` of the total steps.
    public static func cosine(warmupFraction: Double, totalSteps: Int? = nil, minLR: Double = 0) -> ScheduleConfig {
        var c = ScheduleConfig(type: .cosine)
        c.warmupFraction = warmupFraction
        c.totalSteps = totalSteps
        c.minLR = minLR
        return c
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, interval, monitor
        case stepSize = "step_size", milestones, gamma
        case warmupSteps = "warmup_steps", warmupFraction = "warmup_fraction", warmupStartFactor = "warmup_start_factor"
        case totalSteps = "total_steps", minLR = "min_lr"
        case maxLR = "max_lr", pctStart = "pct_start", divFactor = "div_factor"
        case finalDivFactor = "final_div_factor", threePhase = "three_phase"
        case cycleMomentum = "cycle_momentum", baseMomentum = "base_momentum", maxMomentum = "max_momentum"
        case baseLR = "base_lr", stepSizeUp = "step_size_up", stepSizeDown = "step_size_down", mode
        case reduceOnPlateau = "reduce_on_plateau", earlyStopping = "early_stopping"
    }

    /// The keys a type accepts besides the common ones.
    static func keys(for kind: Kind) -> [CodingKeys] {
        switch kind {
        case .constant, .plateau: return []
        case .step: return [.stepSize, .gamma]
        case .multistep: return [.milestones, .gamma]
        case .exponential: return [.gamma]
        case .cosine: return [.warmupSteps, .warmupFraction, .warmupStartFactor, .totalSteps, .minLR]
        case .onecycle: return [.maxLR, .totalSteps, .pctStart, .divFactor, .finalDivFactor, .threePhase,
                                .cycleMomentum, .baseMomentum, .maxMomentum]
        case .cyclic: return [.baseLR, .maxLR, .stepSizeUp, .stepSizeDown, .mode, .gamma,
                              .cycleMomentum, .baseMomentum, .maxMomentum]
        }
    }

    static let commonKeys: [CodingKeys] = [.type, .interval, .monitor, .reduceOnPlateau, .earlyStopping]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let t = try c.decodeIfPresent(String.self, forKey: .type) else {
            throw ConfigError(key: "schedule.type", message: "missing (one of: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let kind = Kind(rawValue: t) else {
            throw ConfigError(key: "schedule.type",
                              message: "unknown schedule '\(t)' (one of: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let allowed = (ScheduleConfig.commonKeys + ScheduleConfig.keys(for: kind)).map(\.stringValue)
        let all = try decoder.container(keyedBy: AnyKey.self)
        for key in all.allKeys.map(\.stringValue).sorted() where !allowed.contains(key) {
            let known = CodingKeys(stringValue: key) != nil
            throw ConfigError(key: "schedule.\(key)",
                              message: known ? "not a key of schedule type '\(t)' (its keys: \(allowed.joined(separator: ", ")))"
                                             : "unknown key (keys of '\(t)': \(allowed.joined(separator: ", ")))")
        }
        func get<T: Decodable>(_ type: T.Type, _ key: CodingKeys) throws -> T? {
            do { return try c.decodeIfPresent(T.self, forKey: key) } catch let e as ConfigError { throw e } catch {
                throw ConfigError(key: "schedule.\(key.stringValue)", message: "wrong type (expected \(T.self))")
            }
        }
        type = kind
        interval = try get(Interval.self, .interval) ?? .step
        monitor = try get(String.self, .monitor) ?? "val_loss"
        stepSize = try get(Int.self, .stepSize)
        milestones = try get([Int].self, .milestones)
        gamma = try get(Double.self, .gamma)
        warmupSteps = try get(Int.self, .warmupSteps)
        warmupFraction = try get(Double.self, .warmupFraction)
        warmupStartFactor = try get(Double.self, .warmupStartFactor)
        totalSteps = try get(Int.self, .totalSteps)
        minLR = try get(Double.self, .minLR)
        maxLR = try get(Double.self, .maxLR)
        pctStart = try get(Double.self, .pctStart)
        divFactor = try get(Double.self, .divFactor)
        finalDivFactor = try get(Double.self, .finalDivFactor)
        threePhase = try get(Bool.self, .threePhase)
        cycleMomentum = try get(Bool.self, .cycleMomentum)
        baseMomentum = try get(Double.self, .baseMomentum)
        maxMomentum = try get(Double.self, .maxMomentum)
        baseLR = try get(Double.self, .baseLR)
        stepSizeUp = try get(Int.self, .stepSizeUp)
        stepSizeDown = try get(Int.self, .stepSizeDown)
        mode = try get(CyclicMode.self, .mode)
        reduceOnPlateau = try get(PlateauConfig.self, .reduceOnPlateau)
        earlyStopping = try get(EarlyStoppingConfig.self, .earlyStopping)
        try validate()
    }

    /// Throws a `ConfigError` naming the first key whose value is out of range or missing.
    public func validate() throws {
        func fail(_ key: CodingKeys, _ why: String) -> ConfigError { ConfigError(key: "schedule.\(key.stringValue)", message: why) }
        func positive<T: Comparable & Numeric>(_ v: T?, _ key: CodingKeys) throws {
            if let v = v, !(v > 0) { throw fail(key, "must be > 0, got \(v)") }
        }
        func nonNegative<T: Comparable & Numeric>(_ v: T?, _ key: CodingKeys) throws {
            if let v = v, !(v >= 0) { throw fail(key, "must be >= 0, got \(v)") }
        }
        if !Self.monitors.contains(monitor) {
            throw fail(.monitor, "must be one of \(Self.monitors.joined(separator: ", ")), got '\(monitor)'")
        }
        switch type {
        case .constant, .plateau: break
        case .step:
            guard stepSize != nil else { throw fail(.stepSize, "required by schedule type 'step'") }
            try positive(stepSize, .stepSize)
        case .multistep:
            guard let ms = milestones else { throw fail(.milestones, "required by schedule type 'multistep'") }
            if ms.contains(where: { $0 <= 0 }) || zip(ms, ms.dropFirst()).contains(where: { $0 >= $1 }) {
                throw fail(.milestones, "must be positive and strictly increasing, got \(ms)")
            }
        case .exponential:
            guard gamma != nil else { throw fail(.gamma, "required by schedule type 'exponential'") }
        case .cosine:
            try nonNegative(warmupSteps, .warmupSteps)
            try positive(totalSteps, .totalSteps)
            try nonNegative(minLR, .minLR)
            if let f = warmupStartFactor, !(f >= 0 && f <= 1) { throw fail(.warmupStartFactor, "must be in [0, 1], got \(f)") }
            if let f = warmupFraction, !(f >= 0 && f <= 0.5) { throw fail(.warmupFraction, "must be in [0, 0.5], got \(f)") }
            if warmupSteps != nil && warmupFraction != nil {
                throw fail(.warmupFraction, "give warmup_steps or warmup_fraction, not both")
            }
            if let w = warmupSteps, let t = totalSteps, w > t {
                throw fail(.warmupSteps, "\(w) is more than total_steps \(t)")
            }
        case .onecycle:
            try positive(maxLR, .maxLR)
            try positive(totalSteps, .totalSteps)
            try positive(divFactor, .divFactor)
            try positive(finalDivFactor, .finalDivFactor)
            if let p = pctStart, !(p > 0 && p < 1) { throw fail(.pctStart, "must be in (0, 1), got \(p)") }
        case .cyclic:
            guard maxLR != nil else { throw fail(.maxLR, "required by schedule type 'cyclic'") }
            try positive(maxLR, .maxLR)
            try nonNegative(baseLR, .baseLR)
            try positive(stepSizeUp, .stepSizeUp)
            try positive(stepSizeDown, .stepSizeDown)
        }
        if let g = gamma, !(g > 0 && g <= 1) { throw fail(.gamma, "must be in (0, 1], got \(g)") }
        if let b = baseMomentum, !(b >= 0 && b < 1) { throw fail(.baseMomentum, "must be in [0, 1), got \(b)") }
        if let m = maxMomentum, !(m >= 0 && m < 1) { throw fail(.maxMomentum, "must be in [0, 1), got \(m)") }
        try reduceOnPlateau?.validate()
        try earlyStopping?.validate()
        for (section, mode) in [("reduce_on_plateau", reduceOnPlateau?.mode), ("early_stopping", earlyStopping?.mode)] {
            if let mode = mode, mode != monitorMode {
                throw ConfigError(key: "schedule.\(section).mode",
                                  message: "'\(mode.rawValue)' contradicts monitor '\(monitor)' (which needs '\(monitorMode.rawValue)'); leave it out")
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(interval, forKey: .interval)
        try c.encode(monitor, forKey: .monitor)
        try c.encodeIfPresent(stepSize, forKey: .stepSize)
        try c.encodeIfPresent(milestones, forKey: .milestones)
        try c.encodeIfPresent(gamma, forKey: .gamma)
        try c.encodeIfPresent(warmupSteps, forKey: .warmupSteps)
        try c.encodeIfPresent(warmupFraction, forKey: .warmupFraction)
        try c.encodeIfPresent(warmupStartFactor, forKey: .warmupStartFactor)
        try c.encodeIfPresent(totalSteps, forKey: .totalSteps)
        try c.encodeIfPresent(minLR, forKey: .minLR)
        try c.encodeIfPresent(maxLR, forKey: .maxLR)
        try c.encodeIfPresent(pctStart, forKey: .pctStart)
        try c.encodeIfPresent(divFactor, forKey: .divFactor)
        try c.encodeIfPresent(finalDivFactor, forKey: .finalDivFactor)
        try c.encodeIfPresent(threePhase, forKey: .threePhase)
        try c.encodeIfPresent(cycleMomentum, forKey: .cycleMomentum)
        try c.encodeIfPresent(baseMomentum, forKey: .baseMomentum)
        try c.encodeIfPresent(maxMomentum, forKey: .maxMomentum)
        try c.encodeIfPresent(baseLR, forKey: .baseLR)
        try c.encodeIfPresent(stepSizeUp, forKey: .stepSizeUp)
        try c.encodeIfPresent(stepSizeDown, forKey: .stepSizeDown)
        try c.encodeIfPresent(mode, forKey: .mode)
        try c.encodeIfPresent(reduceOnPlateau, forKey: .reduceOnPlateau)
        try c.encodeIfPresent(earlyStopping, forKey: .earlyStopping)
    }
}

/// Whether a smaller or a larger metric is better.
public enum MetricMode: String, Codable, Sendable { case min, max }

/// ReduceLROnPlateau settings (PyTorch's names and defaults).
public struct PlateauConfig: Codable, Sendable, Equatable {
    public enum ThresholdMode: String, Codable, Sendable { case rel, abs }
    /// nil: follow `ScheduleConfig.monitor`.
    public var mode: MetricMode?
    public var factor: Double = 0.1
    public var patience: Int = 10
    public var threshold: Double = 1e-4
    public var thresholdMode: ThresholdMode = .rel
    public var cooldown: Int = 0
    public var minLR: Double = 0
    public var eps: Double = 1e-8

    public init(mode: MetricMode? = nil, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                thresholdMode: ThresholdMode = .rel, cooldown: Int = 0, minLR: Double = 0, eps: Double = 1e-8) {
        self.mode = mode; self.factor = factor; self.patience = patience; self.threshold = threshold
        self.thresholdMode = thresholdMode; self.cooldown = cooldown; self.minLR = minLR; self.eps = eps
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, factor, patience, threshold, cooldown, eps
        case thresholdMode = "threshold_mode", minLR = "min_lr"
    }

    public init(from decoder: Decoder) throws {
        try ConfigKeys.rejectUnknown(in: decoder, allowed: CodingKeys.allCases.map(\.stringValue),
                                     section: "schedule.reduce_on_plateau")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PlateauConfig()
        mode = try c.decodeIfPresent(MetricMode.self, forKey: .mode)
        factor = try c.decodeIfPresent(Double.self, forKey: .factor) ?? d.factor
        patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? d.patience
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? d.threshold
        thresholdMode = try c.decodeIfPresent(ThresholdMode.self, forKey: .thresholdMode) ?? d.thresholdMode
        cooldown = try c.decodeIfPresent(Int.self, forKey: .cooldown) ?? d.cooldown
        minLR = try c.decodeIfPresent(Double.self, forKey: .minLR) ?? d.minLR
        eps = try c.decodeIfPresent(Double.self, forKey: .eps) ?? d.eps
        try validate()
    }

    public func validate() throws {
        func fail(_ key: CodingKeys, _ why: String) -> ConfigError {
            ConfigError(key: "schedule.reduce_on_plateau.\(key.stringValue)", message: why)
        }
        if !(factor > 0 && factor < 1) { throw fail(.factor, "must be in (0, 1), got \(factor)") }
        if patience < 0 { throw fail(.patience, "must be >= 0, got \(patience)") }
        if !(threshold >= 0) { throw fail(.threshold, "must be >= 0, got \(threshold)") }
        if cooldown < 0 { throw fail(.cooldown, "must be >= 0, got \(cooldown)") }
        if !(minLR >= 0) { throw fail(.minLR, "must be >= 0, got \(minLR)") }
        if !(eps >= 0) { throw fail(.eps, "must be >= 0, got \(eps)") }
    }
}

/// Early stopping settings (Keras `EarlyStopping` semantics).
public struct EarlyStoppingConfig: Codable, Sendable, Equatable {
    /// nil: follow `ScheduleConfig.monitor`.
    public var mode: MetricMode?
    public var patience: Int = 5
    public var minDelta: Double = 0

    public init(mode: MetricMode? = nil, patience: Int = 5, minDelta: Double = 0) {
        self.mode = mode; self.patience = patience; self.minDelta = minDelta
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, patience
        case minDelta = "min_delta"
    }

    public init(from decoder: Decoder) throws {
        try ConfigKeys.rejectUnknown(in: decoder, allowed: CodingKeys.allCases.map(\.stringValue),
                                     section: "schedule.early_stopping")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(MetricMode.self, forKey: .mode)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience) ?? 5
        minDelta = try c.decodeIfPresent(Double.self, forKey: .minDelta) ?? 0
        try validate()
    }

    public func validate() throws {
        if patience < 1 {
            throw ConfigError(key: "schedule.early_stopping.patience", message: "must be >= 1, got \(patience)")
        }
        if !(minDelta >= 0) {
            throw ConfigError(key: "schedule.early_stopping.min_delta", message: "must be >= 0, got \(minDelta)")
        }
    }
}
