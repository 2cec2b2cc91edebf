import Checkpoints
import Foundation
import Datasets
import Layers
import Optim
import Training
import XCTest

final class TrainerTests: TrainingTestCase {
    func testRunWritesRunDirectoryAndLearns() throws {
        let dir = runDir()
        var config = TrainingFixtures.config(data: data)
        config.epochs = 4
        config.dropout = 0.3
        let trainer = try Trainer(config: config, options: .init(runDirectory: dir))
        let summary = try trainer.run()
        // One name for the model everywhere: the summary's, the start line's, the log's.
        XCTAssertEqual(summary.model, "custom (6 layers) with dropout 0.3")
        XCTAssertEqual(trainer.modelName, summary.model)
        XCTAssertEqual(summary.finalStep, 4 * trainer.state.stepsPerEpoch)
        XCTAssertGreaterThan(summary.testTop1, 0.9, "the squares are easy to learn")
        for f in ["config.json", "metrics.jsonl", "summary.json", "checkpoints/latest"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
        }
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertTrue(objects.contains { $0["val_top1"] != nil && $0["val_top5"] != nil && $0["val_loss"] != nil })
        XCTAssertTrue(objects.contains { $0["loss"] != nil && $0["lr"] != nil && $0["images_per_sec"] != nil && $0["bytes_sent"] != nil })
        // The start line's config says true/false as config.json does, never 1/0.
        let start = try XCTUnwrap(lines.first { $0.contains("\"event\":\"start\"") })
        XCTAssertTrue(start.contains("\"nesterov\":true") && start.contains("\"resumed\":false"), String(start))
        XCTAssertTrue(start.contains("\"model\":\"custom (6 layers) with dropout 0.3\""), String(start))
        let s = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as! [String: Any]
        for key in ["final_step", "test_top1", "test_top5", "images_per_sec", "wall_seconds", "world_size", "compression_ratio"] {
            XCTAssertNotNil(s[key], key)
        }
    }

    /// A run stopped after any step and resumed ends bit-identical to an uninterrupted run.
    func testResumeIsBitIdenticalToUninterruptedRun() throws {
        let config = TrainingFixtures.config(data: data)
        let straight = try Trainer(config: config, options: .init(runDirectory: runDir()))
        _ = try straight.run()
        let expected = straight.network.parameters.storage.array

        for crashAfter in [5, 13] {
            let dir = runDir()
            var options = Trainer.Options(runDirectory: dir)
            options.stopAfterSteps = crashAfter
            let first = try Trainer(config: config, options: options)
            XCTAssertThrowsError(try first.run()) { XCTAssertTrue($0 is TrainingInterrupted) }
            let resumed = try Trainer(config: config, options: .init(runDirectory: dir, resume: true))
            XCTAssertEqual(resumed.state.globalStep, crashAfter / 4 * 4, "resumes from the last checkpoint")
            _ = try resumed.run()
            let got = resumed.network.parameters.storage.array
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "crash after \(crashAfter) steps")
            XCTAssertEqual(resumed.network.buffers.storage.array.map(\.bitPattern),
                           straight.network.buffers.storage.array.map(\.bitPattern))
        }
    }

    /// A class-weight list needs one weight per class of the data, and is what the loss uses.
    func testClassWeightListMustMatchTheClasses() throws {
        var config = TrainingFixtures.config(data: data)
        config.classWeights = .list([1, 2])
        XCTAssertThrowsError(try Trainer(config: config, options: .init(runDirectory: runDir()))) {
            XCTAssertTrue("\($0)".contains("config key 'class_weights': has 2 weights; the dataset has"), "\($0)")
        }
        let classes = try Trainer(config: TrainingFixtures.config(data: data), options: .init(runDirectory: runDir())).network.classes
        config.classWeights = .list((0..<classes).map { Double($0 + 1) })
        config.epochs = 1
        let weighted = try Trainer(config: config, options: .init(runDirectory: runDir()))
        XCTAssertGreaterThan(try weighted.run().testTop1, 0)
    }

    func testFineTuningKeepsFrozenTensorsBitForBit() throws {
        let base = runDir()
        _ = try Trainer(config: TrainingFixtures.config(data: data), options: .init(runDirectory: base)).run()
        let checkpoint = try XCTUnwrap(CheckpointStore(runDirectory: base).latestValid())
        var config = TrainingFixtures.config(data: data)
        config.initFrom = checkpoint.path
        config.freeze = ["0"]  // the conv layer of the layer list is named "0"
        config.epochs = 1
        let tuned = try Trainer(config: config, options: .init(runDirectory: runDir()))
        _ = try tuned.run()
        for slot in tuned.network.parameters.layout.slots {
            let now = Array(tuned.network.parameters.view(slot))
            let before = try XCTUnwrap(checkpoint.file.tensor(named: slot.name)).values
            if slot.name.hasPrefix("0.") {
                XCTAssertEqual(now.map(\.bitPattern), before.map(\.bitPattern), "\(slot.name) is frozen")
            } else {
                XCTAssertNotEqual(now, before, "\(slot.name) trains")
            }
        }
    }

    func testEnsembleIsMeanOfSoftmaxOutputs() throws {
        var a = TrainingFixtures.config(data: data)
        a.epochs = 1
        var b = a
        b.seed = 99
        let ta = try Trainer(config: a, options: .init(runDirectory: runDir()))
        _ = try ta.run()
        let tb = try Trainer(config: b, options: .init(runDirectory: runDir()))
        _ = try tb.run()
        let images = ta.dataset.test
        let mean = ta.state.normalizationMean, std = ta.state.normalizationStd
        let ensemble = Evaluator.evaluate(networks: [ta.network, tb.network], images: images, indices: Array(0..<images.count),
                                          mean: mean, std: std, batchSize: 16)
        // By hand: per-sample softmax of each network, averaged.
        var lossSum = 0.0, correct = 0
        for i in 0..<images.count {
            var p = [Double](repeating: 0, count: 4)
            for net in [ta.network, tb.network] {
                let logits = try XCTUnwrap(Self.logits(net, images: images, index: i, mean: mean, std: std))
                let m = logits.max()!
                let e = logits.map { exp(Double($0 - m)) }
                let s = e.reduce(0, +)
                for c in 0..<4 { p[c] += e[c] / s / 2 }
            }
            let label = Int(images.labels[i])
            lossSum += -log(p[label])
            if p.firstIndex(of: p.max()!)! == label { correct += 1 }
        }
        XCTAssertEqual(ensemble.top1Correct, correct)
        XCTAssertEqual(ensemble.lossSum, lossSum, accuracy: 1e-5 * Double(images.count))
        XCTAssertEqual(ensemble.count, images.count)
    }

    static func logits(_ net: Network, images: LabeledImages, index: Int, mean: [Float], std: [Float]) -> [Float]? {
        let assembler = BatchAssembler(data: images, mean: mean, std: std, seed: 0)
        let batch = assembler.makeBatch(capacity: 1)
        assembler.fill(batch, indices: [index], epoch: 0)
        return Array(net.forward(batch.images.pointer, batch: 1, training: false, step: 0))
    }
}
