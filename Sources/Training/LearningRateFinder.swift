import Datasets
import Foundation

/// `ringtrain lr-find`: PyTorch Lightning's `lr_find`. From the config's fresh model, one
/// optimizer step per learning rate, the rates growing from `minLR` to `maxLR` exponentially
/// (or linearly) over `steps`; the loss is smoothed (exponential moving average with bias
/// correction, beta 0.98) and the sweep stops when the smoothed loss passes
/// `earlyStopThreshold` times the best seen. The suggestion is the rate where the smoothed
/// loss falls fastest (the most negative finite-difference slope), skipping the first
/// `skipBegin` and the last `skipEnd` points, as Lightning does.
public struct LearningRateSweep: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable, CaseIterable { case exponential, linear }

    public var minLR: Double = 1e-8
    public var maxLR: Double = 1
    public var steps: Int = 100
    public var mode: Mode = .exponential
    /// Stop when the smoothed loss exceeds this multiple of the best one (nil: never).
    public var earlyStopThreshold: Double? = 4
    public var beta: Double = 0.98
    public var skipBegin = 10
    public var skipEnd = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case minLR = "min_lr", maxLR = "max_lr", steps, mode, earlyStopThreshold = "early_stop_threshold", beta
        case skipBegin = "skip_begin", skipEnd = "skip_end"
    }

    public func validate() throws {
        guard minLR > 0, maxLR > minLR, maxLR < 1000 else {
            throw ConfigurationError(key: "--start-lr/--end-lr", "need 0 < start-lr < end-lr < 1000, got \(minLR) and \(maxLR)")
        }
        guard steps >= 2, steps <= 100_000 else { throw ConfigurationError(key: "--steps", "must be in 2...100000, got \(steps)") }
        if let t = earlyStopThreshold, !(t > 1) { throw ConfigurationError(key: "--early-stop-threshold", "must be above 1, got \(t)") }
    }

    /// The learning rate of step `i` (0-based) of the sweep.
    public func lr(atStep i: Int) -> Double {
        let t = Double(i) / Double(max(steps - 1, 1))
        switch mode {
        case .exponential: return minLR * pow(maxLR / minLR, t)
        case .linear: return minLR + (maxLR - minLR) * t
        }
    }
}

/// What a sweep measured and suggests; written to the run directory as `lr_find.json`.
public struct LearningRateCurve: Codable, Sendable, Equatable {
    public var sweep: LearningRateSweep
    public var lrs: [Double] = []
    public var losses: [Double] = []
    public var smoothedLosses: [Double] = []
    /// The sweep ended before `steps` because the smoothed loss diverged.
    public var stoppedEarly = false
    public var suggestedLR: Double?
    public var suggestedIndex: Int?
    /// The running average before bias correction (Lightning's `avg_loss`).
    var averageBeforeBias = 0.0

    public static let fileName = "lr_find.json"

    enum CodingKeys: String, CodingKey {
        case sweep, lrs, losses, smoothedLosses = "smoothed_losses", stoppedEarly = "stopped_early"
        case suggestedLR = "suggested_lr", suggestedIndex = "suggested_index"
    }

    public init(sweep: LearningRateSweep) { self.sweep = sweep }

    /// Adds one step's loss; returns false when the sweep should stop (divergence).
    public mutating func append(lr: Double, loss: Double) -> Bool {
        let beta = sweep.beta
        let previous = losses.isEmpty ? 0 : averageBeforeBias
        let average = beta * previous + (1 - beta) * loss
        averageBeforeBias = average
        let smoothed = average / (1 - pow(beta, Double(losses.count + 1)))
        lrs.append(lr)
        losses.append(loss)
        smoothedLosses.append(smoothed)
        let best = smoothedLosses.min()!
        if !loss.isFinite || (sweep.earlyStopThreshold.map { smoothed > $0 * best } ?? false) {
            stoppedEarly = true
            return false
        }
        return true
    }


    /// Sets the suggestion: the steepest descent of the smoothed loss between the skipped
    /// ends (numpy.gradient's central differences, one-sided at the ends). Nil when fewer
    /// than two points remain.
    public mutating func suggest() {
        let end = smoothedLosses.count - sweep.skipEnd
        let begin = sweep.skipBegin
        guard end - begin >= 2 else { suggestedLR = nil; suggestedIndex = nil; return }
        let y = Array(smoothedLosses[begin..<end])
        var bestIndex = 0, bestSlope = Double.infinity
        for i in y.indices {
            let slope = i == 0 ? y[1] - y[0] : i == y.count - 1 ? y[i] - y[i - 1] : (y[i + 1] - y[i - 1]) / 2
            if slope.isFinite && slope < bestSlope { bestSlope = slope; bestIndex = i }
        }
        suggestedIndex = begin + bestIndex
        suggestedLR = lrs[begin + bestIndex]
    }
}

extension Trainer {
    /// Runs the sweep from the model's fresh weights (distributed: every rank alike, the loss
    /// averaged over the ranks so they stop together). Writes nothing but the curve, which
    /// rank 0 (or the only process) also writes to the run directory as `lr_find.json`.
    public func findLearningRate(_ sweep: LearningRateSweep) throws -> LearningRateCurve {
        try sweep.validate()
        let world = communicator.worldSize, rank = communicator.rank
        let assembler = BatchAssembler(data: trainImages, augmentation: config.augmentation,
                                       mean: state.normalizationMean, std: state.normalizationStd, seed: config.seed)
        let bucketer = GradientBucketer(communicator: communicator, gradients: network.gradients.pointer,
                                        count: network.gradients.count, bucketBytes: config.bucketBytes)
        var curve = LearningRateCurve(sweep: sweep)
        var epoch = 0
        sweepLoop: while curve.lrs.count < sweep.steps {
            let indices = sampler.indices(epoch: epoch, cursor: 0, rank: rank, worldSize: world)
            let plan = Prefetcher.chunk(indices, batchSize: config.batchSize)
            guard !plan.isEmpty else { break }
            let prefetcher = Prefetcher(assembler: assembler, plan: plan, epoch: epoch, capacity: config.batchSize)
            defer { prefetcher.cancel() }
            var next = 0
            while next < plan.count && curve.lrs.count < sweep.steps {
                let sizes = plan[next..<min(next + config.accumulateSteps, plan.count)].map(\.count)
                next += sizes.count
                let lr = sweep.lr(atStep: curve.lrs.count)
                let step: StepOutcome?
                do {
                    step = try trainStep(micro: sizes, prefetcher: prefetcher, bucketer: bucketer, epoch: epoch,
                                         lr: Float(lr), momentum: nil)
                } catch is TrainingDiverged {
                    // A non-finite loss is the end of the sweep, not an error.
                    _ = curve.append(lr: lr, loss: .infinity)
                    break sweepLoop
                }
                guard let step else { break sweepLoop }
                var loss = step.loss + step.l1Penalty
                if world > 1 { loss = try communicator.allGather([loss]).reduce(0) { $0 + $1[0] } / Double(world) }
                state.globalStep += 1
                options.progress?.message(String(format: "lr-find step %d/%d: lr %.3g  loss %.4f", curve.lrs.count + 1, sweep.steps, lr, loss))
                if !curve.append(lr: lr, loss: loss) { break sweepLoop }
            }
            epoch += 1
        }
        curve.suggest()
        if rank == 0, let runDirectory { try runDirectory.writeLearningRateCurve(curve) }
        return curve
    }
}

extension RunDirectory {
    /// RUN_DIR/lr_find.json, atomically.
    public func writeLearningRateCurve(_ curve: LearningRateCurve) throws {
        try writeJSON(curve, to: path + "/" + LearningRateCurve.fileName)
    }
}
