import Foundation
import Optim
import Training
import XCTest

/// What a `train` line says about its window: the learning rate of every step (as the corners
/// that redraw it) and a training-only images/s.
final class TrainRecordTests: TrainingTestCase {
    func trainLines(_ dir: String) throws -> [[String: Any]] {
        try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            .filter { $0["event"] as? String == "train" }
    }

    /// The polyline through every line's `lr_points` at each step, within 0.2% of the peak
    /// rate of the rate the step ran at; returns the points.
    func assertRedrawsEveryStep(_ trainer: Trainer, dir: String, file: StaticString = #filePath, line: UInt = #line) throws -> [(Int, Double)] {
        let points = try trainLines(dir).flatMap { ($0["lr_points"] as? [[Double]]) ?? [] }.map { (Int($0[0]), $0[1]) }
        XCTAssertEqual(points.map(\.0), points.map(\.0).sorted(), "in step order", file: file, line: line)
        let total = trainer.state.globalStep
        XCTAssertEqual(points.first?.0, 1, file: file, line: line)
        XCTAssertEqual(points.last?.0, total, file: file, line: line)
        let rates = (1...total).map { Double(trainer.scheduler.lr(atStep: $0 - 1)) }
        let tolerance = 0.002 * rates.map(abs).max()! + 1e-12
        var segment = 0
        for s in 1...total {
            while segment + 1 < points.count - 1 && points[segment + 1].0 < s { segment += 1 }
            let (x0, y0) = points[segment], (x1, y1) = points[min(segment + 1, points.count - 1)]
            let drawn = x1 == x0 ? y0 : y0 + Double(s - x0) / Double(x1 - x0) * (y1 - y0)
            XCTAssertEqual(drawn, rates[s - 1], accuracy: tolerance, "step \(s)", file: file, line: line)
        }
        return points
    }

    func testACyclicScheduleIsRecordedWithEveryCorner() throws {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 3
        var schedule = ScheduleConfig(type: .cyclic)
        schedule.baseLR = 0.001
        schedule.maxLR = 0.05
        schedule.stepSizeUp = 3
        config.schedule = schedule
        let dir = runDir()
        let trainer = try Trainer(config: config, options: Trainer.Options(runDirectory: dir))
        _ = try trainer.run()
        let points = try assertRedrawsEveryStep(trainer, dir: dir)
        // 36 steps, a triangle every 6: peaks at steps 4, 10, ..., 34, each recorded exactly.
        let peaks = points.filter { abs($0.1 - 0.05) < 1e-9 }.map(\.0)
        XCTAssertEqual(peaks, [4, 10, 16, 22, 28, 34])
        XCTAssertLessThan(points.count, 36, "corners, not every step")
    }

    func testAStepScheduleKeepsBothSidesOfEachJump() throws {
        var config = TrainingFixtures.config(data: data)
        var schedule = ScheduleConfig(type: .step)
        schedule.stepSize = 5
        schedule.gamma = 0.5
        config.schedule = schedule
        let dir = runDir()
        let trainer = try Trainer(config: config, options: Trainer.Options(runDirectory: dir))
        _ = try trainer.run()
        let points = try assertRedrawsEveryStep(trainer, dir: dir)
        let steps = Set(points.map(\.0))
        for jump in [5, 10, 15, 20] { XCTAssertTrue(steps.contains(jump) && steps.contains(jump + 1), "jump after step \(jump): \(points)") }
    }

    /// Checkpoints that take 0.3 s each (a slow disk): the windows with one are not slower in
    /// images/s, and each says how long it paused.
    func testImagesPerSecondLeavesValidationAndCheckpointsOut() throws {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 4
        let dir = runDir()
        var options = Trainer.Options(runDirectory: dir)
        options.checkpointSink = { _ in Thread.sleep(forTimeInterval: 0.3) }
        _ = try Trainer(config: config, options: options).run()
        let lines = try trainLines(dir)
        let rates = lines.compactMap { $0["images_per_sec"] as? Double }
        let paused = lines.compactMap { $0["window_pause_seconds"] as? Double }
        XCTAssertEqual(rates.count, 4)
        XCTAssertEqual(paused.count, 4)
        for p in paused { XCTAssertGreaterThanOrEqual(p, 0.6, "two or three 0.3 s checkpoints in each 12-step window: \(paused)") }
        // A 12-step window of 16-image batches takes well under 0.1 s here (about 3000
        // images/s): with the pauses counted it would show at most 192 / 0.6 = 320 images/s.
        for r in rates { XCTAssertGreaterThan(r, 700, "\(rates)") }
    }
}
