import Checkpoints
import Foundation
import Optim
import Telemetry
import Training

extension Supervisor {
    /// With the lock held: one message from `seat`. Returns a message to send to some seats
    /// (a scheduling verdict), to be sent after the lock is released, and whether this seat's
    /// reading ends (its `done` or `failed` counted).
    func handle(_ message: ControlMessage, attachment: [UInt8], from seat: Seat) -> (reply: (ControlMessage, [Seat])?, ends: Bool) {
        // Parts, `done` and `failed` count only from a member of the current ring (parts and
        // `done` of its generation too): a dropped worker's late part must not complete the
        // next ring's checkpoint, nor its `done` end it.
        let member = ring.contains(where: { $0 === seat })
        let current = member && (message.generation ?? 0) == generation
        switch message.kind {
        case .checkpointPart where !current, .done where !current, .failed where !member:
            options.log("[coordinator] ignored a \(message.kind.rawValue) message from worker \(seat.name), which is not in the ring of generation \(generation)")
            return (nil, false)
        case .evaluation:
            return (decide(message, from: seat), false)
        case .progress:
            onProgress(message, from: seat, member: member)
        case .log:
            if let text = message.message { progress.message(text) }
        case .ringReady:
            if seat.rank == 0 {
                options.log("[coordinator] ring of \(ring.count) formed and checked" + (generation > 0 ? " (re-formation \(generation))" : ""))
            }
        case .metrics:
            if let text = message.record, let record = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
                runDirectory.appendMetrics(record, warningOnce: warnMetrics)
            }
        case .checkpointPart:
            onCheckpointPart(message, attachment: attachment, from: seat)
        case .trace:
            if let events = try? JSONDecoder().decode([TraceEvent].self, from: Data(attachment)) {
                traceEvents += events
            } else {
                options.log("[coordinator] rank \(seat.rank) sent an unreadable timeline; it is left out")
            }
        case .ringBroken:
            onRingBroken(message, from: seat)
        case .done:
            done += 1
            if seat.rank == 0 { (summary, curve) = (message.summary, message.lrCurve) }
            return (nil, true)
        case .failed:
            onFailed(message, from: seat)
            return (nil, true)
        default:
            break
        }
        return (nil, false)
    }

    func onProgress(_ message: ControlMessage, from seat: Seat, member: Bool) {
        if let text = message.message { progress.showRaw(text) }
        if let step = message.step, let phase = message.phase, member {
            inspector.observe(rank: seat.rank, step: step, phase: phase, at: Date())
            newestStep = max(newestStep, step)
        }
    }

    func onRingBroken(_ message: ControlMessage, from seat: Seat) {
        seat.broken = true
        newestStep = max(newestStep, message.step ?? 0)
        if lost.isEmpty && !elastic && failure == nil {
            failure = ClusterError("[coordinator] worker \(seat.name) lost its ring: \(message.message ?? "?")", exitCode: 3)
        }
    }

    func onFailed(_ message: ControlMessage, from seat: Seat) {
        if message.exitCode == 3 {
            ringFailure = ringFailure ?? ClusterError("[coordinator] worker \(seat.name) lost its ring: \(message.message ?? "?"); \(resumeAdvice())", exitCode: 3)
        } else if failure == nil {
            failure = ClusterError("[coordinator] worker \(seat.name) failed: \(message.message ?? "?")", exitCode: message.exitCode ?? 1)
        }
    }

    /// One rank's part of a checkpoint; the last part of a step hands the checkpoint over.
    func onCheckpointPart(_ message: ControlMessage, attachment: [UInt8], from seat: Seat) {
        guard let step = message.step, let hash = message.hash else { return }
        let tensors: [SafeTensor]
        do {
            guard step >= 0 else { throw Coordinator.PartError("step \(step) is negative") }
            tensors = try Coordinator.decodeTensors(message.tensors ?? [], attachment)
        } catch {
            failure = failure ?? ClusterError("[coordinator] worker \(seat.name) sent a checkpoint part that does not add up: \(error)")
            return
        }
        var c = pending[step] ?? Coordinator.PendingCheckpoint()
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
}
