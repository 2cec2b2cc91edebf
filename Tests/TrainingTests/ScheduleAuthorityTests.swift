import Foundation
import Optim
import Training
import XCTest

/// In distributed runs the coordinator takes the plateau and early-stopping decisions
/// (`Trainer.Options.scheduleAuthority`): the trainer reports every validation result and
/// adopts the verdict, whatever its own scheduler would have decided.
final class ScheduleAuthorityTests: TrainingTestCase {
    /// A plateau schedule that would never reduce on its own (patience 1000) and early
    /// stopping that would never fire: every change seen comes from the authority.
    func patientConfig(epochs: Int) -> TrainingConfig {
        var config = TrainingFixtures.config(data: data)
        config.epochs = epochs
        var schedule = ScheduleConfig(type: .plateau)
        schedule.reduceOnPlateau = PlateauConfig(factor: 0.5, patience: 1000)
        schedule.earlyStopping = EarlyStoppingConfig(patience: 1000)
        config.schedule = schedule
        return config
    }

    func testTheTrainerAdoptsTheAuthoritysPlateauCut() throws {
        let dir = runDir()
        var observations: [ScheduleObservation] = []
        var options = Trainer.Options(runDirectory: dir)
        options.scheduleAuthority = { observation in
            observations.append(observation)
            var state = observation.scheduler.state
            state.plateauScale = 0.25
            state.plateauReductions = 1
            state.observations += 1
            return ScheduleVerdict(decision: ScheduleDecision(reducedLR: true, lr: 0.0125, shouldStop: false, isBest: true),
                                   state: state)
        }
        let trainer = try Trainer(config: patientConfig(epochs: 2), options: options)
        let summary = try trainer.run()
        XCTAssertFalse(summary.stoppedEarly)
        XCTAssertEqual(observations.count, 2, "one validation per epoch")
        XCTAssertEqual(observations.map(\.epoch), [0, 1])
        XCTAssertEqual(observations.map(\.step), trainer.state.history.map(\.step))
        XCTAssertEqual(observations.map(\.metric), trainer.state.history.map(\.loss), "the monitored metric is val_loss")
        XCTAssertEqual(trainer.scheduler.state.plateauScale, 0.25, "the trainer keeps the verdict's state")
        XCTAssertEqual(trainer.scheduler.lr(atStep: trainer.state.globalStep), Float(0.05 * 0.25))

        // The second epoch trained at the cut rate: its train records say so.
        let records = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let train = records.filter { $0["event"] as? String == "train" }
        let firstEpoch = train.filter { $0["epoch"] as? Int == 0 }, secondEpoch = train.filter { $0["epoch"] as? Int == 1 }
        XCTAssertFalse(firstEpoch.isEmpty)
        XCTAssertFalse(secondEpoch.isEmpty)
        for r in firstEpoch { XCTAssertEqual(r["lr"] as? Double ?? 0, 0.05, accuracy: 1e-7) }
        for r in secondEpoch { XCTAssertEqual(r["lr"] as? Double ?? 0, 0.0125, accuracy: 1e-7) }
    }

    func testTheTrainerStopsWhenTheAuthoritySaysSo() throws {
        var options = Trainer.Options(runDirectory: runDir())
        options.scheduleAuthority = { observation in
            var state = observation.scheduler.state
            state.stopped = true
            return ScheduleVerdict(decision: ScheduleDecision(reducedLR: false, lr: 0.05, shouldStop: true, isBest: false),
                                   state: state)
        }
        let trainer = try Trainer(config: patientConfig(epochs: 4), options: options)
        let summary = try trainer.run()
        XCTAssertTrue(summary.stoppedEarly)
        XCTAssertEqual(summary.epochsCompleted, 1, "stopped after the first validation")
        XCTAssertTrue(trainer.scheduler.shouldStop, "the stop is in the state a checkpoint keeps")
    }

    func testAFailingAuthorityEndsTheRun() throws {
        struct Unreachable: Error {}
        var options = Trainer.Options(runDirectory: runDir())
        options.scheduleAuthority = { _ in throw Unreachable() }
        let trainer = try Trainer(config: patientConfig(epochs: 2), options: options)
        XCTAssertThrowsError(try trainer.run()) { XCTAssertTrue($0 is Unreachable, "\($0)") }
        XCTAssertEqual(trainer.state.history.count, 1)
    }
}
