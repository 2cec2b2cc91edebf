import Foundation
import Training
import XCTest

/// `lr-find`: Lightning's sweep, smoothing, early stop and suggestion, hand-computed; then a
/// real sweep on the generated data.
final class LearningRateFinderTests: TrainingTestCase {
    func testSweepRatesSmoothingAndEarlyStopHandComputed() {
        var sweep = LearningRateSweep()
        sweep.minLR = 1e-4
        sweep.maxLR = 1
        sweep.steps = 5
        XCTAssertEqual(sweep.lr(atStep: 0), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(sweep.lr(atStep: 2), 1e-2, accuracy: 1e-12)
        XCTAssertEqual(sweep.lr(atStep: 4), 1, accuracy: 1e-12)
        sweep.mode = .linear
        XCTAssertEqual(sweep.lr(atStep: 2), 0.50005, accuracy: 1e-12)

        sweep.beta = 0.5
        sweep.earlyStopThreshold = 2
        var curve = LearningRateCurve(sweep: sweep)
        // avg = 0.5·0 + 0.5·4 = 2, smoothed 2 / (1 - 0.5) = 4; avg = 0.5·2 + 0.5·2 = 2, smoothed
        // 2 / 0.75 = 2.667; avg = 0.5·2 + 0.5·20 = 11, smoothed 11 / 0.875 = 12.57 > 2 x 2.667: stop.
        XCTAssertTrue(curve.append(lr: 1, loss: 4))
        XCTAssertTrue(curve.append(lr: 2, loss: 2))
        XCTAssertFalse(curve.append(lr: 3, loss: 20))
        XCTAssertEqual(curve.smoothedLosses[0], 4, accuracy: 1e-12)
        XCTAssertEqual(curve.smoothedLosses[1], 2.0 / 0.75, accuracy: 1e-12)
        XCTAssertEqual(curve.smoothedLosses[2], 11 / 0.875, accuracy: 1e-12)
        XCTAssertTrue(curve.stoppedEarly)
    }

    func testSuggestionIsTheSteepestDescentBetweenTheSkippedEnds() {
        var sweep = LearningRateSweep()
        sweep.skipBegin = 1
        sweep.skipEnd = 1
        sweep.beta = 0   // no smoothing: the curve is the losses
        var curve = LearningRateCurve(sweep: sweep)
        // Losses 9 (skipped) 5 4.8 3 2.9 2.8 9 (skipped); gradients over [5, 4.8, 3, 2.9, 2.8]:
        // -0.2, -1, -0.95, -0.1, -0.1: the steepest at index 1 + 1 = 2 (lr 0.3).
        for (i, loss) in [9, 5, 4.8, 3, 2.9, 2.8, 9].enumerated() { _ = curve.append(lr: Double(i + 1) / 10, loss: loss) }
        curve.suggest()
        XCTAssertEqual(curve.suggestedIndex, 2)
        XCTAssertEqual(curve.suggestedLR!, 0.3, accuracy: 1e-12)
    }

    func testSweepOnGeneratedDataWritesTheCurveAndIsDeterministic() throws {
        var config = TrainingFixtures.config(data: data)
        config.accumulateSteps = 2
        var sweep = LearningRateSweep()
        sweep.minLR = 1e-4
        sweep.maxLR = 10
        sweep.steps = 30
        let dir = runDir()
        let curve = try Trainer(config: config, options: .init(runDirectory: dir)).findLearningRate(sweep)
        XCTAssertGreaterThan(curve.lrs.count, 12)
        XCTAssertLessThanOrEqual(curve.lrs.count, 30)
        let suggested = try XCTUnwrap(curve.suggestedLR)
        XCTAssertTrue((1e-4...10).contains(suggested))
        let written = try JSONDecoder().decode(LearningRateCurve.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/lr_find.json")))
        XCTAssertEqual(written.losses, curve.losses)
        XCTAssertEqual(written.suggestedLR, curve.suggestedLR)
        let again = try Trainer(config: config, options: .init(runDirectory: runDir())).findLearningRate(sweep)
        XCTAssertEqual(again.losses, curve.losses, "a pure function of the seed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/checkpoints/latest"), "lr-find checkpoints nothing")
    }
}
