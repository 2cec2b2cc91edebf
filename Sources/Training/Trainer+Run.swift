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
            var runningLoss = 0.0, runningCorrect = 0, runningSeen = 0

            while true {
                options.phaseProbe?.set(step: state.globalStep, "waiting for data")
                let dataStart = Date()
                guard let batch = prefetcher.next() else { break }
                dataWaitSeconds += Date().timeIntervalSince(dataStart)
                let n = batch.count
                options.onBatch?(epoch, state.globalStep, Array(batch.indices.prefix(n)))
                let stepStart = Date()
                let compressedStep = codecSelector?.compressesNextStep() ?? true
                if codecSelector != nil { communicator.compresses = compressedStep }
                tracer.setStep(state.globalStep)
                let lr = scheduler.lr(atStep: state.globalStep)
                let momentum = scheduler.momentum(atStep: state.globalStep)
                network.gradients.zero()
                var spanStart = tracer.isEnabled ? tracer.now() : 0
                options.phaseProbe?.set(step: state.globalStep, "forward")
                let logits = network.forward(batch.images.pointer, batch: n, training: true, step: state.globalStep)
                let loss = stepLoss(batch, logits: logits, count: n)
                guard loss.isFinite else {
                    throw TrainingDiverged(step: state.globalStep + 1, loss: loss, lr: Double(lr))
                }
                runningCorrect += Self.countCorrect(logits: logits, labels: Self.dominantLabels(batch), count: n, classes: classes)
                spanStart = traceSpan("forward", since: spanStart)
                options.phaseProbe?.set(step: state.globalStep, "backward")
                if world > 1 {
                    network.backward(dLogits: dLogits.pointer, batch: n, gradientReady: { bucketer.ready($0) })
                    bucketer.finishStep()
                    spanStart = traceSpan("backward", since: spanStart)
                    options.phaseProbe?.set(step: state.globalStep, "wait for all-reduce")
                    let waitStart = Date()
                    try communicator.finishAllReduces()
                    communicationWaitSeconds += Date().timeIntervalSince(waitStart)
                    spanStart = traceSpan("wait for all-reduce", since: spanStart)
                    Self.scale(network.gradients, by: 1 / Float(world))
                } else {
                    network.backward(dLogits: dLogits.pointer, batch: n, gradientReady: nil)
                    spanStart = traceSpan("backward", since: spanStart)
                }
                options.phaseProbe?.set(step: state.globalStep, "optimizer")
                optimizer.step(parameters: network.parameters, gradients: network.gradients, lr: lr, momentum: momentum)
                _ = traceSpan("optimizer", since: spanStart)
                let stepSeconds = Date().timeIntervalSince(stepStart)
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
                                          top1: Double(runningCorrect) / Double(max(runningSeen, 1)),
                                          computeSeconds: computeSeconds, waitSeconds: communicationWaitSeconds)
                }
                let throughput = computeSeconds > 0 ? Double(imagesThisProcess) / computeSeconds : 0
                options.progress?.update(.init(epoch: epoch, epochs: config.epochs, step: state.globalStep, totalSteps: totalSteps,
                                               loss: runningLoss / Double(max(runningSeen, 1)),
                                               accuracy: Double(runningCorrect) / Double(max(runningSeen, 1)),
                                               imagesPerSecond: throughput, lr: Double(lr),
                                               etaSeconds: throughput > 0 ? Double((totalSteps - state.globalStep) * config.batchSize * world) / throughput : .nan),
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
        if let restoredStep { summary.bestCheckpoint = "checkpoints/" + CheckpointStore.fileName(step: restoredStep) }
        try record(["event": "test", "step": state.globalStep, "epoch": state.epoch, "weights_step": restoredStep ?? state.globalStep,
                    "test_loss": test.loss,
                    "test_top1": test.top1, "test_top5": test.top5, "test_confusion": test.metrics.confusion])
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
                                      + (restoredStep.map { "  (weights of step \($0), the best validation)" } ?? ""))
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
        _ = traceSpan("evaluate", since: spanStart, always: true)
        let evaluation = EvaluationRecord(step: state.globalStep, epoch: epoch, loss: r.loss, top1: r.top1, top5: r.top5)
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
        try record(["event": "validation", "step": state.globalStep, "epoch": epoch, "val_loss": r.loss, "val_top1": r.top1,
                    "val_top5": r.top5, "val_balanced_accuracy": r.metrics.balancedAccuracy, "val_macro_f1": r.metrics.macroF1,
                    "lr": Double(scheduler.lr(atStep: state.globalStep)),
                    "val_confusion": r.metrics.confusion])
        // Mid-epoch validations (eval_every) are named by their step, epoch-end ones by both.
        let when = endOfEpoch ? "validation after epoch \(epoch + 1) (step \(state.globalStep))"
                              : "validation at step \(state.globalStep) (epoch \(epoch + 1))"
        options.progress?.message(when + String(format: ": loss %.4f  top-1 %.2f%%  top-5 %.2f%%", r.loss, r.top1 * 100, r.top5 * 100)
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
