import Checkpoints
import Foundation
import Optim
import Telemetry
import Training

extension Coordinator {
    /// One worker as the supervisor sees it, across re-formations of the ring.
    final class Seat {
        let member: Member
        var rank: Int
        var alive = true
        /// Reported `ring_broken` since the last (re-)formation.
        var broken = false

        init(_ member: Member) {
            self.member = member
            rank = member.rank
        }

        var name: String { "rank \(rank) on \(member.host) (pid \(member.pid))" }
    }

    /// Reads every worker's messages on its own thread; writes metrics and checkpoints; returns
    /// when the ring is done. A lost worker ends the run with exit 3 (resumable), unless the
    /// run is elastic (`minWorkers` below the world size): then the survivors are interrupted,
    /// the ring is re-formed from them and training continues from the last checkpoint, for as
    /// long as at least `minWorkers` remain. No process is restarted.
    func supervise(_ members: [Member], runDirectory: RunDirectory, store: CheckpointStore,
                   fingerprint: String?, scheduler initialScheduler: CoordinatorScheduler) throws -> JobResult {
        let condition = NSCondition()
        var seats = members.sorted { $0.rank < $1.rank }.map(Seat.init)
        var ring = seats
        /// Workers admitted during the run (elastic runs), waiting for the next commit point.
        var joining: [Seat] = []
        var growAtCommit = false
        var generation = 0
        var done = 0
        var failure: ClusterError?
        var summary: TrainingSummary?
        var curve: LearningRateCurve?
        var pending: [Int: PendingCheckpoint] = [:]
        var lastCheckpoint: String?
        /// The newest in-memory commit (`commit_every`): a whole checkpoint file, not on disk.
        var lastCommit: (step: Int, bytes: [UInt8])?
        var traceEvents: [TraceEvent] = []
        var inspector = StallInspector(minimumSeconds: options.stallSeconds)
        var lost: [String] = []
        /// A survivor's report that its ring failed (exit 3), held briefly so the error can
        /// name the worker that was actually lost (its connection closes a moment later).
        var ringFailure: ClusterError?
        var newestStep = 0
        let minWorkers = options.minWorkers ?? options.worldSize
        let elastic = minWorkers < options.worldSize
        let progress = ProgressLine(interval: 5)
        let model = try? Trainer.modelSpec(options.config)
        let warnMetrics: (String) -> Void = { [options] in options.log("[coordinator] warning: \($0)") }
        /// The metric-driven scheduler state: decided here, adopted by every rank.
        var scheduler = initialScheduler
        if options.config.restoreBest { store.protect(step: scheduler.state.bestStep) }

        /// Encodes and writes checkpoints (and in-memory commits) one at a time, outside the
        /// lock: a slow disk never holds up heartbeats, progress or verdicts.
        let writer = SerialWorker(name: "coordinator-checkpoint-writer")
        defer { writer.stop() }

        /// Called with the lock held once every rank's part of `step` is in: checks them and
        /// hands them to the writer.
        func writeCheckpoint(step: Int, _ c: PendingCheckpoint) {
            if Set(c.hashes.values).count != 1 {
                let detail = c.hashes.sorted { $0.key < $1.key }.map { "rank \($0.key): \($0.value.prefix(16))" }.joined(separator: ", ")
                failure = failure ?? ClusterError("[coordinator] ranks disagree on the weights at step \(step): \(detail)")
                return
            }
            guard let state = c.state else {
                failure = failure ?? ClusterError("[coordinator] rank 0 sent no training state for step \(step)")
                return
            }
            if let why = scheduler.mismatch(in: state, step: step, source: "rank 0's checkpoint part of step \(step)") {
                failure = failure ?? ClusterError("[coordinator] \(why)")
                return
            }
            let weights = c.tensors[0] ?? []
            guard let hashed = c.hashedTensors, hashed >= 1, hashed <= weights.count, let agreed = c.hashes.values.first else {
                failure = failure ?? ClusterError("[coordinator] rank 0's checkpoint part of step \(step) does not say which of its \(weights.count) tensors are the weights")
                return
            }
            let tensors = (0..<ring.count).flatMap { c.tensors[$0] ?? [] }
            let thisGeneration = generation
            writer.async { [options] in
                // What is written must be the weights every rank agreed on, byte for byte.
                if let why = Self.weightsMismatch(tensors, hashed: hashed, agreed: agreed) {
                    condition.lock()
                    failure = failure ?? ClusterError("[coordinator] the checkpoint of step \(step) is not written: \(why)")
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                if c.commit {
                    let bytes = try? SafeTensorsFile.encode(tensors: tensors, metadata: [SafeTensorsFile.stateKey: state],
                                                            path: "commit of step \(step)")
                    condition.lock()
                    if let bytes, thisGeneration == generation {
                        lastCommit = (step, bytes)
                        if !joining.isEmpty { growAtCommit = true }
                    }
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                let saved = Result { try store.save(step: step, tensors: tensors, state: state) }
                condition.lock()
                defer { condition.broadcast(); condition.unlock() }
                switch saved {
                case .success(let path):
                    lastCheckpoint = path
                    if !joining.isEmpty && thisGeneration == generation { growAtCommit = true }
                    let epoch = (try? TrainingState.parse(state, file: path))?.epoch ?? 0
                    runDirectory.appendMetrics(["event": "checkpoint", "step": step, "epoch": epoch,
                                                "path": "checkpoints/" + (path as NSString).lastPathComponent], warningOnce: warnMetrics)
                case .failure(let error):
                    // The previous checkpoint stays valid; the run goes on and tries again next time.
                    options.log("[coordinator] checkpoint at step \(step) failed (the previous one stays valid): \(error)")
                }
            }
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

        /// With the lock held: rank 0's validation result of this ring. Takes the decision,
        /// records it, and returns the `schedule` message for every rank and who gets it.
        func decide(_ message: ControlMessage, from seat: Seat) -> (ControlMessage, [Seat])? {
            guard seat.rank == 0, ring.contains(where: { $0 === seat }), message.generation == generation else {
                return nil   // a late report from a ring that has since been re-formed
            }
            guard let step = message.step, let epoch = message.epoch, let metric = message.metric.flatMap(Double.init),
                  let text = message.scheduler,
                  let rankScheduler = try? JSONDecoder().decode(HyperparameterScheduler.self, from: Data(text.utf8)) else {
                failure = failure ?? ClusterError("[coordinator] rank 0 (\(seat.member.host)) sent an evaluation without a readable step, epoch, metric or scheduler")
                return nil
            }
            let wasStopped = scheduler.state.stopped
            let verdict = scheduler.decide(metric: metric, step: step, epoch: epoch, scheduler: rankScheduler)
            let d = verdict.decision
            if d.isBest && options.config.restoreBest { store.protect(step: step) }
            if d.reducedLR {
                progress.message("[coordinator] plateau at step \(step) (\(rankScheduler.config.monitor) "
                                 + String(format: "%.4g): learning rate now %.3g", metric, d.lr))
            }
            if d.shouldStop && !wasStopped {
                let best = verdict.state.bestMetric.map { String(format: "; the best, %.4g, was at step %d", $0, verdict.state.bestStep ?? 0) } ?? ""
                let reference = verdict.state.earlyStopBest.map { String(format: " on %.4g", $0) } ?? ""
                progress.message("[coordinator] early stopping at step \(step) (epoch \(epoch + 1)): \(rankScheduler.config.monitor) has not improved\(reference) for \(verdict.state.earlyStopWait) validation\(verdict.state.earlyStopWait == 1 ? "" : "s")" + best)
            }
            runDirectory.appendMetrics(["event": "schedule", "step": step, "epoch": epoch, "metric": metric,
                                        "monitor": rankScheduler.config.monitor, "lr": Double(d.lr), "reduced_lr": d.reducedLR,
                                        "stop": d.shouldStop, "is_best": d.isBest, "decided_by": "coordinator"], warningOnce: warnMetrics)
            var out = ControlMessage(.schedule)
            out.step = step
            out.generation = generation
            out.verdict = verdict
            return (out, ring.filter(\.alive))
        }

        func startReader(_ seat: Seat) {
            let t = Thread { [options] in
                while true {
                    let message: ControlMessage
                    let attachment: [UInt8]
                    do {
                        (message, attachment) = try seat.member.channel.receiveWithAttachment(timeout: options.heartbeatTimeout)
                    } catch {
                        condition.lock()
                        lose(seat, "\(error)")
                        condition.broadcast()
                        condition.unlock()
                        return
                    }
                    condition.lock()
                    var broadcast: (ControlMessage, [Seat])?
                    // Parts, `done` and `failed` count only from a member of the current ring
                    // (parts and `done` of its generation too): a dropped worker's late part
                    // must not complete the next ring's checkpoint, nor its `done` end it.
                    let member = ring.contains(where: { $0 === seat })
                    let current = member && (message.generation ?? 0) == generation
                    var ignored = false
                    switch message.kind {
                    case .checkpointPart where !current, .done where !current, .failed where !member:
                        ignored = true
                        options.log("[coordinator] ignored a \(message.kind.rawValue) message from worker \(seat.name), which is not in the ring of generation \(generation)")
                    case .evaluation:
                        broadcast = decide(message, from: seat)
                    case .progress:
                        if let text = message.message { progress.showRaw(text) }
                        if let step = message.step, let phase = message.phase, ring.contains(where: { $0 === seat }) {
                            inspector.observe(rank: seat.rank, step: step, phase: phase, at: Date())
                            newestStep = max(newestStep, step)
                        }
                    case .log:
                        if let text = message.message { progress.message(text) }
                    case .ringReady:
                        if seat.rank == 0 {
                            options.log("[coordinator] ring of \(ring.count) formed and checked" + (generation > 0 ? " (re-formation \(generation))" : ""))
                        }
                    case .metrics:
                        if let text = message.record,
                           let record = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
                            runDirectory.appendMetrics(record, warningOnce: warnMetrics)
                        }
                    case .checkpointPart:
                        if let step = message.step, let hash = message.hash {
                            let tensors: [SafeTensor]
                            do {
                                guard step >= 0 else { throw PartError("step \(step) is negative") }
                                tensors = try Self.decodeTensors(message.tensors ?? [], attachment)
                            } catch {
                                failure = failure ?? ClusterError("[coordinator] worker \(seat.name) sent a checkpoint part that does not add up: \(error)")
                                break
                            }
                            var c = pending[step] ?? PendingCheckpoint()
                            c.hashes[seat.rank] = hash
                            c.tensors[seat.rank] = tensors
                            if message.state != nil { c.state = message.state }
                            if message.commit == true { c.commit = true }
                            if let k = message.hashedTensors { c.hashedTensors = k }
                            if c.hashes.count == ring.count {
                                pending[step] = nil
                                writeCheckpoint(step: step, c)
                            } else {
                                pending[step] = c
                            }
                        }
                    case .trace:
                        if let events = try? JSONDecoder().decode([TraceEvent].self, from: Data(attachment)) {
                            traceEvents += events
                        } else {
                            options.log("[coordinator] rank \(seat.rank) sent an unreadable timeline; it is left out")
                        }
                    case .ringBroken:
                        seat.broken = true
                        newestStep = max(newestStep, message.step ?? 0)
                        if lost.isEmpty && !elastic && failure == nil {
                            failure = ClusterError("[coordinator] worker \(seat.name) lost its ring: \(message.message ?? "?")", exitCode: 3)
                        }
                    case .done:
                        done += 1
                        if seat.rank == 0 { (summary, curve) = (message.summary, message.lrCurve) }
                    case .failed where message.exitCode == 3:
                        ringFailure = ringFailure ?? ClusterError("[coordinator] worker \(seat.name) lost its ring: \(message.message ?? "?"); \(resumeAdvice())", exitCode: 3)
                    case .failed:
                        if failure == nil {
                            failure = ClusterError("[coordinator] worker \(seat.name) failed: \(message.message ?? "?")",
                                                   exitCode: message.exitCode ?? 1)
                        }
                    default:
                        break
                    }
                    condition.broadcast()
                    condition.unlock()
                    if let (decision, targets) = broadcast {
                        // A rank that cannot be told is lost soon by its own reader (every rank
                        // waits for this message, so the run cannot go on without it).
                        for s in targets { try? s.member.channel.send(decision, timeout: 5) }
                    }
                    // An ignored `done` or `failed` does not end the reading: the seat's loss
                    // must still be seen.
                    if (message.kind == .done || message.kind == .failed) && !ignored { return }
                }
            }
            t.name = "coordinator-worker"
            t.start()
        }
        for seat in seats { startReader(seat) }

        let stopBeating = FinishedFlag()
        defer { stopBeating.set() }
        let heartbeat = Thread { [options] in
            while !stopBeating.isSet {
                Thread.sleep(forTimeInterval: options.heartbeatInterval)
                if stopBeating.isSet { break }
                condition.lock()
                let targets = seats.filter(\.alive)
                let stall = inspector.check(worldSize: ring.count, at: Date())
                condition.unlock()
                for s in targets { try? s.member.channel.send(ControlMessage(.progress), timeout: 5) }
                if let stall { progress.message("[coordinator] \(stall)") }
            }
        }
        heartbeat.name = "coordinator-heartbeat"
        heartbeat.start()

        if elastic {
            // Late admission: a worker that registers during the run (a restarted host, one
            // that lost its link and came back) joins the ring at the next commit point.
            let admission = Thread { [self] in
                var counted = Date()
                while !stopBeating.isSet {
                    if counted.timeIntervalSinceNow < -10 { logRefusalCounts(); counted = Date() }
                    guard handshakes.makeRoom(timeout: 0.5), let connection = try? listener.accept(timeout: 0.5) else { continue }
                    admit(connection, expectedFingerprint: fingerprint) { [self] member in
                        condition.lock()
                        if stopBeating.isSet || ring.filter(\.alive).count + joining.count >= options.worldSize {
                            condition.unlock()
                            refuse(member.channel, host: member.host, because: "the job already has its \(options.worldSize) workers")
                            return
                        }
                        let seat = Seat(member)
                        seat.rank = -1
                        seats.append(seat)
                        joining.append(seat)
                        startReader(seat)
                        options.log("[coordinator] worker \(member.host) pid \(member.pid) (ring address \(member.ringAddress)) registered during the run; it joins at the next checkpoint")
                        condition.broadcast()
                        condition.unlock()
                    }
                }
            }
            admission.name = "coordinator-late-admission"
            admission.start()
        }

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
            // A worker is gone or a ring broke: stop the step in flight everywhere, wait for
            // every live worker of the ring to report, and re-form the ring from those.
            let interrupted = ring.filter(\.alive)
            condition.unlock()
            var interrupt = ControlMessage(.interrupt)
            interrupt.generation = generation
            for s in interrupted { try? s.member.channel.send(interrupt, timeout: 2) }
            condition.lock()
            let settle = Date().addingTimeInterval(options.reformSettleSeconds)
            while failure == nil && ring.contains(where: { $0.alive && !$0.broken }) && Date() < settle {
                _ = condition.wait(until: settle)
            }
            if failure != nil { break }
            // Checkpoints and commits in the writer's hands land first: the new ring starts
            // from the newest of them.
            condition.unlock()
            writer.drain()
            condition.lock()
            if failure != nil { break }
            for s in ring where s.alive && !s.broken {
                lose(s, "did not answer the interrupt within \(Int(options.reformSettleSeconds)) s")
                s.alive = false
            }
            let joiners = joining.filter(\.alive)
            let survivors = ring.filter(\.alive) + joiners
            let gone = ring.filter { !$0.alive }
            let why = lost.joined(separator: "; ")
            joining = []
            growAtCommit = false
            if survivors.count < minWorkers {
                // The newest in-memory commit holds weights every rank agreed on: on disk, it
                // is what the exit code promises (a resume), instead of being thrown away.
                if let commit = lastCommit, commit.step > (store.checkpoints().last?.step ?? -1) {
                    do {
                        lastCheckpoint = try store.save(step: commit.step, encoded: commit.bytes)
                        options.log("[coordinator] wrote the in-memory commit of step \(commit.step) as a checkpoint before stopping")
                    } catch {
                        options.log("[coordinator] cannot write the in-memory commit of step \(commit.step): \(error)")
                    }
                }
                failure = ClusterError("[coordinator] lost \(why); \(survivors.count) workers left, fewer than --min-workers \(minWorkers); \(resumeAdvice())", exitCode: 3)
                break
            }
            generation += 1
            ring = survivors
            for (rank, s) in ring.enumerated() {
                s.rank = rank
                s.broken = false
            }
            done = 0
            pending = [:]
            summary = nil
            curve = nil
            lost = []
            inspector = StallInspector(minimumSeconds: options.stallSeconds)
            let seenStep = newestStep
            let thisGeneration = generation
            let commit = lastCommit
            condition.unlock()

            // Outside the lock: the new ring starts from the newest of the last checkpoint and
            // the last in-memory commit (or from the start).
            let loaded = store.latestValid(accepting: { file in model.flatMap { Trainer.rejection(of: file, model: $0) } })
            var state = loaded.flatMap { FileManager.default.contents(atPath: $0.path) }.map { [UInt8]($0) } ?? []
            var step = loaded?.step ?? 0
            var source = loaded?.path ?? "the start"
            if let commit, commit.step > step {
                (step, state, source) = (commit.step, commit.bytes, "the in-memory commit of step \(commit.step)")
            }
            try? runDirectory.truncateMetrics(after: step)
            let restarted: CoordinatorScheduler
            do {
                restarted = try CoordinatorScheduler(checkpoint: state, source: source)
            } catch {
                condition.lock()
                failure = failure ?? ClusterError("[coordinator] cannot re-form the ring from \(source): \(error)")
                break
            }
            if !joiners.isEmpty {
                options.log("[coordinator] admitting \(joiners.count) worker(s) at the commit point of step \(step): \(joiners.map { "\($0.member.host) pid \($0.member.pid)" }.joined(separator: ", "))")
            }
            options.log("[coordinator] " + (why.isEmpty ? "" : "lost \(why); ") + "re-forming the ring with \(survivors.count) workers (\(survivors.map(\.member.host).joined(separator: ", "))) from \(source) (step \(step)); about \(max(0, seenStep - step)) steps are redone"
                        + Self.batchNote(options.config, workers: survivors.count, plannedWorkers: options.worldSize))
            for s in gone { s.member.channel.connection.shutdown() }
            condition.lock()
            // The new ring replays the steps since `source`: so do the decisions.
            scheduler = restarted
            if options.config.restoreBest { store.protect(step: scheduler.state.bestStep) }
            condition.unlock()
            let addresses = survivors.map(\.member.ringAddress)
            for s in survivors {
                let a = assignment(rank: s.rank, addresses: addresses, resume: !state.isEmpty, generation: thisGeneration)
                try? s.member.channel.send(a, attachment: state)
            }
            condition.lock()
        }
        // The last checkpoint is on disk (or failed) before the summary names it.
        condition.unlock()
        writer.drain()
        condition.lock()
        // No more admissions: the late-admission thread checks this flag under the lock.
        stopBeating.set()
        let result = failure
        var final = summary
        let finalCurve = curve
        let finalRing = ring
        let allSeats = seats
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
        guard final != nil else { throw ClusterError("[coordinator] rank 0 finished without a summary") }
        // Relative to the run directory, as `checkpoints` is.
        final!.lastCheckpoint = lastCheckpoint.map { "checkpoints/" + ($0 as NSString).lastPathComponent } ?? final!.lastCheckpoint
        final!.checkpoints = store.checkpoints().map { "checkpoints/" + ($0.path as NSString).lastPathComponent }
        if let path = options.config.timeline {
            do {
                try ChromeTrace.write(traceEvents, to: path)
                options.log("[coordinator] timeline of \(finalRing.count) ranks: \(path) (open in chrome://tracing or ui.perfetto.dev)")
            } catch {
                options.log("[coordinator] \(error)")
            }
        }
        return .trained(final!)
    }
}
