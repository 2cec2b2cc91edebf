import Optim

/// One validation result, as a rank hands it to whoever takes the scheduler's metric-driven
/// decisions (in distributed runs, the coordinator).
public struct ScheduleObservation: Sendable {
    /// The `schedule.monitor` metric, reduced across every rank's share of the split.
    public var metric: Double
    /// Optimizer steps done when the metric was taken, and the epoch it belongs to.
    public var step: Int
    public var epoch: Int
    /// The rank's scheduler: its fixed parameters (base rate, epoch length, run length) are
    /// what ReduceLROnPlateau's `min_lr` check needs; its state is the rank's copy.
    public var scheduler: HyperparameterScheduler

    public init(metric: Double, step: Int, epoch: Int, scheduler: HyperparameterScheduler) {
        self.metric = metric
        self.step = step
        self.epoch = epoch
        self.scheduler = scheduler
    }
}

/// The decision taken on a `ScheduleObservation`, and the scheduler state after it.
public struct ScheduleVerdict: Codable, Sendable, Equatable {
    public var decision: ScheduleDecision
    public var state: HyperparameterScheduler.State

    public init(decision: ScheduleDecision, state: HyperparameterScheduler.State) {
        self.decision = decision
        self.state = state
    }
}
