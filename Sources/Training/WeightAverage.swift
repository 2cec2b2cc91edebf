import Checkpoints
import Datasets
import Tensors

/// `ema_decay`: an exponential moving average of the weights and the batch-norm statistics,
/// PyTorch `AveragedModel(use_buffers=True)` with `get_ema_multi_avg_fn(decay)`:
///
///     first update:  ema = w                         (the average starts from the weights)
///     later updates: ema = d·ema + (1 - d)·w         d = decay, or with warm-up
///                                                    min(decay, (1 + t) / (10 + t)), t = updates so far
///
/// Counters (batch norm's `num_batches_tracked`) are copied, not averaged. The average is
/// updated after every optimizer step; it is checkpointed as `ema.<tensor name>` tensors and
/// its update count as the training state's `ema_updates`.
public final class WeightAverage {
    public static let tensorPrefix = "ema."

    public let decay: Double
    public let warmup: Bool
    public let parameters: ParameterArena
    public let buffers: ParameterArena
    /// Updates taken so far (0: the next one copies the weights).
    public private(set) var updates = 0
    /// Buffer slots that are counts, copied instead of averaged.
    private let counterSlots: [TensorSlot]
    private let averagedBufferSlots: [TensorSlot]

    public init(decay: Double, warmup: Bool, parameterLayout: ArenaLayout, bufferLayout: ArenaLayout) {
        precondition(decay > 0 && decay < 1, "the EMA decay must be in (0, 1)")
        self.decay = decay
        self.warmup = warmup
        parameters = ParameterArena(layout: parameterLayout)
        buffers = ParameterArena(layout: bufferLayout)
        counterSlots = bufferLayout.slots.filter { $0.name.hasSuffix("num_batches_tracked") }
        averagedBufferSlots = bufferLayout.slots.filter { !$0.name.hasSuffix("num_batches_tracked") }
    }

    /// The decay the update after `updates` earlier ones uses (the first copies, so this is for t >= 1).
    public func decay(afterUpdates t: Int) -> Double {
        warmup ? min(decay, Double(1 + t) / Double(10 + t)) : decay
    }

    /// Folds the current weights into the average.
    public func update(parameters p: ParameterArena, buffers b: ParameterArena) {
        precondition(p.layout == parameters.layout && b.layout == buffers.layout, "EMA: arena layouts differ from the model's")
        if updates == 0 {
            parameters.copy(from: p)
            buffers.copy(from: b)
        } else {
            let d = Float(decay(afterUpdates: updates))
            Self.blend(parameters.pointer, p.pointer, count: parameters.count, decay: d)
            for slot in averagedBufferSlots {
                Self.blend(buffers.pointer + slot.offset, b.pointer + slot.offset, count: slot.count, decay: d)
            }
            for slot in counterSlots {
                (buffers.pointer + slot.offset).update(from: b.pointer + slot.offset, count: slot.count)
            }
        }
        updates += 1
    }

    /// ema = d·ema + (1 - d)·w, as PyTorch's `torch._foreach_lerp_(ema, w, 1 - d)` computes it
    /// in float: ema + (1 - d)·(w - ema).
    static func blend(_ ema: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, count: Int, decay d: Float) {
        let weight = 1 - d
        for i in 0..<count { ema[i] += weight * (w[i] - ema[i]) }
    }

    /// The average's tensors for a checkpoint: `ema.<name>` views of both arenas.
    public func safeTensors() -> [SafeTensor] {
        parameters.safeTensors(prefix: Self.tensorPrefix) + buffers.safeTensors(prefix: Self.tensorPrefix)
    }

    /// Restores the average from a checkpoint's `ema.*` tensors and the recorded update count
    /// (0 or a file without the tensors: the average starts afresh at the next update).
    public func restore(from file: SafeTensorsFile, updates: Int) throws {
        guard updates > 0 else { self.updates = 0; return }
        try parameters.load(from: file, prefix: Self.tensorPrefix)
        try buffers.load(from: file, prefix: Self.tensorPrefix)
        self.updates = updates
    }
}

extension Trainer {
    /// The weight average's figures on `images` (nil without one, or before its first update):
    /// the average goes into the network for the evaluation, the raw weights back after it.
    func evaluateAverage(_ images: LabeledImages) throws -> EvaluationResult? {
        guard let weightAverage, weightAverage.updates > 0 else { return nil }
        let raw = WeightSnapshot(step: state.globalStep, parameters: network.parameters, buffers: network.buffers)
        network.parameters.copy(from: weightAverage.parameters)
        network.buffers.copy(from: weightAverage.buffers)
        defer { raw.copy(into: network.parameters, network.buffers) }
        return try evaluate(images)
    }
}
