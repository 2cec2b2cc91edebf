import Checkpoints
import Collectives
import Datasets
import Foundation
import Kernels
import Layers
import Optim
import Telemetry
import Tensors

extension Trainer {
    /// Trains to the end (or to early stopping), evaluates on the test split, writes
    /// `summary.json`, and returns the summary.
    public func run() throws -> TrainingSummary {
        let world = communicator.worldSize, rank = communicator.rank
        let started = Date()
        if let runDirectory {
            try runDirectory.writeConfig(config)
        }
        let assembler = BatchAssembler(data: trainImages, augmentation: config.augmentation,
                                       mean: state.normalizationMean, std: state.normalizationStd, seed: config.seed)
        let bucketer = GradientBucketer(communicator: communicator, gradients: network.gradients.pointer,
                                        count: network.gradients.count, bucketBytes: config.bucketBytes)
        let classes = network.classes
        let totalSteps = state.stepsPerEpoch * config.epochs
        var stepsThisProcess = 0
        var imagesThisProcess = 0
        var computeSeconds = 0.0
        var communicationWaitSeconds = 0.0
        var lastCheckpoint: String?
        /// The step of the newest checkpoint: the run ends with one at the step its final
        /// figures come from.
        var checkpointedStep: Int? = options.resume ? state.globalStep : nil
        func checkpoint() throws {
            lastCheckpoint = try saveCheckpoint() ?? lastCheckpoint
            checkpointedStep = state.globalStep
        }
        var stoppedEarly = scheduler.shouldStop
        try recordStart()
        // The previous `train` record's counters: its line reports the window since then.
        var window = WindowStart(step: state.globalStep, time: Date(), computeSeconds: 0, waitSeconds: 0,
                                 stats: communicator.stats)
        // `--codec auto`: the ring is a zstd ring whose compression the selector switches.
        let codecSelector = config.codec == "auto" && world > 1 ? CodecAutoSelector() : nil

        // `stop_at_epoch` ends this run early without touching the schedule (a paused trial).
        let lastEpoch = config.stopAtEpoch > 0 ? min(config.stopAtEpoch, config.epochs) : config.epochs
        epochLoop: while state.epoch < lastEpoch && !stoppedEarly {
            let epoch = state.epoch
            let indices = sampler.indices(epoch: epoch, cursor: state.cursor, rank: rank, worldSize: world)
            let plan = Prefetcher.chunk(indices, batchSize: config.batchSize)
            let prefetcher = Prefetcher(assembler: assembler, plan: plan, epoch: epoch, capacity: config.batchSize)
            defer { prefetcher.cancel() }
            var runningLoss = 0.0, runningCorrect = 0, runningSeen = 0, runningPenalty = 0.0

            // Each optimizer step takes the next `accumulate_steps` micro-batches of the plan.
            var nextMicroBatch = 0
            while nextMicroBatch < plan.count {
                let sizes = plan[nextMicroBatch..<min(nextMicroBatch + config.accumulateSteps, plan.count)].map(\.count)
                nextMicroBatch += sizes.count
                let stepStart = Date()
                let compressedStep = codecSelector?.compressesNextStep() ?? true
                if codecSelector != nil { communicator.compresses = compressedStep }
                tracer.setStep(state.globalStep)
                let lr = scheduler.lr(atStep: state.globalStep)
                let momentum = scheduler.momentum(atStep: state.globalStep)
                guard let step = try trainStep(micro: sizes, prefetcher: prefetcher, bucketer: bucketer, epoch: epoch,
                                               lr: lr, momentum: momentum) else { break }
                dataWaitSeconds += step.dataWaitSeconds
                communicationWaitSeconds += step.communicationWaitSeconds
                let n = step.samples
                runningCorrect += step.correct
                runningPenalty += step.l1Penalty * Double(n)
                let loss = step.loss + step.l1Penalty
                let stepSeconds = Date().timeIntervalSince(stepStart) - step.dataWaitSeconds
                computeSeconds += stepSeconds

                state.globalStep += 1
                learningRates.append(step: state.globalStep, lr: Double(lr))
                if let selector = codecSelector,
                   let decision = try selector.recordStep(state.globalStep, seconds: stepSeconds, compressed: compressedStep,
                                                          communicator: communicator) {
                    try recordCodecDecision(decision)
                }
                state.cursor = sampler.advance(cursor: state.cursor, batchSize: n, worldSize: world)
                stepsThisProcess += 1
                imagesThisProcess += n * world
                runningLoss += Double(loss) * Double(n)
                runningSeen += n

                // The cursor, not a step count, ends the epoch: after a resume onto another world
                // size the steps left in the epoch are not stepsPerEpoch minus the steps done.
                let endOfEpoch = state.cursor >= sampler.epochLength
                // Every rank takes this branch at the same steps (the cursor is global), so the
                // per-worker figures can be all-gathered here.
                if state.globalStep % 50 == 0 || endOfEpoch {
                    try recordTrainWindow(since: &window, epoch: epoch, batchSize: n, lr: Double(lr),
                                          loss: runningLoss / Double(max(runningSeen, 1)),
                                          l1Penalty: config.l1 > 0 ? runningPenalty / Double(max(runningSeen, 1)) : nil,
                                          top1: Double(runningCorrect) / Double(max(runningSeen, 1)),
                                          computeSeconds: computeSeconds, waitSeconds: communicationWaitSeconds)
                }
                let throughput = computeSeconds > 0 ? Double(imagesThisProcess) / computeSeconds : 0
                options.progress?.update(.init(epoch: epoch, epochs: config.epochs, step: state.globalStep, totalSteps: totalSteps,
                                               loss: runningLoss / Double(max(runningSeen, 1)),
                                               accuracy: Double(runningCorrect) / Double(max(runningSeen, 1)),
                                               imagesPerSecond: throughput, lr: Double(lr),
                                               etaSeconds: throughput > 0 ? Double((totalSteps - state.globalStep) * config.batchSize * config.accumulateSteps * world) / throughput : .nan,
                                               l1Penalty: config.l1 > 0 ? runningPenalty / Double(max(runningSeen, 1)) : nil),
                                         force: endOfEpoch)

                var newBest = false
                if config.evalEvery > 0 && state.globalStep % config.evalEvery == 0 && !endOfEpoch {
                    let decision = try evaluateAndSchedule(epoch: epoch, endOfEpoch: false)
                    stoppedEarly = decision?.shouldStop ?? false
                    newBest = decision?.isBest ?? false
                }
                if endOfEpoch {
                    state.epoch += 1
                    state.cursor = 0
                    options.progress?.finish()
                    stoppedEarly = try evaluateAndSchedule(epoch: epoch, endOfEpoch: true)?.shouldStop ?? false || stoppedEarly
                    try checkpoint()
                    continue epochLoop
                }
                // restore_best keeps the best weights on disk too (a mid-epoch best included).
                if (config.checkpointEvery > 0 && state.globalStep % config.checkpointEvery == 0)
                    || (newBest && config.restoreBest) || stoppedEarly {
                    try checkpoint()
                } else if config.commitEvery > 0 && state.globalStep % config.commitEvery == 0 && options.checkpointSink != nil {
                    _ = try saveCheckpoint(commitOnly: true)
                }
                if stoppedEarly { break epochLoop }
                if let limit = options.stopAfterSteps, stepsThisProcess >= limit {
                    throw TrainingInterrupted(step: state.globalStep)
                }
            }
            // The plan ran out without an end-of-epoch step (an empty shard): next epoch.
            if state.epoch == epoch {
                state.epoch += 1
                state.cursor = 0
            }
        }

        if checkpointedStep != state.globalStep { try checkpoint() }
        let restoredStep = restoreBestWeights()
        let test = try evaluate(dataset.test)
        let averageTest = try evaluateAverage(dataset.test)
        let wall = Date().timeIntervalSince(started)
        let names = Self.classNames(dataset.classNames, count: classes)
        var summary = TrainingSummary(finalStep: state.globalStep, epochsCompleted: state.epoch, testLoss: test.loss,
                                      testTop1: test.top1, testTop5: test.top5,
                                      imagesPerSec: computeSeconds > 0 ? Double(imagesThisProcess) / computeSeconds : 0,
                                      wallSeconds: wall, worldSize: world, compressionRatio: communicator.stats.compressionRatio,
                                      stoppedEarly: stoppedEarly, bestValTop1: state.history.map(\.top1).max(),
                                      lastCheckpoint: lastCheckpoint.map { "checkpoints/" + ($0 as NSString).lastPathComponent },
                                      computeSeconds: computeSeconds,
                                      communicationWaitSeconds: communicationWaitSeconds,
                                      bytesSent: communicator.stats.bytesSent, bytesRaw: communicator.stats.bytesRaw,
                                      encodeSeconds: communicator.stats.encodeSeconds,
                                      model: modelName, classNames: names, config: config,
                                      testConfusion: test.metrics.confusion,
                                      perClass: test.metrics.perClass().map { ClassReport($0, name: names[$0.index]) },
                                      checkpoints: store.map { s in s.checkpoints().map { "checkpoints/" + ($0.path as NSString).lastPathComponent } },
                                      codecAuto: codecSelector?.decisions)
        summary.testStep = restoredStep ?? state.globalStep
        summary.emaTestLoss = averageTest?.loss
        summary.emaTestTop1 = averageTest?.top1
        summary.emaTestTop5 = averageTest?.top5
        if let restoredStep { summary.bestCheckpoint = "checkpoints/" + CheckpointStore.fileName(step: restoredStep) }
        var testFields: [String: Any] = ["event": "test", "step": state.globalStep, "epoch": state.epoch,
                                         "weights_step": restoredStep ?? state.globalStep, "test_loss": test.loss,
                                         "test_top1": test.top1, "test_top5": test.top5, "test_confusion": test.metrics.confusion]
        if let averageTest {
            testFields["ema_test_loss"] = averageTest.loss
            testFields["ema_test_top1"] = averageTest.top1
            testFields["ema_test_top5"] = averageTest.top5
        }
        try record(testFields)
        try finishTimeline()
        if let runDirectory {
            do {
                try runDirectory.writeSummary(summary)
            } catch {
                // Training is done and its checkpoints are written; a full disk at this point
                // costs the file, not the result (the command prints the summary too).
                options.progress?.message("warning: cannot write \(runDirectory.path)/summary.json (the summary is printed on stdout instead): \(error)")
            }
            runDirectory.close()
        }
        if options.announcesTest {
            options.progress?.message(String(format: "test: loss %.4f  top-1 %.2f%%  top-5 %.2f%%  (%d steps, %.0f s)",
                                             test.loss, test.top1 * 100, test.top5 * 100, state.globalStep, wall)
                                      + (restoredStep.map { "  (weights of step \($0), the best validation)" } ?? "")
                                      + (averageTest.map { String(format: "  EMA: loss %.4f  top-1 %.2f%%  top-5 %.2f%%", $0.loss, $0.top1 * 100, $0.top5 * 100) } ?? ""))
        }
        return summary
    }

    /// Evaluates on the validation split (if any), records it, and lets the scheduler decide
    /// on plateaus and early stopping. Returns the decision (nil: no validation split).
    func evaluateAndSchedule(epoch: Int, endOfEpoch: Bool) throws -> ScheduleDecision? {
        guard let validationImages else { return nil }
        let started = Date()
        defer { pauseSeconds += Date().timeIntervalSince(started) }
        let spanStart = tracer.isEnabled ? tracer.now() : 0
        options.phaseProbe?.set(step: state.globalStep, "evaluate")
        let r = try evaluate(validationImages)
        let average = try evaluateAverage(validationImages)
        _ = traceSpan("evaluate", since: spanStart, always: true)
        var evaluation = EvaluationRecord(step: state.globalStep, epoch: epoch, loss: r.loss, top1: r.top1, top5: r.top5)
        evaluation.emaLoss = average?.loss
        evaluation.emaTop1 = average?.top1
        evaluation.emaTop5 = average?.top5
        state.history.append(evaluation)
        let monitored: Double
        switch config.schedule.monitor {
        case "val_top1": monitored = r.top1
        case "val_top5": monitored = r.top5
        case "val_balanced_accuracy": monitored = r.metrics.balancedAccuracy
        case "val_macro_f1": monitored = r.metrics.macroF1
        default: monitored = r.loss
        }
        let decision: ScheduleDecision
        if let authority = options.scheduleAuthority {
            // Distributed: the coordinator decides and every rank adopts its state, so the
            // ranks agree because they were told, not because they computed alike.
            options.phaseProbe?.set(step: state.globalStep, "waiting for the coordinator's scheduling decision")
            let verdict = try authority(ScheduleObservation(metric: monitored, step: state.globalStep, epoch: epoch,
                                                            scheduler: scheduler))
            scheduler.restoreState(verdict.state)
            decision = verdict.decision
        } else {
            decision = scheduler.observe(validationMetric: monitored, atStep: state.globalStep, epoch: epoch)
        }
        var fields: [String: Any] = ["event": "validation", "step": state.globalStep, "epoch": epoch, "val_loss": r.loss, "val_top1": r.top1,
                                     "val_top5": r.top5, "val_balanced_accuracy": r.metrics.balancedAccuracy, "val_macro_f1": r.metrics.macroF1,
                                     "lr": Double(scheduler.lr(atStep: state.globalStep)),
                                     "val_confusion": r.metrics.confusion]
        if let average {
            fields["ema_val_loss"] = average.loss
            fields["ema_val_top1"] = average.top1
            fields["ema_val_top5"] = average.top5
        }
        try record(fields)
        // Mid-epoch validations (eval_every) are named by their step, epoch-end ones by both.
        let when = endOfEpoch ? "validation after epoch \(epoch + 1) (step \(state.globalStep))"
                              : "validation at step \(state.globalStep) (epoch \(epoch + 1))"
        options.progress?.message(when + String(format: ": loss %.4f  top-1 %.2f%%  top-5 %.2f%%", r.loss, r.top1 * 100, r.top5 * 100)
                                  + (average.map { String(format: "  (EMA: loss %.4f  top-1 %.2f%%)", $0.loss, $0.top1 * 100) } ?? "")
                                  + (decision.reducedLR ? String(format: "  (plateau: lr now %.3g)", decision.lr) : "")
                                  + (decision.isBest && config.restoreBest ? "  (best so far: kept)" : ""))
        if decision.isBest { keepBestWeights() }
        if decision.shouldStop, options.scheduleAuthority == nil {
            // Distributed runs: the coordinator, which took the decision, prints it.
            options.progress?.message(earlyStopMessage())
        }
        return decision
    }

    /// "early stopping at step 220 (epoch 2): val_loss has not improved on 0.2734 for 3
    /// validations (patience 3); the best, 0.2734, was at step 160".
    func earlyStopMessage() -> String {
        let monitor = config.schedule.monitor
        let e = config.schedule.earlyStopping
        var text = "early stopping at step \(state.globalStep) (epoch \(state.epoch + (state.cursor > 0 ? 1 : 0))): \(monitor) has not improved"
        if let reference = scheduler.state.earlyStopBest { text += String(format: " on %.4g", reference) }
        if let e {
            text += " for \(e.patience) validation\(e.patience == 1 ? "" : "s") (patience \(e.patience)"
                + (e.minDelta > 0 ? String(format: ", min_delta %g", e.minDelta) : "") + ")"
        }
        if let best = scheduler.state.bestMetric, let at = scheduler.state.bestStep {
            text += String(format: "; the best, %.4g, was at step %d", best, at)
        }
        return text
    }

    static func countCorrect(logits: UnsafeBufferPointer<Float>, labels: [Int32], count: Int, classes: Int) -> Int {
        var correct = 0
        for i in 0..<count {
            var best = 0
            for c in 1..<classes where logits[i * classes + c] > logits[i * classes + best] { best = c }
            if best == Int(labels[i]) { correct += 1 }
        }
        return correct
    }

    static func scale(_ arena: ParameterArena, by factor: Float) {
        let p = arena.pointer
        for i in 0..<arena.count { p[i] *= factor }
    }
}

/// The loss stopped being a number: the run cannot recover, so it stops with a message that
/// says what to change instead of writing NaN weights and metrics.
public struct TrainingDiverged: Error, CustomStringConvertible {
    public let step: Int
    public let loss: Float
    public let lr: Double
    public var description: String {
        "training diverged: the loss is \(loss) at step \(step) (learning rate \(String(format: "%.3g", lr))); lower lr, lengthen the warmup, or set clip_norm"
    }
}

/// Thrown when `Options.stopAfterSteps` is reached: a simulated crash for resume tests.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let step: Int
    public var description: String { "training interrupted after step \(step) (stopAfterSteps)" }
}
