import Checkpoints
import Cluster
import Foundation
import Optim
import TestSupport
import Training
import XCTest

/// The coordinator's copy of the metric-driven scheduler state: its decisions are the
/// scheduler's own (PyTorch/Keras semantics), taken on its state and never on the reporting
/// rank's; it restarts from a checkpoint's state; and it recognises a checkpoint whose
/// training state disagrees with what it decided.
final class CoordinatorSchedulerTests: XCTestCase {
    func plateauScheduler(stepsPerEpoch: Int = 10) throws -> HyperparameterScheduler {
        var config = ScheduleConfig(type: .plateau)
        config.reduceOnPlateau = PlateauConfig(factor: 0.5, patience: 1, minLR: 0.01)
        config.earlyStopping = EarlyStoppingConfig(patience: 3)
        return try HyperparameterScheduler(config: config, baseLR: 0.1, stepsPerEpoch: stepsPerEpoch, runSteps: 200)
    }

    func testDecisionsAreTheSchedulersOwnOnTheCoordinatorsState() throws {
        let metrics = [1.0, 0.9, 0.95, 0.97, 0.8, 0.85, .nan, 0.9, 0.9, 0.9]
        var local = try plateauScheduler()
        var coordinator = CoordinatorScheduler()
        // The reporting rank's scheduler carries a state of its own (stale, or from a bug):
        // only its fixed parameters may matter.
        var report = try plateauScheduler()
        _ = report.observe(validationMetric: 0.001, atStep: 0, epoch: 0)
        for (i, metric) in metrics.enumerated() {
            let step = (i + 1) * 10
            let expected = local.observe(validationMetric: metric, atStep: step, epoch: i)
            let verdict = coordinator.decide(metric: metric, step: step, epoch: i, scheduler: report)
            XCTAssertEqual(verdict.decision, expected, "evaluation \(i)")
            XCTAssertEqual(verdict.state, local.state, "evaluation \(i)")
        }
        XCTAssertEqual(coordinator.state, local.state)
        XCTAssertGreaterThan(local.state.plateauReductions, 0, "the sequence exercises a plateau cut")
        XCTAssertTrue(local.state.stopped, "and early stopping")
        XCTAssertEqual(coordinator.timeline.count, metrics.count + 1)
    }

    func testExpectedStateIsTheOneAfterTheDecisionsUpToAStep() throws {
        let s = try plateauScheduler()
        var coordinator = CoordinatorScheduler()
        let first = coordinator.decide(metric: 1, step: 10, epoch: 0, scheduler: s).state
        let second = coordinator.decide(metric: 2, step: 20, epoch: 1, scheduler: s).state
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(coordinator.expectedState(atStep: 5), HyperparameterScheduler.State())
        XCTAssertEqual(coordinator.expectedState(atStep: 10), first, "a validation comes before the checkpoint of its step")
        XCTAssertEqual(coordinator.expectedState(atStep: 19), first)
        XCTAssertEqual(coordinator.expectedState(atStep: 20), second)
        XCTAssertEqual(coordinator.expectedState(atStep: 1000), second)
    }

    /// A real checkpoint of a run whose plateau schedule cut the rate: the coordinator restarts
    /// from its state, accepts it, and names the difference when a state disagrees.
    func testCheckpointStateRestoresAndMismatchesAreNamed() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-coordinator-scheduler-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let json = SyntheticDataset.configJSON(data: data, epochs: 3, extra: """
            , "schedule": {"type": "plateau", "reduce_on_plateau": {"patience": 0, "factor": 0.5, "threshold": 100, "threshold_mode": "abs"}}
            """)
        let config = try TrainingConfig.parse(json: Data(json.utf8), source: "test config")
        let trainer = try Trainer(config: config, options: .init(runDirectory: dir))
        _ = try trainer.run()
        let saved = try XCTUnwrap(CheckpointStore(runDirectory: dir).latestValid())
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: saved.path)))
        let stateJSON = try XCTUnwrap(SafeTensorsFile.parse(bytes: bytes, path: saved.path).state)

        let restored = try CoordinatorScheduler(checkpoint: bytes, source: saved.path)
        XCTAssertEqual(restored.state, trainer.scheduler.state)
        XCTAssertEqual(restored.timeline.first?.step, trainer.state.globalStep)
        XCTAssertGreaterThan(restored.state.plateauReductions, 0, "the run cut its rate (threshold 100 never improves)")
        XCTAssertNil(restored.mismatch(in: stateJSON, step: saved.step, source: saved.path))

        let fresh = CoordinatorScheduler()
        let why = try XCTUnwrap(fresh.mismatch(in: stateJSON, step: saved.step, source: saved.path))
        XCTAssertTrue(why.contains("step \(saved.step)") && why.contains("differs from the coordinator's"), why)
        XCTAssertTrue(why.contains("plateauReductions"), why)
        XCTAssertNotNil(fresh.mismatch(in: "{not json", step: 1, source: "x"))

        XCTAssertEqual(try CoordinatorScheduler(checkpoint: [], source: "none").state, HyperparameterScheduler.State())
        XCTAssertThrowsError(try CoordinatorScheduler(checkpoint: [1, 2, 3], source: "garbage.safetensors")) {
            XCTAssertTrue("\($0)".contains("garbage.safetensors"), "\($0)")
        }
    }
}

/// The worker's side: verdicts reach the training thread by step, only for the current ring,
/// and an interrupt or a silent coordinator ends the wait.
final class ScheduleMailboxTests: XCTestCase {
    final class FakeRing: Closable, @unchecked Sendable {
        private let lock = NSLock()
        private var isClosed = false
        var closed: Bool { lock.lock(); defer { lock.unlock() }; return isClosed }
        func close() { lock.lock(); isClosed = true; lock.unlock() }
    }

    func verdict(_ observations: Int) -> ScheduleVerdict {
        var state = HyperparameterScheduler.State()
        state.observations = observations
        return ScheduleVerdict(decision: ScheduleDecision(reducedLR: false, lr: 0.1, shouldStop: false, isBest: true), state: state)
    }

    func schedule(step: Int, generation: Int, _ v: ScheduleVerdict) -> ControlMessage {
        var m = ControlMessage(.schedule)
        m.step = step
        m.generation = generation
        m.verdict = v
        return m
    }

    func testVerdictsOfTheCurrentRingAreHandedOverByStep() throws {
        let mailbox = AssignmentMailbox()
        mailbox.setRing(FakeRing(), generation: 2)
        mailbox.putSchedule(schedule(step: 20, generation: 1, verdict(9)))   // an older ring's
        mailbox.putSchedule(schedule(step: 10, generation: 2, verdict(1)))
        mailbox.putSchedule(schedule(step: 20, generation: 2, verdict(2)))
        XCTAssertEqual(try mailbox.takeSchedule(step: 20, timeout: 1, rank: 0), verdict(2))
        XCTAssertEqual(try mailbox.takeSchedule(step: 10, timeout: 1, rank: 0), verdict(1))
        // A verdict that arrives while the training thread waits.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) {
            mailbox.putSchedule(self.schedule(step: 30, generation: 2, self.verdict(3)))
        }
        XCTAssertEqual(try mailbox.takeSchedule(step: 30, timeout: 10, rank: 0), verdict(3))
    }

    func testAnInterruptEndsTheWaitAsALostRing() throws {
        let mailbox = AssignmentMailbox()
        let ring = FakeRing()
        mailbox.setRing(ring, generation: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { mailbox.interruptRing() }
        let started = Date()
        XCTAssertThrowsError(try mailbox.takeSchedule(step: 10, timeout: 30, rank: 1)) { error in
            XCTAssertTrue(error is RingLost, "\(error)")
            XCTAssertTrue("\(error)".contains("step 10"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        // The interrupt also closes the ring (right after waking the waiter).
        let closedBy = Date().addingTimeInterval(5)
        while !ring.closed && Date() < closedBy { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertTrue(ring.closed)
        // The next ring starts clean.
        mailbox.setRing(FakeRing(), generation: 1)
        mailbox.putSchedule(schedule(step: 10, generation: 1, verdict(1)))
        XCTAssertEqual(try mailbox.takeSchedule(step: 10, timeout: 1, rank: 1), verdict(1))
    }

    /// Interrupts carry the generation they stop: one that arrives before its ring starts
    /// forming cancels that formation when it begins, one during the formation cancels it at
    /// once, and a late one for an older ring leaves the current ring alone.
    func testAnInterruptStopsTheRingOfItsGenerationFormingOrFormed() throws {
        let mailbox = AssignmentMailbox()
        mailbox.interruptRing(generation: 1)          // before the ring of generation 1 forms
        XCTAssertTrue(mailbox.beginForming(generation: 1).isCancelled)
        let forming = mailbox.beginForming(generation: 2)
        XCTAssertFalse(forming.isCancelled)
        mailbox.interruptRing(generation: 1)          // a late interrupt of an older ring
        XCTAssertFalse(forming.isCancelled)
        mailbox.interruptRing(generation: 2)          // while the ring of generation 2 forms
        XCTAssertTrue(forming.isCancelled)
        // A ring that finished forming after its interrupt is closed when it is handed over.
        let late = FakeRing()
        mailbox.setRing(late, generation: 2)
        XCTAssertTrue(late.closed)
        // The next generation is unaffected, and an old interrupt leaves its ring open.
        XCTAssertFalse(mailbox.beginForming(generation: 3).isCancelled)
        let current = FakeRing()
        mailbox.setRing(current, generation: 3)
        mailbox.interruptRing(generation: 2)
        XCTAssertFalse(current.closed)
        mailbox.interruptRing(generation: 3)
        XCTAssertTrue(current.closed)
    }

    func testASilentCoordinatorIsAnExitThreeError() throws {
        let mailbox = AssignmentMailbox()
        mailbox.setRing(FakeRing(), generation: 0)
        XCTAssertThrowsError(try mailbox.takeSchedule(step: 7, timeout: 0.2, rank: 1)) { error in
            let e = error as? ClusterError
            XCTAssertEqual(e?.exitCode, 3)
            XCTAssertTrue(e?.message.contains("no scheduling decision for the validation of step 7") ?? false, "\(error)")
        }
    }
}
