import Checkpoints
import Foundation
import Optim
import Training

/// The coordinator's half of the shared scheduler (DESIGN.md §2): the one copy of the
/// metric-driven state (ReduceLROnPlateau, early stopping) that decisions are taken on.
/// Step-wise schedules need nothing from here: they are pure functions of the global step,
/// which every rank computes alike.
///
/// After each validation rank 0 reports the metric (already reduced across the ranks) with its
/// scheduler, whose fixed parameters (base rate, epoch length, run length) depend on the
/// training split, which the coordinator may not hold; the coordinator applies the metric to
/// its own state and broadcasts the verdict, which every rank adopts. It remembers the state
/// after every decision, so the training state of each checkpoint can be checked against what
/// it decided up to that step.
public struct CoordinatorScheduler: Sendable {
    /// (step, state after the decision taken at that step), oldest first; the first entry is
    /// the state the ring started from.
    public private(set) var timeline: [(step: Int, state: HyperparameterScheduler.State)]

    public init(startingFrom state: HyperparameterScheduler.State = .init(), atStep step: Int = 0) {
        timeline = [(step, state)]
    }

    /// The state stored in the training state of a checkpoint or in-memory commit (a whole
    /// safetensors file, as sent to the workers); empty bytes: a fresh start.
    public init(checkpoint bytes: [UInt8], source: String) throws {
        guard !bytes.isEmpty else {
            self.init()
            return
        }
        let file = try SafeTensorsFile.parse(bytes: bytes, path: source, integrity: .skip)
        guard let text = file.state else {
            throw CheckpointError(.mismatch, file: source, field: SafeTensorsFile.stateKey, "missing: not a RingTrain checkpoint")
        }
        let saved = try TrainingState.parse(text, file: source)
        self.init(startingFrom: saved.scheduler.state, atStep: saved.globalStep)
    }

    /// The state after the newest decision.
    public var state: HyperparameterScheduler.State { timeline[timeline.count - 1].state }

    /// Takes the decision on one validation result: `scheduler`'s fixed parameters with this
    /// object's state (the rank's copy of the state is not consulted).
    public mutating func decide(metric: Double, step: Int, epoch: Int, scheduler: HyperparameterScheduler) -> ScheduleVerdict {
        var s = scheduler
        s.restoreState(state)
        let decision = s.observe(validationMetric: metric, atStep: step, epoch: epoch)
        timeline.append((step, s.state))
        return ScheduleVerdict(decision: decision, state: s.state)
    }

    /// The state a checkpoint of `step` must carry: the one after every decision taken at or
    /// before that step (a validation comes before the checkpoint of the same step).
    public func expectedState(atStep step: Int) -> HyperparameterScheduler.State {
        timeline.last { $0.step <= step }?.state ?? timeline[0].state
    }

    /// Nil when the training state of the checkpoint of `step` carries the state this
    /// coordinator decided; otherwise what differs, for the error that stops the run.
    public func mismatch(in stateJSON: String, step: Int, source: String) -> String? {
        let saved: TrainingState
        do {
            saved = try TrainingState.parse(stateJSON, file: source)
        } catch {
            return "\(error)"
        }
        let expected = expectedState(atStep: step)
        guard saved.scheduler.state != expected else { return nil }
        return "rank 0's scheduler state at step \(step) (\(Self.describe(saved.scheduler.state))) differs from the coordinator's (\(Self.describe(expected)))"
    }

    static func describe(_ s: HyperparameterScheduler.State) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }
}
