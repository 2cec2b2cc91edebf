import Checkpoints
import Foundation
import Telemetry
import Training

/// The coordinator's supervision of one job, from the first ring to the summary: every
/// worker's messages (one reader thread each, see Supervisor+Threads.swift) change the state
/// below under `condition`, one method per message kind (Supervisor+Messages.swift); the
/// caller's thread waits for the end, re-forming the ring when a worker is lost in an elastic
/// run (`minWorkers` below the world size). A lost worker otherwise ends the run with exit 3.
final class Supervisor: @unchecked Sendable {
    /// One worker as the supervisor sees it, across re-formations of the ring.
    final class Seat {
        let member: Coordinator.Member
        var rank: Int
        var alive = true
        /// Reported `ring_broken` since the last (re-)formation.
        var broken = false

        init(_ member: Coordinator.Member) {
            self.member = member
            rank = member.rank
        }

        var name: String { "rank \(rank) on \(member.host) (pid \(member.pid))" }
    }

    let coordinator: Coordinator
    let options: Coordinator.Options
    let runDirectory: RunDirectory
    let store: CheckpointStore
    let fingerprint: String?
    let minWorkers: Int
    let elastic: Bool
    let progress = ProgressLine(interval: 5)
    /// Why a checkpoint file cannot restart this run's model (nil: it can).
    let rejection: (SafeTensorsFile) -> String?
    /// Encodes and writes checkpoints (and in-memory commits) one at a time, outside the
    /// lock: a slow disk never holds up heartbeats, progress or verdicts.
    let writer = SerialWorker(name: "coordinator-checkpoint-writer")
    let stopBeating = FinishedFlag()

    /// Everything below is read and written with `condition` held.
    let condition = NSCondition()
    var seats: [Seat]
    var ring: [Seat]
    /// Workers admitted during the run (elastic runs), waiting for the next commit point.
    var joining: [Seat] = []
    var growAtCommit = false
    var generation = 0
    var done = 0
    var failure: ClusterError?
    var summary: TrainingSummary?
    var curve: LearningRateCurve?
    var pending: [Int: Coordinator.PendingCheckpoint] = [:]
    var lastCheckpoint: String?
    /// The newest in-memory commit (`commit_every`): a whole checkpoint file, not on disk.
    var lastCommit: (step: Int, bytes: [UInt8])?
    var traceEvents: [TraceEvent] = []
    var inspector: StallInspector
    var lost: [String] = []
    /// A survivor's report that its ring failed (exit 3), held briefly so the error can name
    /// the worker that was actually lost (its connection closes a moment later).
    var ringFailure: ClusterError?
    var newestStep = 0
    /// The metric-driven scheduler state: decided here, adopted by every rank.
    var scheduler: CoordinatorScheduler

    init(coordinator: Coordinator, members: [Coordinator.Member], runDirectory: RunDirectory, store: CheckpointStore,
         fingerprint: String?, scheduler: CoordinatorScheduler) {
        self.coordinator = coordinator
        options = coordinator.options
        self.runDirectory = runDirectory
        self.store = store
        self.fingerprint = fingerprint
        seats = members.sorted { $0.rank < $1.rank }.map(Seat.init)
        ring = seats
        minWorkers = options.minWorkers ?? options.worldSize
        elastic = minWorkers < options.worldSize
        let model = try? Trainer.modelSpec(options.config)
        rejection = { file in model.flatMap { Trainer.rejection(of: file, model: $0) } }
        inspector = StallInspector(minimumSeconds: options.stallSeconds)
        self.scheduler = scheduler
        if options.config.restoreBest { store.protect(step: scheduler.state.bestStep) }
    }

    func warnMetrics(_ text: String) { options.log("[coordinator] warning: \(text)") }

    /// Supervises to the end: the summary (or a sweep's curve), or the error that ended the run.
    func run() throws -> JobResult {
        defer {
            stopBeating.set()
            writer.stop()
        }
        for seat in seats { startReader(seat) }
        startHeartbeat()
        if elastic { startAdmission() }

        condition.lock()
        while failure == nil && done < ring.count {
            if let ringFailure {
                // Give the lost worker's own detection a moment to name it.
                let namedBy = Date().addingTimeInterval(2)
                while failure == nil && Date() < namedBy { _ = condition.wait(until: namedBy) }
                failure = failure ?? ringFailure
                break
            }
            guard elastic, !lost.isEmpty || ring.contains(where: \.broken) || growAtCommit else {
                condition.wait()
                continue
            }
            if !reform() { break }
        }
        // The last checkpoint is on disk (or failed) before the summary names it.
        condition.unlock()
        writer.drain()
        condition.lock()
        // No more admissions: the late-admission thread checks this flag under the lock.
        stopBeating.set()
        let result = failure
        let finalSummary = summary, finalCurve = curve, finalRing = ring, allSeats = seats
        condition.unlock()
        if let result {
            progress.finish()
            options.log(result.message)
            for s in allSeats where s.alive {
                var abort = ControlMessage(.abort)
                abort.message = result.message
                try? s.member.channel.send(abort, timeout: 2)
            }
            for s in allSeats { s.member.channel.connection.shutdown() }
            throw result
        }
        for s in allSeats { s.member.channel.close() }
        if let finalCurve { return .swept(finalCurve) }
        guard var final = finalSummary else { throw ClusterError("[coordinator] rank 0 finished without a summary") }
        // Relative to the run directory, as `checkpoints` is.
        final.lastCheckpoint = lastCheckpoint.map { "checkpoints/" + ($0 as NSString).lastPathComponent } ?? final.lastCheckpoint
        final.checkpoints = store.checkpoints().map { "checkpoints/" + ($0.path as NSString).lastPathComponent }
        if let path = options.config.timeline {
            do {
                try ChromeTrace.write(traceEvents, to: path)
                options.log("[coordinator] timeline of \(finalRing.count) ranks: \(path) (open in chrome://tracing or ui.perfetto.dev)")
            } catch {
                options.log("[coordinator] \(error)")
            }
        }
        return .trained(final)
    }

    /// What exit 3 may promise: the newest checkpoint on disk to resume from, or plainly
    /// nothing (no checkpoint was written before the loss).
    func resumeAdvice() -> String {
        guard let newest = store.checkpoints().last else {
            return "no checkpoint was written before the loss, so there is nothing to resume: start the run again"
        }
        return "the run is resumable with --resume (from step \(newest.step))"
    }

    /// With the lock held: `seat` is gone (closed connection, missed heartbeats).
    func lose(_ seat: Seat, _ why: String) {
        guard seat.alive else { return }
        seat.alive = false
        joining.removeAll { $0 === seat }
        guard ring.contains(where: { $0 === seat }), failure == nil, done < ring.count else { return }
        let text = "worker \(seat.name), detected at \(Date()): \(why)"
        if elastic {
            lost.append(text)
        } else {
            failure = ClusterError("[coordinator] lost \(text); \(resumeAdvice())", exitCode: 3)
        }
    }
}
