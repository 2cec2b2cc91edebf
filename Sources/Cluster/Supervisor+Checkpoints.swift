import Checkpoints
import Foundation
import Training

extension Supervisor {
    /// Called with the lock held once every rank's part of `step` is in: checks them and
    /// hands them to the writer.
    func writeCheckpoint(step: Int, _ c: Coordinator.PendingCheckpoint) {
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
        writer.async { [self] in
            write(step: step, tensors: tensors, hashed: hashed, agreed: agreed, state: state, commit: c.commit, generation: thisGeneration)
        }
    }

    /// On the writer thread, without the lock: the weights must be the ones every rank agreed
    /// on, byte for byte; then an in-memory commit is encoded, a checkpoint written. The lock
    /// is taken only to publish the result.
    func write(step: Int, tensors: [SafeTensor], hashed: Int, agreed: String, state: String, commit: Bool, generation thisGeneration: Int) {
        if let why = Coordinator.weightsMismatch(tensors, hashed: hashed, agreed: agreed) {
            condition.lock()
            failure = failure ?? ClusterError("[coordinator] the checkpoint of step \(step) is not written: \(why)")
            condition.broadcast()
            condition.unlock()
            return
        }
        if commit {
            let bytes = try? SafeTensorsFile.encode(tensors: tensors, metadata: [SafeTensorsFile.stateKey: state], path: "commit of step \(step)")
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
