import Checkpoints
import Datasets
import Foundation
import Layers
import Training
import XCTest

/// L1, undersampling, gradient accumulation and the weight average in whole runs.
final class ToolkitTrainingTests: TrainingTestCase {
    /// No dropout, no augmentation, no batch norm: a run whose steps depend only on which
    /// samples they see.
    func plainConfig() -> TrainingConfig {
        var c = TrainingFixtures.config(data: data)
        c.layers = [LayerSpec(type: "conv", out: 4, kernel: 3, pad: 1), LayerSpec(type: "relu"), LayerSpec(type: "maxpool", size: 2),
                    LayerSpec(type: "flatten"), LayerSpec(type: "linear")]
        c.augmentation = AugmentationConfig()
        c.epochs = 1
        return c
    }

    func metrics(_ dir: String) throws -> [[String: Any]] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// K micro-batches of B and one step on K·B samples: the same update up to float rounding.
    func testAccumulationEqualsOneStepOnTheLargerBatch() throws {
        var large = plainConfig()
        large.batchSize = 32
        var accumulated = plainConfig()
        accumulated.batchSize = 8
        accumulated.accumulateSteps = 4
        var small = accumulated
        small.accumulateSteps = 1
        let a = try Trainer(config: large, options: .init(runDirectory: runDir()))
        _ = try a.run()
        var seen: [Int] = []
        var options = Trainer.Options(runDirectory: runDir())
        options.onBatch = { _, _, indices in seen += indices }
        let b = try Trainer(config: accumulated, options: options)
        _ = try b.run()
        XCTAssertEqual(b.state.stepsPerEpoch, a.state.stepsPerEpoch)
        XCTAssertEqual(b.state.globalStep, a.state.globalStep)
        // 240 samples, 20% held out: 192 = 6 steps of 32 = 24 micro-batches of 8.
        XCTAssertEqual(seen.count, 192)
        let x = a.network.parameters.storage.array, y = b.network.parameters.storage.array
        var worst: Float = 0
        for i in x.indices { worst = max(worst, abs(x[i] - y[i]) / max(1, abs(x[i]))) }
        XCTAssertLessThan(worst, 1e-5, "accumulated and large-batch weights agree")
        // And they are not what 24 small steps give.
        let s = try Trainer(config: small, options: .init(runDirectory: runDir()))
        _ = try s.run()
        let z = s.network.parameters.storage.array
        XCTAssertGreaterThan(x.indices.map { abs(x[$0] - z[$0]) }.max()!, 1e-3)
    }

    func testL1ShrinksTheWeightsAndItsTermIsLoggedInTheLoss() throws {
        var config = plainConfig()
        config.epochs = 2
        let plainDir = runDir(), l1Dir = runDir()
        let plain = try Trainer(config: config, options: .init(runDirectory: plainDir))
        _ = try plain.run()
        config.l1 = 0.02
        let lines = LogLines()
        var options = Trainer.Options(runDirectory: l1Dir)
        options.progress = ProgressLine(interval: 0, forceTerminal: false, output: { lines.append($0) })
        let regularised = try Trainer(config: config, options: options)
        _ = try regularised.run()
        func absSum(_ t: Trainer) -> Double {
            t.network.parameters.layout.slots.filter { $0.role == .weight }
                .reduce(0) { sum, slot in sum + t.network.parameters.view(slot).reduce(0.0) { $0 + Double(abs($1)) } }
        }
        XCTAssertLessThan(absSum(regularised), absSum(plain) * 0.9)
        let train = try metrics(l1Dir).filter { $0["event"] as? String == "train" }
        let last = try XCTUnwrap(train.last)
        let penalty = try XCTUnwrap(last["l1_penalty"] as? Double)
        XCTAssertGreaterThan(penalty, 0)
        XCTAssertGreaterThan(try XCTUnwrap(last["loss"] as? Double), penalty, "loss includes the penalty")
        XCTAssertNil(try metrics(plainDir).first { $0["event"] as? String == "train" }?["l1_penalty"])
        XCTAssertTrue(lines.all.contains { $0.contains("(incl. l1 ") }, lines.all.joined())
    }

    func testUndersamplingDrawsSamplesPerClassEveryEpoch() throws {
        var config = plainConfig()
        config.epochs = 3
        config.sampler = "undersample"
        config.samplesPerClass = 5
        var perEpoch: [Int: [Int]] = [:]
        var options = Trainer.Options(runDirectory: runDir())
        options.onBatch = { epoch, _, indices in perEpoch[epoch, default: []] += indices }
        let trainer = try Trainer(config: config, options: options)
        _ = try trainer.run()
        XCTAssertEqual(trainer.state.stepsPerEpoch, 2, "4 classes x 5 samples in batches of 16")
        XCTAssertEqual(perEpoch.keys.sorted(), [0, 1, 2])
        XCTAssertNotEqual(Set(perEpoch[0]!), Set(perEpoch[1]!), "a fresh subset each epoch")
        for (epoch, indices) in perEpoch {
            XCTAssertEqual(indices.count, 20)
            XCTAssertEqual(Set(indices).count, 20, "epoch \(epoch): no sample twice")
        }
        XCTAssertThrowsError(try TrainingConfig.parse(json: Data(#"{"samples_per_class": 5}"#.utf8), source: "c.json")) {
            XCTAssertTrue("\($0)".contains("samples_per_class"), "\($0)")
        }
    }

    func testWeightAverageIsValidatedTestedAndCheckpointed() throws {
        var config = plainConfig()
        config.epochs = 2
        config.emaDecay = 0.9
        let dir = runDir()
        let trainer = try Trainer(config: config, options: .init(runDirectory: dir))
        let summary = try trainer.run()
        let validation = try XCTUnwrap(try metrics(dir).last { $0["event"] as? String == "validation" })
        XCTAssertNotNil(validation["ema_val_top1"] as? Double)
        XCTAssertNotNil(validation["ema_val_loss"] as? Double)
        XCTAssertNotNil(summary.emaTestTop1)
        XCTAssertNotEqual(summary.emaTestLoss, summary.testLoss, "the average is not the last weights")
        let average = try XCTUnwrap(trainer.weightAverage)
        XCTAssertEqual(average.updates, trainer.state.globalStep)
        let latest = try XCTUnwrap(CheckpointStore(runDirectory: dir).latestValid())
        let model = try CheckpointModel(path: latest.path, weights: .ema)
        XCTAssertEqual(model.network.parameters.storage.array, average.parameters.storage.array)
        XCTAssertEqual(model.network.buffers.storage.array, average.buffers.storage.array)
        let raw = try CheckpointModel(path: latest.path)
        XCTAssertEqual(raw.network.parameters.storage.array, trainer.network.parameters.storage.array)
        // The EMA model's test figures are the summary's.
        let test = trainer.dataset.test
        let m = Evaluator.evaluate(networks: [model.network], images: test, indices: Array(0..<test.count),
                                   mean: trainer.state.normalizationMean, std: trainer.state.normalizationStd, batchSize: 64)
        XCTAssertEqual(m.top1, summary.emaTestTop1!, accuracy: 1e-12)

        var without = plainConfig()
        without.epochs = 1
        let plainDir = runDir()
        _ = try Trainer(config: without, options: .init(runDirectory: plainDir)).run()
        let plainCheckpoint = try XCTUnwrap(CheckpointStore(runDirectory: plainDir).latestValid())
        XCTAssertThrowsError(try CheckpointModel(path: plainCheckpoint.path, weights: .ema)) {
            XCTAssertTrue("\($0)".contains("no weight average"), "\($0)")
        }
    }

    /// Stopped after any step and resumed, a run with L1, accumulation, the weight average and
    /// undersampling ends bit-identical to an uninterrupted one, the average included.
    func testResumeIsBitIdenticalWithEveryToolkitState() throws {
        var config = TrainingFixtures.config(data: data)
        config.l1 = 1e-4
        config.accumulateSteps = 2
        config.emaDecay = 0.8
        config.sampler = "undersample"
        config.samplesPerClass = 30
        config.checkpointEvery = 2
        let straight = try Trainer(config: config, options: .init(runDirectory: runDir()))
        _ = try straight.run()
        for crashAfter in [3, 6] {
            let dir = runDir()
            var options = Trainer.Options(runDirectory: dir)
            options.stopAfterSteps = crashAfter
            XCTAssertThrowsError(try Trainer(config: config, options: options).run())
            let resumed = try Trainer(config: config, options: .init(runDirectory: dir, resume: true))
            XCTAssertEqual(resumed.state.globalStep, crashAfter / 2 * 2)
            _ = try resumed.run()
            XCTAssertEqual(resumed.network.parameters.storage.array.map(\.bitPattern),
                           straight.network.parameters.storage.array.map(\.bitPattern), "weights, crash after \(crashAfter)")
            XCTAssertEqual(resumed.weightAverage!.parameters.storage.array.map(\.bitPattern),
                           straight.weightAverage!.parameters.storage.array.map(\.bitPattern), "average, crash after \(crashAfter)")
            XCTAssertEqual(resumed.weightAverage!.updates, straight.weightAverage!.updates)
        }
    }
}

/// Lines a progress line wrote (from any thread).
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

/// The ensemble evaluation on trained networks: members' figures are their own, a weight of 0
/// removes a member, and the views' average is reported beside the plain figures.
final class EnsembleEvaluationTests: TrainingTestCase {
    func testMembersWeightsAndViewsOnTrainedNetworks() throws {
        var a = TrainingFixtures.config(data: data)
        a.epochs = 1
        var b = a
        b.seed = 7
        let ta = try Trainer(config: a, options: .init(runDirectory: runDir()))
        _ = try ta.run()
        let tb = try Trainer(config: b, options: .init(runDirectory: runDir()))
        _ = try tb.run()
        let test = ta.dataset.test, all = Array(0..<test.count)
        let mean = ta.state.normalizationMean, std = ta.state.normalizationStd
        let alone = Evaluator.evaluate(networks: [ta.network], images: test, indices: all, mean: mean, std: std, batchSize: 16)
        let r = Evaluator.evaluateEnsemble(networks: [ta.network, tb.network], images: test, indices: all, mean: mean, std: std,
                                           batchSize: 16, weights: [1, 0], views: [.identity, .flip])
        XCTAssertEqual(r.members[0].top1Correct, alone.top1Correct)
        XCTAssertEqual(r.members[0].lossSum, alone.lossSum, accuracy: 1e-9)
        XCTAssertEqual(r.ensemble.top1Correct, alone.top1Correct, "weight 0: the second member does not count")
        XCTAssertEqual(r.ensemble.lossSum, alone.lossSum, accuracy: 1e-3)
        let flipped = try XCTUnwrap(r.augmentedMembers)[0]
        XCTAssertEqual(try XCTUnwrap(r.augmentedEnsemble).top1Correct, flipped.top1Correct)
        XCTAssertNotEqual(flipped.lossSum, alone.lossSum, "the mirrored view changes the prediction")
        let vote = Evaluator.evaluateEnsemble(networks: [ta.network, tb.network], images: test, indices: all, mean: mean, std: std,
                                              batchSize: 16, weights: [0.6, 0.4], combine: .vote)
        XCTAssertEqual(vote.ensemble.top1Correct, alone.top1Correct, "0.6 against 0.4: the first member decides every vote")
    }
}

/// `cv_folds` / `cv_fold`: the fold validates, the other folds train.
final class CrossValidationFoldTests: TrainingTestCase {
    func testTheFoldIsTheValidationSplitAndTheRestTrains() throws {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 1
        config.cvFolds = 4
        config.cvFold = 2
        var seen = Set<Int>()
        var options = Trainer.Options(runDirectory: runDir())
        options.onBatch = { _, _, indices in seen.formUnion(indices) }
        let trainer = try Trainer(config: config, options: options)
        _ = try trainer.run()
        let full = trainer.dataset.train
        let folds = Splits.kFold(labels: full.labels, classCount: full.classCount, folds: 4, seed: config.seed)
        // Training indices are positions in the training part: 240 - 60 = 180 samples, each once.
        XCTAssertEqual(seen.count, 180)
        XCTAssertEqual(folds[2].count, 60)
        let validation = try XCTUnwrap(trainer.state.history.last)
        XCTAssertGreaterThan(validation.top1, 0)
    }
}
