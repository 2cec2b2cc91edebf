import Checkpoints
import Foundation
import Optim
import Training
import XCTest

/// Early stopping with `eval_every` and `restore_best`: the run says when and why it stopped,
/// names every validation by its step, ends with a checkpoint of the weights its test figures
/// are of, and with `restore_best` tests the best validation's weights.
final class EarlyStoppingTests: TrainingTestCase {
    /// 192 training images in batches of 16: 12 steps per epoch; validations every 3 steps.
    func stoppingConfig() -> TrainingConfig {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 5
        config.evalEvery = 3
        config.checkpointEvery = 0
        var schedule = ScheduleConfig.defaultSchedule
        // Nothing counts as an improvement: the second validation (step 6) stops the run.
        schedule.earlyStopping = EarlyStoppingConfig(patience: 1, minDelta: 1e9)
        config.schedule = schedule
        return config
    }

    func recorder() -> (ProgressLine, () -> [String]) {
        let lock = NSLock()
        var messages: [String] = []
        let line = ProgressLine(interval: 1000, sink: { text, _ in lock.lock(); messages.append(text); lock.unlock() })
        return (line, { lock.lock(); defer { lock.unlock() }; return messages })
    }

    func testAMidEpochStopSaysWhyAndEndsWithACheckpointOfTheTestedStep() throws {
        let dir = runDir()
        var options = Trainer.Options(runDirectory: dir)
        let (line, messages) = recorder()
        options.progress = line
        let summary = try Trainer(config: stoppingConfig(), options: options).run()

        XCTAssertTrue(summary.stoppedEarly)
        XCTAssertEqual(summary.finalStep, 6)
        let text = messages()
        XCTAssertTrue(text.contains { $0.hasPrefix("validation at step 3 (epoch 1): loss ") }, "\(text)")
        XCTAssertTrue(text.contains { $0.hasPrefix("validation at step 6 (epoch 1): loss ") }, "\(text)")
        // Step 6 is better than step 3 but not by min_delta: both the value to beat and the
        // best are named.
        XCTAssertTrue(text.contains { $0.hasPrefix("early stopping at step 6 (epoch 1): val_loss has not improved on ")
                          && $0.contains(" for 1 validation (patience 1, min_delta 1e+09); the best, ") && $0.hasSuffix("was at step 6") },
                      "\(text)")
        XCTAssertEqual(summary.lastCheckpoint, "checkpoints/step-00000006.safetensors")
        XCTAssertEqual(summary.testStep, 6)
        XCTAssertNil(summary.bestCheckpoint)
        let store = CheckpointStore(runDirectory: dir)
        XCTAssertEqual(store.checkpoints().map(\.step), [6])
        let test = try records(dir).first { $0["event"] as? String == "test" }
        XCTAssertEqual(test?["step"] as? Int, 6)
        XCTAssertEqual(test?["weights_step"] as? Int, 6)

        // The checkpoint holds exactly the weights the test figures are of.
        XCTAssertEqual(try evaluateCheckpoint(dir + "/checkpoints/step-00000006.safetensors").loss, summary.testLoss)
    }

    func testEndOfEpochValidationsNameTheirStep() throws {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 2
        var options = Trainer.Options(runDirectory: runDir())
        let (line, messages) = recorder()
        options.progress = line
        _ = try Trainer(config: config, options: options).run()
        let validations = messages().filter { $0.hasPrefix("validation ") }.map { $0.prefix { $0 != ":" } }
        XCTAssertEqual(validations, ["validation after epoch 1 (step 12)", "validation after epoch 2 (step 24)"])
    }

    /// The authority (as the coordinator does) names step 6 the best and every later
    /// validation worse: the test must use step 6's weights, kept on disk despite
    /// keep_checkpoints 1.
    func bestAtStepSix(_ options: inout Trainer.Options) {
        options.scheduleAuthority = { observation in
            var state = observation.scheduler.state
            let isBest = observation.step == 6
            if isBest { state.bestStep = 6; state.bestMetric = observation.metric }
            state.observations += 1
            return ScheduleVerdict(decision: ScheduleDecision(reducedLR: false, lr: observation.scheduler.lr(atStep: observation.step),
                                                              shouldStop: false, isBest: isBest),
                                   state: state)
        }
    }

    func restoreBestConfig() -> TrainingConfig {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 3
        config.evalEvery = 3
        config.checkpointEvery = 0
        config.keepCheckpoints = 1
        config.restoreBest = true
        return config
    }

    func testRestoreBestTestsTheBestValidationsWeights() throws {
        let dir = runDir()
        var options = Trainer.Options(runDirectory: dir)
        bestAtStepSix(&options)
        let (line, messages) = recorder()
        options.progress = line
        let summary = try Trainer(config: restoreBestConfig(), options: options).run()

        XCTAssertEqual(summary.finalStep, 36)
        XCTAssertEqual(summary.testStep, 6)
        XCTAssertEqual(summary.bestCheckpoint, "checkpoints/step-00000006.safetensors")
        XCTAssertEqual(summary.lastCheckpoint, "checkpoints/step-00000036.safetensors")
        XCTAssertEqual(CheckpointStore(runDirectory: dir).checkpoints().map(\.step), [6, 36],
                       "the best step's checkpoint outlives keep_checkpoints 1")
        XCTAssertTrue(messages().contains { $0.hasPrefix("restore_best: the test evaluation uses the weights of step 6") }, "\(messages())")
        let best = try evaluateCheckpoint(dir + "/checkpoints/step-00000006.safetensors")
        let last = try evaluateCheckpoint(dir + "/checkpoints/step-00000036.safetensors")
        XCTAssertEqual(summary.testLoss, best.loss)
        XCTAssertEqual(summary.testTop1, best.top1)
        XCTAssertNotEqual(summary.testLoss, last.loss, "step 36's weights differ from step 6's")
    }

    func testRestoreBestAfterAResumeReadsTheBestStepsCheckpoint() throws {
        let whole = runDir()
        var options = Trainer.Options(runDirectory: whole)
        bestAtStepSix(&options)
        let expected = try Trainer(config: restoreBestConfig(), options: options).run()

        let split = runDir()
        var first = Trainer.Options(runDirectory: split)
        bestAtStepSix(&first)
        first.stopAfterSteps = 20
        XCTAssertThrowsError(try Trainer(config: restoreBestConfig(), options: first).run())
        var second = Trainer.Options(runDirectory: split, resume: true)
        bestAtStepSix(&second)
        let resumed = try Trainer(config: restoreBestConfig(), options: second).run()
        XCTAssertEqual(resumed.testStep, 6)
        XCTAssertEqual(resumed.testLoss, expected.testLoss, "the best weights came back from checkpoints/step-00000006")
    }

    func testRestoreBestNeedsAValidationSplit() throws {
        var config = restoreBestConfig()
        config.validationFraction = 0
        XCTAssertThrowsError(try Trainer(config: config, options: Trainer.Options(runDirectory: runDir()))) { error in
            XCTAssertTrue("\(error)".contains("restore_best"), "\(error)")
            XCTAssertTrue("\(error)".contains("validation_fraction"), "\(error)")
        }
    }

    func records(_ dir: String) throws -> [[String: Any]] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func evaluateCheckpoint(_ path: String) throws -> (loss: Double, top1: Double) {
        let model = try CheckpointModel(path: path)
        let test = try model.state.config.loadDataset().test
        let metrics = Evaluator.evaluate(networks: [model.network], images: test, indices: Array(0..<test.count),
                                         mean: model.state.normalizationMean, std: model.state.normalizationStd,
                                         batchSize: model.state.config.batchSize)
        return (metrics.loss, metrics.top1)
    }
}
