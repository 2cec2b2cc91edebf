import Checkpoints
import Foundation
import Training

extension Supervisor {
    /// With the lock held (and held again on return): a worker is gone, a ring broke, or
    /// workers wait to join. Stops the step in flight everywhere, waits for every live worker
    /// of the ring to report, and re-forms the ring from those, from the newest checkpoint or
    /// in-memory commit. False when the run must end instead (`failure` says why).
    func reform() -> Bool {
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
        if failure != nil { return false }
        // Checkpoints and commits in the writer's hands land first: the new ring starts from
        // the newest of them.
        condition.unlock()
        writer.drain()
        condition.lock()
        if failure != nil { return false }
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
            stopBelowTheMinimum(survivors: survivors.count, why: why)
            return false
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
        let seenStep = newestStep, thisGeneration = generation, commit = lastCommit
        condition.unlock()

        // Outside the lock: the new ring starts from the newest of the last checkpoint and the
        // last in-memory commit (or from the start).
        let loaded = store.latestValid(accepting: rejection)
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
            return false
        }
        if !joiners.isEmpty {
            options.log("[coordinator] admitting \(joiners.count) worker(s) at the commit point of step \(step): \(joiners.map { "\($0.member.host) pid \($0.member.pid)" }.joined(separator: ", "))")
        }
        options.log("[coordinator] " + (why.isEmpty ? "" : "lost \(why); ") + "re-forming the ring with \(survivors.count) workers (\(survivors.map(\.member.host).joined(separator: ", "))) from \(source) (step \(step)); about \(max(0, seenStep - step)) steps are redone"
                    + Coordinator.batchNote(options.config, workers: survivors.count, plannedWorkers: options.worldSize))
        for s in gone { s.member.channel.connection.shutdown() }
        condition.lock()
        // The new ring replays the steps since `source`: so do the decisions.
        scheduler = restarted
        if options.config.restoreBest { store.protect(step: scheduler.state.bestStep) }
        condition.unlock()
        let addresses = survivors.map(\.member.ringAddress)
        for s in survivors {
            let a = coordinator.assignment(rank: s.rank, addresses: addresses, resume: !state.isEmpty, generation: thisGeneration)
            try? s.member.channel.send(a, attachment: state)
        }
        condition.lock()
        return true
    }

    /// With the lock held: fewer than `minWorkers` are left. The newest in-memory commit holds
    /// weights every rank agreed on: on disk, it is what exit 3 promises (a resume), instead of
    /// being thrown away.
    func stopBelowTheMinimum(survivors: Int, why: String) {
        if let commit = lastCommit, commit.step > (store.checkpoints().last?.step ?? -1) {
            do {
                lastCheckpoint = try store.save(step: commit.step, encoded: commit.bytes)
                options.log("[coordinator] wrote the in-memory commit of step \(commit.step) as a checkpoint before stopping")
            } catch {
                options.log("[coordinator] cannot write the in-memory commit of step \(commit.step): \(error)")
            }
        }
        failure = ClusterError("[coordinator] lost \(why); \(survivors) workers left, fewer than --min-workers \(minWorkers); \(resumeAdvice())", exitCode: 3)
    }
}
