import Foundation

/// What the scheduler decided after a validation metric.
public struct ScheduleDecision: Codable, Sendable, Equatable {
    /// ReduceLROnPlateau cut the learning rate at this observation.
    public var reducedLR: Bool
    /// The learning rate from this step on (after any reduction).
    public var lr: Float
    /// Early stopping: no improvement for `patience` observations; the run should end.
    public var shouldStop: Bool
    /// This metric is the best so far (lower `val_loss`, higher accuracy): a place to save a
    /// "best" checkpoint.
    public var isBest: Bool

    public init(reducedLR: Bool, lr: Float, shouldStop: Bool, isBest: Bool) {
        self.reducedLR = reducedLR
        self.lr = lr
        self.shouldStop = shouldStop
        self.isBest = isBest
    }

    enum CodingKeys: String, CodingKey {
        case reducedLR = "reduced_lr", lr, shouldStop = "stop", isBest = "is_best"
    }
}

/// The learning rate and momentum as pure functions of the global step, plus the small state
/// that validation results change (ReduceLROnPlateau, early stopping). One object owns this
/// state; it is `Codable` so the checkpoint (and, in distributed runs, the coordinator) carries it.
///
/// `lr(atStep:)` / `momentum(atStep:)` take the 0-based index of the optimizer step about to be
/// taken: step 0 uses `lr(atStep: 0)`, which is what PyTorch's optimizer holds right after the
/// scheduler is constructed. Nothing depends on how often they are called.
public struct HyperparameterScheduler: Codable, Sendable, Equatable {
    public let config: ScheduleConfig
    /// The optimizer's learning rate: the schedule's base (or `max_lr`/`base_lr` defaults).
    public let baseLR: Double
    /// The optimizer's configured momentum (SGD) or beta1 (AdamW); used where no schedule sets it.
    public let baseMomentum: Double
    /// Steps per epoch, for `interval: "epoch"`.
    public let stepsPerEpoch: Int
    /// The run's length in optimizer steps: the default `total_steps` (converted to epochs for
    /// `interval: "epoch"`).
    public let runSteps: Int

    /// ReduceLROnPlateau and early-stopping state.
    public private(set) var state: State

    public struct State: Codable, Sendable, Equatable {
        /// Product of the plateau reductions so far (1: none).
        public var plateauScale: Double = 1
        public var plateauReductions: Int = 0
        public var plateauBest: Double?
        public var plateauBadEpochs: Int = 0
        public var plateauCooldown: Int = 0
        public var earlyStopBest: Double?
        public var earlyStopWait: Int = 0
        public var stopped: Bool = false
        /// The best metric observed (for `isBest`), and the step it was seen at.
        public var bestMetric: Double?
        public var bestStep: Int?
        public var observations: Int = 0
        /// The epoch of the last observation.
        public var lastEpoch: Int?
        public init() {}
    }

    public init(config: ScheduleConfig, baseLR: Double, baseMomentum: Double = 0.9,
                stepsPerEpoch: Int, runSteps: Int) throws {
        try config.validate()
        guard baseLR >= 0, baseLR.isFinite else { throw ConfigError(key: "lr", message: "must be >= 0, got \(baseLR)") }
        guard stepsPerEpoch > 0 else { throw ConfigError(key: "steps_per_epoch", message: "must be > 0, got \(stepsPerEpoch)") }
        guard runSteps > 0 else { throw ConfigError(key: "total_steps", message: "the run must have at least one step") }
        self.config = config
        self.baseLR = baseLR
        self.baseMomentum = baseMomentum
        self.stepsPerEpoch = stepsPerEpoch
        self.runSteps = runSteps
        self.state = State()
        if config.type == .cyclic, (config.baseLR ?? baseLR) > config.maxLR! {
            throw ConfigError(key: "schedule.max_lr", message: "is below base_lr \(config.baseLR ?? baseLR)")
        }
    }

    // MARK: - Pure functions of the step

    /// The schedule's position for a global step: the step itself, or the epoch index.
    public func position(atStep step: Int) -> Int {
        config.interval == .step ? step : step / stepsPerEpoch
    }

    /// `total_steps` in the schedule's unit.
    var total: Int {
        if let t = config.totalSteps { return t }
        return config.interval == .step ? runSteps : max(1, (runSteps + stepsPerEpoch - 1) / stepsPerEpoch)
    }

    /// The cosine schedule's warm-up length in its unit: `warmup_steps`, or `warmup_fraction`
    /// of the total (at least 1 when the fraction is not 0).
    public var warmupSteps: Int {
        guard config.type == .cosine else { return 0 }
        if let w = config.warmupSteps { return w }
        guard let f = config.warmupFraction, f > 0 else { return 0 }
        return max(1, Int((f * Double(total)).rounded()))
    }

    /// A warning when the warm-up covers more than a quarter of the run (the decay then has
    /// little room, and a short run may end before it), nil otherwise.
    public var warmupWarning: String? {
        let w = warmupSteps, unit = config.interval == .step ? "steps" : "epochs"
        guard w > 0, 4 * w > total else { return nil }
        return "the learning-rate warm-up lasts \(w) of the run's \(total) \(unit) (more than a quarter); "
            + "shorten schedule.warmup_steps or use schedule.warmup_fraction"
    }

    /// The learning rate for optimizer step `step` (0-based), including plateau reductions.
    public func lr(atStep step: Int) -> Float {
        let scheduled = scheduledLR(atStep: step)
        guard state.plateauReductions > 0, let p = config.effectivePlateau else { return Float(scheduled) }
        return Float(max(scheduled * state.plateauScale, p.minLR))
    }

    /// The momentum (SGD) or beta1 (AdamW) for step `step`: set by `onecycle` and `cyclic` when
    /// `cycle_momentum` is on, nil otherwise (use the optimizer's configured value).
    public func momentum(atStep step: Int) -> Float? {
        let t = Double(position(atStep: max(0, step)))
        switch config.type {
        case .onecycle:
            guard config.cycleMomentum ?? true else { return nil }
            return Float(oneCycle(t).momentum)
        case .cyclic:
            guard config.cycleMomentum ?? true else { return nil }
            let (scale, _) = cyclicScale(t)
            let base = config.baseMomentum ?? 0.8, maxM = config.maxMomentum ?? 0.9
            return Float(maxM - (maxM - base) * scale)
        default:
            return nil
        }
    }

    /// The schedule alone, without plateau reductions.
    public func scheduledLR(atStep step: Int) -> Double {
        let ti = position(atStep: max(0, step))
        let t = Double(ti)
        switch config.type {
        case .constant, .plateau:
            return baseLR
        case .step:
            return baseLR * pow(config.gamma ?? 0.1, Double(ti / config.stepSize!))
        case .multistep:
            let passed = config.milestones!.filter { $0 <= ti }.count
            return baseLR * pow(config.gamma ?? 0.1, Double(passed))
        case .exponential:
            return baseLR * pow(config.gamma!, t)
        case .cosine:
            let warmup = warmupSteps
            let minLR = config.minLR ?? 0
            if ti < warmup {
                let f0 = config.warmupStartFactor ?? 0
                return baseLR * (f0 + (1 - f0) * (t + 1) / Double(warmup))
            }
            let span = total - warmup
            guard span > 0 else { return baseLR }
            let progress = min(1, Double(ti - warmup) / Double(span))
            return minLR + (baseLR - minLR) * (1 + cos(Double.pi * progress)) / 2
        case .onecycle:
            return oneCycle(t).lr
        case .cyclic:
            let base = config.baseLR ?? baseLR
            let (scale, amplitude) = cyclicScale(t)
            return base + (config.maxLR! - base) * scale * amplitude
        }
    }

    /// `end + (start - end) / 2 * (cos(pi * pct) + 1)`: PyTorch's `_annealing_cos`.
    private func annealCos(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        end + (start - end) / 2 * (cos(Double.pi * pct) + 1)
    }

    /// OneCycleLR (anneal_strategy "cos"), PyTorch's `get_lr` phase walk, held after the end.
    private func oneCycle(_ tRaw: Double) -> (lr: Double, momentum: Double) {
        let maxLR = config.maxLR ?? baseLR
        let initialLR = maxLR / (config.divFactor ?? 25)
        let minLR = initialLR / (config.finalDivFactor ?? 1e4)
        let totalSteps = Double(total)
        let pct = config.pctStart ?? 0.3
        let maxM = config.maxMomentum ?? 0.95, baseM = config.baseMomentum ?? 0.85
        // (end step, lr start, lr end, momentum start, momentum end)
        let phases: [(Double, Double, Double, Double, Double)]
        if config.threePhase ?? false {
            phases = [(pct * totalSteps - 1, initialLR, maxLR, maxM, baseM),
                      (2 * pct * totalSteps - 2, maxLR, initialLR, baseM, maxM),
                      (totalSteps - 1, initialLR, minLR, maxM, maxM)]
        } else {
            phases = [(pct * totalSteps - 1, initialLR, maxLR, maxM, baseM),
                      (totalSteps - 1, maxLR, minLR, baseM, maxM)]
        }
        let t = min(tRaw, totalSteps - 1)
        var start = 0.0
        for (i, phase) in phases.enumerated() {
            if t <= phase.0 || i == phases.count - 1 {
                let span = phase.0 - start
                let p = span > 0 ? (t - start) / span : 1
                return (annealCos(phase.1, phase.2, p), annealCos(phase.3, phase.4, p))
            }
            start = phase.0
        }
        return (minLR, maxM)
    }

    /// CyclicLR: the triangle's height at t (0...1) and the mode's amplitude factor.
    private func cyclicScale(_ t: Double) -> (scale: Double, amplitude: Double) {
        let up = Double(config.stepSizeUp ?? 2000)
        let down = Double(config.stepSizeDown ?? config.stepSizeUp ?? 2000)
        let totalSize = up + down
        let stepRatio = up / totalSize
        let cycle = (1 + t / totalSize).rounded(.down)
        let x = 1 + t / totalSize - cycle
        let scale = x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1)
        let amplitude: Double
        switch config.mode ?? .triangular {
        case .triangular: amplitude = 1
        case .triangular2: amplitude = 1 / pow(2, cycle - 1)
        case .expRange: amplitude = pow(config.gamma ?? 1, t)
        }
        return (scale, amplitude)
    }

    // MARK: - Validation results

    /// Feeds one validation result (the `config.monitor` metric) taken before optimizer step
    /// `step` (the number of steps done so far). Applies ReduceLROnPlateau and early stopping
    /// with PyTorch's and Keras's semantics; a NaN metric counts as no improvement.
    public mutating func observe(validationMetric value: Double, atStep step: Int, epoch: Int) -> ScheduleDecision {
        state.observations += 1
        state.lastEpoch = epoch
        var reduced = false
        if let p = config.effectivePlateau {
            if plateauIsBetter(value, p) {
                state.plateauBest = value
                state.plateauBadEpochs = 0
            } else {
                state.plateauBadEpochs += 1
            }
            if state.plateauCooldown > 0 {
                state.plateauCooldown -= 1
                state.plateauBadEpochs = 0
            }
            if state.plateauBadEpochs > p.patience {
                // PyTorch: new_lr = max(old_lr * factor, min_lr), applied if it moves by more than eps.
                let old = Double(lr(atStep: step))
                let new = max(old * p.factor, p.minLR)
                if old - new > p.eps {
                    state.plateauScale *= p.factor
                    state.plateauReductions += 1
                    reduced = true
                }
                state.plateauCooldown = p.cooldown
                state.plateauBadEpochs = 0
            }
        }
        if let e = config.earlyStopping, !state.stopped {
            let improved: Bool
            if value.isNaN { improved = false } else if let best = state.earlyStopBest {
                improved = config.monitorMode == .min ? value + e.minDelta < best : value - e.minDelta > best
            } else { improved = true }
            if improved {
                state.earlyStopBest = value
                state.earlyStopWait = 0
            } else {
                state.earlyStopWait += 1
                if state.earlyStopWait >= e.patience { state.stopped = true }
            }
        }
        let mode = config.monitorMode
        var isBest = false
        if !value.isNaN {
            if let best = state.bestMetric {
                isBest = mode == .min ? value < best : value > best
            } else { isBest = true }
        }
        if isBest {
            state.bestMetric = value
            state.bestStep = step
        }
        return ScheduleDecision(reducedLR: reduced, lr: lr(atStep: step), shouldStop: state.stopped, isBest: isBest)
    }

    /// Whether early stopping has fired (kept in the state, so a resumed run stays stopped).
    /// Takes over the plateau / early-stopping state of another scheduler, e.g. one restored
    /// from a checkpoint of a run with a different world size (and so a different epoch length).
    public mutating func restoreState(_ other: State) { state = other }

    public var shouldStop: Bool { state.stopped }

    private func plateauIsBetter(_ a: Double, _ p: PlateauConfig) -> Bool {
        if a.isNaN { return false }
        guard let best = state.plateauBest else { return true }   // best starts at +-inf
        switch (config.monitorMode, p.thresholdMode) {
        case (.min, .rel): return a < best * (1 - p.threshold)
        case (.min, .abs): return a < best - p.threshold
        case (.max, .rel): return a > best * (p.threshold + 1)
        case (.max, .abs): return a > best + p.threshold
        }
    }
}
