import Tensors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one `Optimizer.step` did.
public struct StepReport: Sendable {
    /// The global L2 norm of the trainable gradients before clipping; nil when no clipping was asked.
    public var gradientNorm: Float?
    /// Whether the gradients were scaled down by clipping.
    public var clipped: Bool
    /// The L1 penalty Σ λ_slot·|w| of the weights before the step (0 without L1): the term the
    /// L1 subgradient belongs to, for the loss a run reports.
    public var l1Penalty: Double = 0
}

/// A state tensor the optimizer did not find, or found with the wrong size, in `loadState`.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
    public let tensor: String
    public let message: String
    public var description: String { "optimizer state \(tensor): \(message)" }
}

/// SGD (momentum, Nesterov) and AdamW over flat arenas: one loop over every trainable slot of
/// the parameter arena and its gradient twin, in PyTorch's semantics.
///
/// State lives in arenas with the parameter layout: SGD keeps `momentum_buffer` (only when
/// momentum > 0), AdamW keeps `exp_avg` and `exp_avg_sq`. They are checkpointed as
/// `optimizer.<tensor name>.<state name>` (see `stateTensors()`), and `stepCount` goes into the
/// checkpoint's metadata. The step count is global (PyTorch keeps one per tensor; they only
/// differ if a tensor is frozen for part of a run and unfrozen later).
public final class Optimizer {
    public let layout: ArenaLayout
    public let algorithm: OptimizerAlgorithm
    public var groups: ParameterGroups
    /// Clip gradients to this global norm inside `step` (nil: no clipping).
    public var clipGradNorm: Float?
    /// L1 strength: `step` first adds λ·sign(w) to the gradients of the decayed trainable
    /// slots (λ scaled per slot by `groups.l1Multipliers`); 0: off.
    public var l1: Float
    /// Steps taken so far (AdamW's bias correction uses it; SGD uses it to seed momentum).
    public private(set) var stepCount: Int = 0

    /// State name -> arena with the parameter layout.
    private let state: [(name: String, arena: ParameterArena)]

    public init(layout: ArenaLayout, algorithm: OptimizerAlgorithm, groups: ParameterGroups = ParameterGroups(),
                clipGradNorm: Float? = nil, l1: Float = 0) {
        self.layout = layout
        self.algorithm = algorithm
        self.groups = groups
        self.clipGradNorm = clipGradNorm
        self.l1 = l1
        switch algorithm {
        case .sgd(let o):
            // A schedule may turn momentum on later (cyclic momentum), so keep the buffer
            // whenever the configured momentum or a schedule could use it; 0 means plain SGD.
            state = o.momentum > 0 ? [("momentum_buffer", ParameterArena(layout: layout))] : []
        case .adamw:
            state = [("exp_avg", ParameterArena(layout: layout)), ("exp_avg_sq", ParameterArena(layout: layout))]
        }
    }

    /// Builds the optimizer a configuration describes (algorithm, groups, clipping).
    public convenience init(config: OptimizerConfig, layout: ArenaLayout) {
        self.init(layout: layout, algorithm: config.algorithm, groups: config.groups, clipGradNorm: config.clipGradNorm, l1: config.l1)
    }

    /// The configured momentum (SGD) or beta1 (AdamW): what `step` uses when given no momentum.
    public var defaultMomentum: Float {
        switch algorithm {
        case .sgd(let o): return o.momentum
        case .adamw(let o): return o.beta1
        }
    }

    // MARK: - The step

    /// One update of every trainable slot: `parameters -= lr * update(gradients, state)`.
    ///
    /// - `momentum`: replaces SGD's momentum or AdamW's beta1 for this step (one-cycle and cyclic
    ///   schedules); nil uses the configured value. SGD configured without momentum ignores it.
    /// - With `l1` > 0, λ·sign(w) is first added to the gradients (in place), as the gradient of
    ///   a λ·Σ|w| term in the loss would be: it takes part in clipping and in the update rule.
    /// - If `clipGradNorm` is set, the gradients are then scaled in place to that global norm.
    /// Frozen slots and `.buffer` slots are not read or written, nor is their state.
    @discardableResult
    public func step(parameters: ParameterArena, gradients: ParameterArena, lr: Float,
                     momentum: Float? = nil) -> StepReport {
        precondition(parameters.layout == layout, "optimizer: parameter arena layout differs from the optimizer's")
        precondition(gradients.layout == layout, "optimizer: gradient arena layout differs from the optimizer's")
        var report = StepReport(gradientNorm: nil, clipped: false)
        if l1 > 0 { report.l1Penalty = addL1Subgradient(parameters: parameters, gradients: gradients) }
        if let maxNorm = clipGradNorm {
            let (norm, clipped) = clipGradients(gradients, maxNorm: maxNorm)
            report.gradientNorm = norm
            report.clipped = clipped
        }
        let t = stepCount + 1
        switch algorithm {
        case .sgd(let o):
            let m = state.isEmpty ? 0 : (momentum ?? o.momentum)
            for slot in layout.slots where groups.isTrainable(slot) {
                let wd = groups.decays(slot) ? o.weightDecay : 0
                SGDKernel.update(p: parameters.pointer + slot.offset, g: gradients.pointer + slot.offset,
                                 buf: state.first.map { $0.arena.pointer + slot.offset }, count: slot.count,
                                 lr: lr * groups.lrMultiplier(slot.name), momentum: m, dampening: o.dampening, nesterov: o.nesterov,
                                 weightDecay: wd, decoupled: o.weightDecayMode == .decoupled, firstStep: t == 1)
            }
        case .adamw(let o):
            let b1 = momentum ?? o.beta1
            // Bias corrections in Double, as PyTorch computes them in Python floats.
            let bc1 = 1 - pow(Double(b1), Double(t))
            let bc2 = 1 - pow(Double(o.beta2), Double(t))
            let bc2Sqrt = Float(bc2.squareRoot())
            for slot in layout.slots where groups.isTrainable(slot) {
                let wd = groups.decays(slot) ? o.weightDecay : 0
                let slotLR = lr * groups.lrMultiplier(slot.name)
                AdamWKernel.update(p: parameters.pointer + slot.offset, g: gradients.pointer + slot.offset,
                                   m: state[0].arena.pointer + slot.offset, v: state[1].arena.pointer + slot.offset,
                                   count: slot.count, lr: slotLR, beta1: b1, beta2: o.beta2, eps: o.epsilon,
                                   weightDecay: wd, stepSize: Float(Double(slotLR) / bc1), bc2Sqrt: bc2Sqrt)
            }
        }
        stepCount = t
        return report
    }

    // MARK: - L1

    /// Adds λ_slot·sign(w) to the gradients of the trainable decayed slots; returns
    /// Σ λ_slot·|w| (per slot in Float lanes, across slots in Double, as the gradient norm).
    @discardableResult
    public func addL1Subgradient(parameters: ParameterArena, gradients: ParameterArena) -> Double {
        var penalty = 0.0
        for slot in layout.slots where groups.isTrainable(slot) {
            let lambda = groups.l1Strength(slot, base: l1)
            guard lambda > 0 else { continue }
            let absSum = L1Kernel.addSubgradient(p: parameters.pointer + slot.offset, g: gradients.pointer + slot.offset,
                                                 count: slot.count, lambda: lambda)
            penalty += Double(lambda) * Double(absSum)
        }
        return penalty
    }

    /// The L1 penalty Σ λ_slot·|w| of `parameters` without touching any gradient.
    public func l1Penalty(_ parameters: ParameterArena) -> Double {
        var penalty = 0.0
        for slot in layout.slots where groups.isTrainable(slot) {
            let lambda = groups.l1Strength(slot, base: l1)
            guard lambda > 0 else { continue }
            penalty += Double(lambda) * Double(VectorMath.sumOfAbs(parameters.pointer + slot.offset, count: slot.count))
        }
        return penalty
    }

    // MARK: - Clipping

    /// The global L2 norm of the trainable slots' gradients (frozen and buffer slots left out).
    /// Accumulated per slot in Float SIMD lanes and across slots in Double: the same bits on every rank.
    public func gradientNorm(_ gradients: ParameterArena) -> Float {
        precondition(gradients.layout == layout, "optimizer: gradient arena layout differs from the optimizer's")
        var total = 0.0
        for slot in layout.slots where groups.isTrainable(slot) {
            total += Double(VectorMath.sumOfSquares(gradients.pointer + slot.offset, count: slot.count))
        }
        return Float(total.squareRoot())
    }

    /// PyTorch `clip_grad_norm_`: if the global norm exceeds `maxNorm`, scales the trainable
    /// gradients by `maxNorm / (norm + 1e-6)`. Returns the norm before clipping and whether it clipped.
    @discardableResult
    public func clipGradients(_ gradients: ParameterArena, maxNorm: Float) -> (norm: Float, clipped: Bool) {
        let norm = gradientNorm(gradients)
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return (norm, false) }
        for slot in layout.slots where groups.isTrainable(slot) {
            VectorMath.scale(gradients.pointer + slot.offset, count: slot.count, by: coefficient)
        }
        return (norm, true)
    }

    // MARK: - State for checkpoints

    /// The names of the state kinds: `["momentum_buffer"]`, `["exp_avg", "exp_avg_sq"]` or `[]`.
    public var stateNames: [String] { state.map(\.name) }

    /// The state arenas (parameter layout), by state name.
    public var stateArenas: [(name: String, arena: ParameterArena)] { state }

    /// Every state tensor as a view into the state arenas, named
    /// `optimizer.<tensor name>.<state name>` with the parameter's shape. `.buffer` slots have
    /// no state and are left out; frozen slots are included (their state is simply never touched).
    public func stateTensors() -> [(name: String, shape: [Int], values: UnsafeMutableBufferPointer<Float>)] {
        var out: [(name: String, shape: [Int], values: UnsafeMutableBufferPointer<Float>)] = []
        for (stateName, arena) in state {
            for slot in layout.slots where slot.role != .buffer {
                out.append((Optimizer.stateTensorName(slot: slot.name, state: stateName), slot.shape, arena.view(slot)))
            }
        }
        return out
    }

    /// `optimizer.<slot>.<state>`: the checkpoint name of one state tensor.
    public static func stateTensorName(slot: String, state: String) -> String {
        "optimizer.\(slot).\(state)"
    }

    /// The metadata key under which the step count is stored next to the state tensors.
    public static let stepCountMetadataKey = "optimizer.step"

    /// Restores the state from a checkpoint: `lookup(name)` returns the stored tensor's shape and
    /// values. Every state tensor must be present with the parameter's shape; nothing is changed
    /// unless all of them are. Throws `OptimizerStateError` naming the first bad tensor.
    public func loadState(stepCount: Int, lookup: (String) -> (shape: [Int], values: [Float])?) throws {
        guard stepCount >= 0 else {
            throw OptimizerStateError(tensor: Optimizer.stepCountMetadataKey, message: "negative step count \(stepCount)")
        }
        var found: [(UnsafeMutableBufferPointer<Float>, [Float])] = []
        for t in stateTensors() {
            guard let stored = lookup(t.name) else {
                throw OptimizerStateError(tensor: t.name, message: "missing from the checkpoint")
            }
            guard stored.shape == t.shape, stored.values.count == t.values.count else {
                throw OptimizerStateError(tensor: t.name,
                                          message: "shape \(stored.shape) in the checkpoint, \(t.shape) expected")
            }
            found.append((t.values, stored.values))
        }
        for (view, values) in found {
            values.withUnsafeBufferPointer { src in
                if let base = src.baseAddress { view.baseAddress!.update(from: base, count: values.count) }
            }
        }
        self.stepCount = stepCount
    }

    /// Zeroes all state and the step count (a fresh start, e.g. after `--init-from`).
    public func resetState() {
        for (_, arena) in state { arena.zero() }
        stepCount = 0
    }
}
