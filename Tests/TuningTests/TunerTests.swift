import Foundation
import Training
import Tuning
import XCTest

final class TunerTests: XCTestCase {
    var cleanup: [String] = []
    override func tearDown() { for p in cleanup { try? FileManager.default.removeItem(atPath: p) } }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "ringtrain-tune-\(UUID().uuidString)"
        cleanup.append(d)
        return d
    }

    let spaceJSON = """
        {"lr": {"log_uniform": [0.01, 0.2]}, "batch_size": {"choice": [64, 128]},
         "momentum": {"uniform": [0.8, 0.95]}, "augmentation.shift": {"choice": [0, 0.05, 0.1]}, "epochs": {"int_uniform": [1, 3]},
         "schedule": {"choice": [{"type": "cosine", "warmup_steps": 50}, {"type": "constant"}]},
         "dropout": {"uniform": [0.1, 0.4]}}
        """

    func space() throws -> SearchSpace { try SearchSpace.parse(Data(spaceJSON.utf8), source: "space.json") }

    func testSamplesAreInRangeTypedAndReproducible() throws {
        let s = try space()
        for i in 0..<50 {
            let v = s.sample(seed: 7, index: i)
            XCTAssertEqual(v, s.sample(seed: 7, index: i))
            guard case .number(let lr) = v["lr"]!, case .number(let m) = v["momentum"]!,
                  case .number(let shift) = v["augmentation.shift"]! else { return XCTFail("\(v)") }
            XCTAssertTrue(lr >= 0.01 && lr <= 0.2 && m >= 0.8 && m <= 0.95, "\(v)")
            XCTAssertTrue([0, 0.05, 0.1].contains(shift))
            let config = try SearchSpace.apply(v, to: TrainingConfig(), source: "t")
            XCTAssertEqual(config.lr, lr)
            XCTAssertEqual(config.augmentation.shift, Float(shift))
            guard case .number(let epochs) = v["epochs"]! else { return XCTFail("\(v)") }
            XCTAssertEqual(config.epochs, Int(epochs))
            XCTAssertTrue([64, 128].contains(config.batchSize))
            XCTAssertNotNil(config.dropout)
        }
        XCTAssertNotEqual(s.sample(seed: 7, index: 0), s.sample(seed: 8, index: 0))
        let epochs = Set((0..<50).map { s.sample(seed: 7, index: $0)["epochs"]! })
        XCTAssertEqual(epochs, [.number(1), .number(2), .number(3)], "every integer value is drawn")
    }

    func testGridEnumeratesEveryCombination() throws {
        let s = try SearchSpace.parse(Data(#"{"lr": {"log_uniform": [0.01, 1]}, "batch_size": {"choice": [32, 64]}}"#.utf8), source: "g")
        let grid = s.grid(points: 3)
        XCTAssertEqual(grid.count, 6)
        let lrs = Set(grid.compactMap { if case .number(let d) = $0["lr"]! { return (d * 1000).rounded() / 1000 } else { return nil } })
        XCTAssertEqual(lrs, [0.01, 0.1, 1])
    }

    func testBadSpacesNameTheKey() {
        for (json, needle) in [(#"{"lr": {"uniform": [1]}}"#, "lr"), (#"{"learning_rate": {"choice": [1]}}"#, "learning_rate"),
                               (#"{"lr": {"gauss": [0, 1]}}"#, "gauss"), (#"{"lr": {"log_uniform": [0, 1]}}"#, "positive"),
                               ("[]", "not a JSON object"), ("{}", "empty")] {
            XCTAssertThrowsError(try SearchSpace.parse(Data(json.utf8), source: "s.json")) { e in
                XCTAssertTrue("\(e)".contains(needle) && "\(e)".contains("s.json"), "\(e)")
            }
        }
        // A value the config refuses is caught when the config is built, naming the key.
        XCTAssertThrowsError(try SearchSpace.apply(["momentum": .number(1.5)], to: TrainingConfig(), source: "trial")) { e in
            XCTAssertTrue("\(e)".contains("momentum"), "\(e)")
        }
    }

    func testHalvingRungs() {
        let r = Tuner.rungs(method: .halving, trials: 8, epochs: 10, eta: 3)
        XCTAssertEqual(r.epochs, [2, 4, 10])
        XCTAssertEqual(r.sizes, [8, 2, 1])
        let r2 = Tuner.rungs(method: .halving, trials: 8, epochs: 10, eta: 2)
        XCTAssertEqual(r2.epochs, [2, 3, 5, 10])
        XCTAssertEqual(r2.sizes, [8, 4, 2, 1])
        XCTAssertEqual(Tuner.rungs(method: .random, trials: 8, epochs: 10, eta: 3).epochs, [10])
    }

    /// Ranking by the loss puts the lowest first (halving keeps the lowest too), a failed trial
    /// last, and the table says what it ranks by; continuing the search with another metric
    /// is refused.
    func testRankingByValidationLossKeepsTheLowest() throws {
        var base = TrainingConfig()
        base.epochs = 4
        let dir = tempDir()
        let tuner = try Tuner(directory: dir, base: base, space: try space(), method: .halving, trials: 4, seed: 3, eta: 2,
                              metric: .valLoss)
        tuner.log = { _ in }
        // The loss is the trial id (+ a little per epoch); trial 0 fails.
        let state = try tuner.run { stage in
            if stage.trial.id == 0 { throw TrialFailed("diverged") }
            return Double(stage.trial.id) + Double(stage.config.stopAtEpoch) * 0.01
        }
        XCTAssertEqual(state.metric, .valLoss)
        XCTAssertEqual(Tuner.contenders(state, rung: 1), [1, 2], "the two lowest losses go on")
        XCTAssertEqual(Tuner.ranking(state).map(\.id), [1, 2, 3, 0])
        let table = TrialTable.markdown(state)
        XCTAssertTrue(table.contains("val loss @ rung 1 (1 ep)"), table)
        XCTAssertTrue(table.contains("| 1 | trial-001 | 4 | 1.0100 | 1.0200 | 1.0000 |"), table)
        XCTAssertEqual(try TuneState.load(path: dir + "/tune.json")?.metric, .valLoss)

        let byTop1 = try Tuner(directory: dir, base: base, space: try space(), method: .halving, trials: 4, seed: 3, eta: 2)
        XCTAssertThrowsError(try byTop1.prepareState()) { XCTAssertTrue("\($0)".contains("metric"), "\($0)") }
    }

    /// A fake trainer whose accuracy is a known function of lr: halving must keep the best
    /// trials, continue them (resume) instead of restarting, and an interrupted search must
    /// continue where it stopped with the same decisions.
    func testHalvingKeepsTheBestAndAnInterruptedSearchContinues() throws {
        var base = TrainingConfig()
        base.epochs = 9
        let dir = tempDir()
        func score(_ stage: Tuner.Stage) -> Double {
            // Best near lr = 0.05; more epochs always help a little.
            let e = Double(stage.config.stopAtEpoch == 0 ? stage.config.epochs : stage.config.stopAtEpoch)
            return 0.9 - abs(log(stage.config.lr / 0.05)) * 0.05 + e * 0.001
        }
        struct Interrupt: Error {}
        var calls: [(String, Int, Bool)] = []
        let tuner = try Tuner(directory: dir, base: base, space: try space(), method: .halving, trials: 9, seed: 3, eta: 3)
        tuner.log = { _ in }
        XCTAssertThrowsError(try tuner.run { stage in
            if calls.count == 10 { throw Interrupt() }
            calls.append((stage.trial.name, stage.config.stopAtEpoch, stage.resume))
            try FileManager.default.createDirectory(atPath: stage.runDirectory + "/checkpoints", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: stage.runDirectory + "/checkpoints/step-00000001.safetensors", contents: Data())
            return score(stage)
        }) { XCTAssertTrue($0 is Interrupt) }
        XCTAssertEqual(calls.count, 10)
        XCTAssertEqual(calls.prefix(9).map(\.1), Array(repeating: 1, count: 9), "rung 1: every trial to epoch 1")
        XCTAssertTrue(calls[9].2, "rung 2 continues a trial from its checkpoint")

        // Same settings again: continues (no rung-1 trial is run twice).
        let again = try Tuner(directory: dir, base: base, space: try space(), method: .halving, trials: 9, seed: 3, eta: 3)
        again.log = { _ in }
        var more: [String] = []
        let state = try again.run { stage in more.append(stage.trial.name); return score(stage) }
        XCTAssertEqual(more.count, 3 + 1 - 1, "the rest of rung 2 (3 trials, one done) and rung 3 (1 trial)")
        let ranking = Tuner.ranking(state)
        let best = ranking[0]
        XCTAssertEqual(best.results.count, 3)
        XCTAssertEqual(best.epochs, 9)
        // The winner has the lr closest to 0.05 among the trials.
        let lrs = state.trials.map { t -> Double in if case .number(let d) = t.values["lr"]! { return d } else { return 0 } }
        let closest = lrs.indices.min { abs(log(lrs[$0] / 0.05)) < abs(log(lrs[$1] / 0.05)) }!
        XCTAssertEqual(best.id, closest)
        let table = TrialTable.markdown(state)
        XCTAssertEqual(table.split(separator: "\n").count, 2 + 9)
        XCTAssertTrue(table.contains("| 1 | \(best.name) | 9 |"), table)
        let (_, bestConfig) = try XCTUnwrap(try again.bestConfig(state))
        XCTAssertEqual(bestConfig.stopAtEpoch, 0)
        XCTAssertEqual(bestConfig.lr, lrs[best.id])

        // Other settings on the same directory are refused.
        let other = try Tuner(directory: dir, base: base, space: try space(), method: .halving, trials: 9, seed: 4, eta: 3)
        XCTAssertThrowsError(try other.prepareState()) { XCTAssertTrue("\($0)".contains("tune.json"), "\($0)") }
    }

    func testAFailedTrialRanksLastAndTheSearchGoesOn() throws {
        var base = TrainingConfig()
        base.epochs = 2
        let tuner = try Tuner(directory: tempDir(), base: base, space: try space(), method: .random, trials: 3, seed: 1)
        tuner.log = { _ in }
        let state = try tuner.run { stage in
            if stage.trial.id == 0 { throw TrialFailed("diverged") }
            return 0.5 + Double(stage.trial.id) / 10
        }
        let ranking = Tuner.ranking(state)
        XCTAssertEqual(ranking.map(\.id), [2, 1, 0])
        XCTAssertNotNil(ranking.last?.failure)
        XCTAssertTrue(TrialTable.markdown(state).contains("failed"))
    }

    func testTuningNeedsAValidationSplit() {
        var base = TrainingConfig()
        base.validationFraction = 0
        XCTAssertThrowsError(try Tuner(directory: tempDir(), base: base, space: try space(), method: .random, trials: 2, seed: 1)) {
            XCTAssertTrue("\($0)".contains("validation_fraction"), "\($0)")
        }
    }
}

/// The example search spaces parse, and every trial they draw is a valid config on top of the
/// example config they are meant for.
final class ExampleSpaceTests: XCTestCase {
    func testExampleSpacesDrawValidConfigs() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let spaces = try FileManager.default.contentsOfDirectory(atPath: examples.path + "/spaces").filter { $0.hasSuffix(".json") }
        XCTAssertFalse(spaces.isEmpty)
        for name in spaces {
            let space = try SearchSpace.parse(Data(contentsOf: examples.appendingPathComponent("spaces/" + name)), source: name)
            // spaces/NAME.json goes with NAME.json.
            let base = try TrainingConfig.parse(json: Data(contentsOf: examples.appendingPathComponent(name)), source: name)
            for i in 0..<32 {
                XCTAssertNoThrow(try SearchSpace.apply(space.sample(seed: 1, index: i), to: base, source: "\(name) trial \(i)"))
            }
        }
    }
}
