import Foundation
import Training

/// The control-plane messages between the coordinator and a worker (JSON in frames; the
/// exact bytes are in docs/wire-format.md). One struct with a `kind` and optional fields
/// keeps the JSON flat and readable in a packet capture.
public struct ControlMessage: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// worker -> coordinator: host name, ring address, data fingerprint, pid.
        case register
        /// coordinator -> worker: rank, world size, ring addresses, config, run directory, resume.
        case assign
        /// worker -> coordinator: the ring is formed and checked end to end.
        case ringReady = "ring_ready"
        /// worker -> coordinator: a heartbeat every few seconds; from rank 0 also the progress
        /// line (in `message`), which the coordinator shows as the job's progress line.
        case progress
        /// rank 0 -> coordinator: a log line (validation results, resumption, ...).
        case log
        /// worker -> coordinator at each checkpoint: the SHA-256 of its weights and its part
        /// of the checkpoint (rank 0: weights, buffers, optimizer state and the training
        /// state; every rank: its codec residuals) as the attachment.
        case checkpointPart = "checkpoint_part"
        /// rank 0 -> coordinator: one metrics.jsonl record (in `record`).
        case metrics
        /// worker -> coordinator, before `done`, with `--timeline`: this rank's Chrome-trace
        /// events as JSON in the attachment.
        case trace
        /// worker -> coordinator: training finished; carries the summary (after a
        /// learning-rate sweep: the curve).
        case done
        /// worker -> coordinator: a failure, with the message.
        case failed
        /// coordinator -> worker: stop now (a peer was lost, or the run is cancelled).
        case abort
        /// coordinator -> worker (elastic runs): a peer was lost; stop the step in flight
        /// (close the ring) and report `ring_broken`. A new `assign` (generation + 1) follows.
        case interrupt
        /// worker -> coordinator (elastic runs): this worker's ring failed; it is alive and
        /// waits for a new `assign` (or an `abort`).
        case ringBroken = "ring_broken"
        /// rank 0 -> coordinator after each validation: the monitored metric (in `metric`,
        /// reduced across ranks), `step`, `epoch`, `generation` and rank 0's scheduler (its
        /// fixed parameters, as JSON in `scheduler`). The coordinator takes the decision.
        case evaluation
        /// coordinator -> every worker of the ring: the decision on the evaluation of `step`
        /// and the scheduler state after it (`verdict`); every rank waits for it and adopts it.
        case schedule
    }

    public var kind: Kind
    public var host: String?
    public var ringAddress: String?
    public var pid: Int32?
    public var fingerprint: String?
    public var rank: Int?
    public var worldSize: Int?
    public var addresses: [String]?
    public var config: TrainingConfig?
    public var runDirectory: String?
    public var resume: Bool?
    public var step: Int?
    public var epoch: Int?
    public var loss: Double?
    public var imagesPerSecond: Double?
    public var hash: String?
    public var summary: TrainingSummary?
    public var message: String?
    public var exitCode: Int32?
    /// checkpoint_part: the tensors of the attachment, in order.
    public var tensors: [TensorEntry]?
    /// checkpoint_part: the training state JSON (rank 0).
    public var state: String?
    /// metrics: one metrics.jsonl record, as JSON text.
    public var record: String?
    /// progress (worker heartbeats): what the training thread is doing in step `step + 1`.
    public var phase: String?
    /// assign: the elastic minimum (equal to `world_size`: not elastic), and which ring this
    /// is (0 at the start, +1 at each re-formation).
    public var minWorkers: Int?
    public var generation: Int?
    /// checkpoint_part: an in-memory commit (`commit_every`), kept by the coordinator, not written.
    public var commit: Bool?
    /// evaluation: the monitored validation metric as Swift prints a Double ("nan" and
    /// "inf" included, which JSON numbers cannot carry; finite values round-trip exactly).
    public var metric: String?
    /// evaluation: rank 0's `HyperparameterScheduler` as JSON.
    public var scheduler: String?
    /// schedule: the coordinator's decision and its scheduler state after it.
    public var verdict: ScheduleVerdict?
    /// checkpoint_part (rank 0): how many leading tensors the weights `hash` covers.
    public var hashedTensors: Int?
    /// assign (`ringtrain lr-find --nproc N`): run this learning-rate sweep instead of training.
    public var lrSweep: LearningRateSweep?
    /// done, after a sweep: rank 0's curve (every rank measured the same ring-averaged losses).
    public var lrCurve: LearningRateCurve?

    public init(_ kind: Kind) { self.kind = kind }

    enum CodingKeys: String, CodingKey {
        case kind, host, ringAddress = "ring_address", pid, fingerprint, rank, worldSize = "world_size", addresses
        case config, runDirectory = "run_directory", resume, step, epoch, loss
        case imagesPerSecond = "images_per_sec", hash, summary, message, exitCode = "exit_code"
        case tensors, state, record, phase, minWorkers = "min_workers", generation, commit
        case metric, scheduler, verdict, lrSweep = "lr_sweep", lrCurve = "lr_curve", hashedTensors = "hashed_tensors"
    }
}

/// One tensor of a checkpoint part: its name, shape and float count in the attachment.
public struct TensorEntry: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    public var count: Int

    public init(name: String, shape: [Int], count: Int) {
        self.name = name
        self.shape = shape
        self.count = count
    }
}
