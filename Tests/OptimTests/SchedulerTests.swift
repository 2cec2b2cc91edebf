import Foundation
import Optim
import XCTest

private func config(_ json: String) throws -> ScheduleConfig {
    try JSONDecoder().decode(ScheduleConfig.self, from: Data(json.utf8))
}

private func scheduler(_ json: String, lr: Double = 1, stepsPerEpoch: Int = 100, runSteps: Int = 1000) throws -> HyperparameterScheduler {
    try HyperparameterScheduler(config: config(json), baseLR: lr, baseMomentum: 0.9,
                                stepsPerEpoch: stepsPerEpoch, runSteps: runSteps)
}

private func assertLRs(_ s: HyperparameterScheduler, _ expected: [Int: Double], accuracy: Double = 1e-6,
                       file: StaticString = #filePath, line: UInt = #line) {
    for (step, lr) in expected.sorted(by: { $0.key < $1.key }) {
        XCTAssertEqual(Double(s.lr(atStep: step)), lr, accuracy: accuracy, "lr at step \(step)", file: file, line: line)
    }
}

final class SchedulerTests: XCTestCase {
    func testConstantStepMultistepExponential() throws {
        assertLRs(try scheduler(#"{"type": "constant"}"#, lr: 0.1), [0: 0.1, 999: 0.1, 5000: 0.1])
        assertLRs(try scheduler(#"{"type": "step", "step_size": 3, "gamma": 0.5}"#, lr: 0.1),
                  [0: 0.1, 2: 0.1, 3: 0.05, 5: 0.05, 6: 0.025])
        assertLRs(try scheduler(#"{"type": "multistep", "milestones": [2, 5]}"#, lr: 0.1),
                  [0: 0.1, 1: 0.1, 2: 0.01, 4: 0.01, 5: 0.001, 100: 0.001])
        assertLRs(try scheduler(#"{"type": "exponential", "gamma": 0.9}"#), [0: 1, 1: 0.9, 2: 0.81, 10: 0.3486784401])
    }

    func testEpochInterval() throws {
        // 100 steps per epoch; StepLR(step_size=2 epochs): the lr drops at global step 200.
        let s = try scheduler(#"{"type": "step", "step_size": 2, "gamma": 0.1, "interval": "epoch"}"#)
        assertLRs(s, [0: 1, 199: 1, 200: 0.1, 399: 0.1, 400: 0.01])
        XCTAssertEqual(s.position(atStep: 250), 2)
    }

    func testCosineWithWarmup() throws {
        // The warm-up's first step runs at base / W, never at 0; base at step W - 1.
        let s = try scheduler(#"{"type": "cosine", "warmup_steps": 10, "total_steps": 110, "min_lr": 0}"#)
        assertLRs(s, [0: 0.1, 4: 0.5, 9: 1, 10: 1, 35: (1 + cos(Double.pi / 4)) / 2, 60: 0.5, 110: 0, 500: 0])
        // Default total is the run; min_lr and a warmup start factor.
        let t = try scheduler(#"{"type": "cosine", "warmup_steps": 4, "warmup_start_factor": 0.5, "min_lr": 0.1}"#, runSteps: 104)
        assertLRs(t, [0: 0.625, 1: 0.75, 3: 1, 4: 1, 54: 0.55, 104: 0.1])
        XCTAssertNil(t.momentum(atStep: 3))
    }

    /// The default schedule's warm-up follows the run's length: 5% of a 71-step fine-tune is
    /// 4 steps, so the run decays to 0 by its end, where a fixed 100-step warm-up ended at 0.7 base.
    func testDefaultWarmupIsAFractionOfTheRunAndWarnsWhenLong() throws {
        let short = try HyperparameterScheduler(config: .defaultSchedule, baseLR: 0.05, stepsPerEpoch: 71, runSteps: 71)
        XCTAssertEqual(short.warmupSteps, 4)
        XCTAssertGreaterThan(short.lr(atStep: 0), 0)
        XCTAssertEqual(Double(short.lr(atStep: 3)), 0.05, accuracy: 1e-7)
        XCTAssertLessThan(Double(short.lr(atStep: 70)), 0.05 * 0.001)
        XCTAssertNil(short.warmupWarning)
        let long = try HyperparameterScheduler(config: .defaultSchedule, baseLR: 0.05, stepsPerEpoch: 2110, runSteps: 21100)
        XCTAssertEqual(long.warmupSteps, 1055)
        // A fixed warm-up longer than a quarter of the run is named.
        let fixed = try scheduler(#"{"type": "cosine", "warmup_steps": 100}"#, runSteps: 71)
        XCTAssertEqual(fixed.warmupSteps, 100)
        XCTAssertTrue(fixed.warmupWarning?.contains("100 of the run's 71 steps") ?? false, fixed.warmupWarning ?? "no warning")
        XCTAssertNil(try scheduler(#"{"type": "cosine", "warmup_steps": 100}"#, runSteps: 400).warmupWarning)
        XCTAssertNotNil(try scheduler(#"{"type": "cosine", "warmup_steps": 101}"#, runSteps: 400).warmupWarning)
        // The key, its range, and never both.
        XCTAssertEqual(try scheduler(#"{"type": "cosine", "warmup_fraction": 0.1}"#, runSteps: 1000).warmupSteps, 100)
        XCTAssertThrowsError(try config(#"{"type": "cosine", "warmup_fraction": 0.7}"#).validate())
        XCTAssertThrowsError(try config(#"{"type": "cosine", "warmup_fraction": 0.1, "warmup_steps": 3}"#).validate())
        XCTAssertThrowsError(try config(#"{"type": "step", "step_size": 3, "warmup_fraction": 0.1}"#))
    }

    func testOneCycleMatchesPyTorch() throws {
        // OneCycleLR(max_lr=1, total_steps=100): initial 0.04, peak at step 29 (0.3*100 - 1),
        // minimum 0.04/1e4 at step 99; momentum 0.95 -> 0.85 -> 0.95.
        let s = try scheduler(#"{"type": "onecycle", "max_lr": 1, "total_steps": 100}"#, lr: 0.5)
        let minLR = 0.04 / 1e4
        assertLRs(s, [0: 0.04, 29: 1, 64: minLR + (1 - minLR) / 2, 99: minLR, 150: minLR])
        XCTAssertEqual(Double(s.lr(atStep: 14)), 1 + (0.04 - 1) / 2 * (cos(Double.pi * 14 / 29) + 1), accuracy: 1e-6)
        XCTAssertEqual(Double(s.momentum(atStep: 0)!), 0.95, accuracy: 1e-7)
        XCTAssertEqual(Double(s.momentum(atStep: 29)!), 0.85, accuracy: 1e-7)
        XCTAssertEqual(Double(s.momentum(atStep: 64)!), 0.90, accuracy: 1e-7)
        XCTAssertEqual(Double(s.momentum(atStep: 99)!), 0.95, accuracy: 1e-7)

        let three = try scheduler(#"{"type": "onecycle", "total_steps": 100, "three_phase": true, "cycle_momentum": false}"#)
        assertLRs(three, [0: 0.04, 29: 1, 58: 0.04, 99: 0.04 / 1e4])
        XCTAssertNil(three.momentum(atStep: 10))
    }

    func testCyclicTriangular() throws {
        let s = try scheduler(#"{"type": "cyclic", "base_lr": 0.1, "max_lr": 1.0, "step_size_up": 4}"#)
        assertLRs(s, [0: 0.1, 2: 0.55, 4: 1.0, 6: 0.55, 8: 0.1, 12: 1.0])
        XCTAssertEqual(Double(s.momentum(atStep: 0)!), 0.9, accuracy: 1e-7)
        XCTAssertEqual(Double(s.momentum(atStep: 4)!), 0.8, accuracy: 1e-7)
        let halving = try scheduler(#"{"type": "cyclic", "base_lr": 0.1, "max_lr": 1.0, "step_size_up": 4, "mode": "triangular2"}"#)
        assertLRs(halving, [4: 1.0, 12: 0.55, 20: 0.325])
        let asym = try scheduler(#"{"type": "cyclic", "max_lr": 2.0, "step_size_up": 1, "step_size_down": 3, "cycle_momentum": false}"#)
        assertLRs(asym, [0: 1, 1: 2, 2: 2 - 1.0 / 3, 4: 1])
    }

    func testReduceOnPlateauPyTorchSemantics() throws {
        var s = try scheduler(#"{"type": "plateau", "reduce_on_plateau": {"factor": 0.5, "patience": 1, "cooldown": 1, "min_lr": 0.2}}"#)
        // patience 1: the second bad epoch in a row (bad count 2 > 1) reduces.
        XCTAssertFalse(s.observe(validationMetric: 1.0, atStep: 100, epoch: 1).reducedLR)
        XCTAssertFalse(s.observe(validationMetric: 1.0, atStep: 200, epoch: 2).reducedLR)
        let d = s.observe(validationMetric: 1.0, atStep: 300, epoch: 3)
        XCTAssertTrue(d.reducedLR)
        XCTAssertEqual(d.lr, 0.5)
        XCTAssertEqual(s.lr(atStep: 300), 0.5)
        // Cooldown 1: the next bad epoch is forgiven; then two more are needed.
        XCTAssertFalse(s.observe(validationMetric: 1.0, atStep: 400, epoch: 4).reducedLR)
        XCTAssertFalse(s.observe(validationMetric: 1.0, atStep: 500, epoch: 5).reducedLR)
        XCTAssertTrue(s.observe(validationMetric: 1.0, atStep: 600, epoch: 6).reducedLR)
        XCTAssertEqual(s.lr(atStep: 600), 0.25)
        // min_lr floors it; a reduction that cannot move the lr by more than eps does not count.
        for e in 7...8 { _ = s.observe(validationMetric: 1.0, atStep: e * 100, epoch: e) }
        XCTAssertEqual(s.observe(validationMetric: 1.0, atStep: 900, epoch: 9).lr, 0.2)
        XCTAssertEqual(s.state.plateauReductions, 3)
        for e in 10...14 { XCTAssertFalse(s.observe(validationMetric: 1.0, atStep: e * 100, epoch: e).reducedLR) }
        XCTAssertEqual(s.lr(atStep: 2000), 0.2)
    }

    func testPlateauTypeDefaultsToPyTorchSettings() throws {
        // patience 10, factor 0.1: the 11th bad epoch after the best reduces.
        var s = try scheduler(#"{"type": "plateau"}"#)
        _ = s.observe(validationMetric: 1, atStep: 0, epoch: 0)
        for e in 1...10 { XCTAssertFalse(s.observe(validationMetric: 1, atStep: e, epoch: e).reducedLR) }
        XCTAssertTrue(s.observe(validationMetric: 1, atStep: 11, epoch: 11).reducedLR)
        XCTAssertEqual(Double(s.lr(atStep: 11)), 0.1, accuracy: 1e-7)
    }

    func testPlateauThresholdModes() throws {
        // rel, min: better only below best * (1 - 1e-4).
        var s = try scheduler(#"{"type": "plateau", "reduce_on_plateau": {"patience": 0}}"#)
        _ = s.observe(validationMetric: 1.0, atStep: 0, epoch: 0)
        XCTAssertTrue(s.observe(validationMetric: 0.99995, atStep: 1, epoch: 1).reducedLR)
        XCTAssertEqual(Double(s.lr(atStep: 1)), 0.1, accuracy: 1e-7)
        // abs, max.
        var m = try scheduler(#"{"type": "constant", "monitor": "val_top1", "reduce_on_plateau": {"threshold_mode": "abs", "threshold": 0.01, "patience": 0}}"#)
        _ = m.observe(validationMetric: 0.5, atStep: 0, epoch: 0)
        XCTAssertFalse(m.observe(validationMetric: 0.52, atStep: 1, epoch: 1).reducedLR)
        XCTAssertTrue(m.observe(validationMetric: 0.525, atStep: 2, epoch: 2).reducedLR)
    }

    func testPlateauOnTopOfASchedule() throws {
        var s = try scheduler(#"{"type": "step", "step_size": 100, "gamma": 0.5, "reduce_on_plateau": {"patience": 0, "factor": 0.1}}"#)
        _ = s.observe(validationMetric: 1, atStep: 50, epoch: 0)
        _ = s.observe(validationMetric: 2, atStep: 50, epoch: 0)
        assertLRs(s, [50: 0.1, 150: 0.05])
    }

    func testEarlyStoppingAndBest() throws {
        var s = try scheduler(#"{"type": "constant", "early_stopping": {"patience": 2, "min_delta": 0.01}}"#)
        XCTAssertTrue(s.observe(validationMetric: 1.0, atStep: 100, epoch: 1).isBest)
        let improved = s.observe(validationMetric: 0.9, atStep: 200, epoch: 2)
        XCTAssertTrue(improved.isBest); XCTAssertFalse(improved.shouldStop)
        XCTAssertFalse(s.observe(validationMetric: 0.895, atStep: 300, epoch: 3).shouldStop)   // < min_delta
        XCTAssertTrue(s.observe(validationMetric: .nan, atStep: 400, epoch: 4).shouldStop)
        XCTAssertTrue(s.shouldStop)
        XCTAssertEqual(s.state.bestStep, 300)

        var top1 = try scheduler(#"{"type": "constant", "monitor": "val_top1", "early_stopping": {"patience": 1}}"#)
        _ = top1.observe(validationMetric: 0.8, atStep: 1, epoch: 1)
        XCTAssertTrue(top1.observe(validationMetric: 0.85, atStep: 2, epoch: 2).isBest)
        XCTAssertTrue(top1.observe(validationMetric: 0.84, atStep: 3, epoch: 3).shouldStop)
    }

    func testCodableStateRoundTrip() throws {
        var s = try scheduler(#"{"type": "cosine", "warmup_steps": 5, "early_stopping": {"patience": 3}, "reduce_on_plateau": {"patience": 0}}"#)
        _ = s.observe(validationMetric: 1, atStep: 10, epoch: 1)
        _ = s.observe(validationMetric: 2, atStep: 20, epoch: 2)
        let data = try JSONEncoder().encode(s)
        let back = try JSONDecoder().decode(HyperparameterScheduler.self, from: data)
        XCTAssertEqual(back, s)
        for step in [0, 3, 20, 500, 999] { XCTAssertEqual(back.lr(atStep: step), s.lr(atStep: step)) }
        // The config encodes to the same keys it decodes from.
        XCTAssertEqual(try JSONDecoder().decode(ScheduleConfig.self, from: JSONEncoder().encode(s.config)), s.config)
    }

    func testConfigErrorsNameTheKey() {
        func key(_ json: String) -> String? {
            do { _ = try config(json); return nil } catch { return (error as? ConfigError)?.key }
        }
        XCTAssertEqual(key(#"{"type": "cosine", "warmup": 5}"#), "schedule.warmup")
        XCTAssertEqual(key(#"{"type": "cosine", "step_size": 5}"#), "schedule.step_size")
        XCTAssertEqual(key(#"{"type": "cosinus"}"#), "schedule.type")
        XCTAssertEqual(key(#"{"warmup_steps": 3}"#), "schedule.type")
        XCTAssertEqual(key(#"{"type": "step"}"#), "schedule.step_size")
        XCTAssertEqual(key(#"{"type": "step", "step_size": 0}"#), "schedule.step_size")
        XCTAssertEqual(key(#"{"type": "step", "step_size": "ten"}"#), "schedule.step_size")
        XCTAssertEqual(key(#"{"type": "multistep", "milestones": [5, 3]}"#), "schedule.milestones")
        XCTAssertEqual(key(#"{"type": "exponential", "gamma": 1.5}"#), "schedule.gamma")
        XCTAssertEqual(key(#"{"type": "onecycle", "pct_start": 1}"#), "schedule.pct_start")
        XCTAssertEqual(key(#"{"type": "cyclic"}"#), "schedule.max_lr")
        XCTAssertNil(key(#"{"type": "plateau"}"#))
        XCTAssertEqual(key(#"{"type": "constant", "reduce_on_plateau": {"factor": 2}}"#), "schedule.reduce_on_plateau.factor")
        XCTAssertEqual(key(#"{"type": "constant", "early_stopping": {"patients": 2}}"#), "schedule.early_stopping.patients")
        XCTAssertEqual(key(#"{"type": "constant", "monitor": "accuracy"}"#), "schedule.monitor")
        XCTAssertEqual(key(#"{"type": "cosine", "warmup_steps": 50, "total_steps": 10}"#), "schedule.warmup_steps")
        XCTAssertEqual(key(#"{"type": "constant", "monitor": "val_top1", "early_stopping": {"mode": "min"}}"#), "schedule.early_stopping.mode")
        XCTAssertEqual(key(#"{"type": "constant", "reduce_on_plateau": {"mode": "max"}}"#), "schedule.reduce_on_plateau.mode")
        XCTAssertNil(key(#"{"type": "constant", "monitor": "val_top5", "reduce_on_plateau": {"mode": "max"}}"#))
    }
}
