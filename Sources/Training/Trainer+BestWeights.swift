import Checkpoints
import Foundation
import Tensors

/// The weights and batch-norm buffers of one step, copied out of the network's arenas.
struct WeightSnapshot {
    let step: Int
    let parameters: [Float]
    let buffers: [Float]

    init(step: Int, parameters: ParameterArena, buffers: ParameterArena) {
        self.step = step
        self.parameters = Array(UnsafeBufferPointer(start: parameters.pointer, count: parameters.count))
        self.buffers = Array(UnsafeBufferPointer(start: buffers.pointer, count: buffers.count))
    }

    func copy(into parameters: ParameterArena, _ buffers: ParameterArena) {
        self.parameters.withUnsafeBufferPointer { parameters.pointer.update(from: $0.baseAddress!, count: $0.count) }
        self.buffers.withUnsafeBufferPointer { if let b = $0.baseAddress { buffers.pointer.update(from: b, count: $0.count) } }
    }
}

extension Trainer {
    /// `restore_best`, after a validation that was the best so far: keeps its weights, and
    /// keeps the checkpoint of this step out of the retention.
    func keepBestWeights() {
        guard config.restoreBest else { return }
        bestWeights = WeightSnapshot(step: state.globalStep, parameters: network.parameters, buffers: network.buffers)
        store?.protect(step: state.globalStep)
    }

    /// `restore_best`, at the end of training: puts the best validation's weights back for the
    /// test evaluation. Returns their step; nil when the last step's weights are the best ones
    /// (or no validation ran). After a resume the weights come from the checkpoint of that
    /// step; a distributed worker, which has no run directory, keeps the last weights then
    /// and says so.
    func restoreBestWeights() -> Int? {
        guard config.restoreBest, let best = scheduler.state.bestStep, best != state.globalStep else { return nil }
        let monitor = config.schedule.monitor
        let value = scheduler.state.bestMetric.map { String(format: "%.4g", $0) } ?? "?"
        if let snapshot = bestWeights, snapshot.step == best {
            snapshot.copy(into: network.parameters, network.buffers)
        } else if let store {
            let path = store.path(step: best)
            do {
                let file = try SafeTensorsFile.read(path: path)
                try network.parameters.load(from: file)
                try network.buffers.load(from: file)
            } catch {
                // The run's own checkpoints stay as they are; only the test figures change.
                options.progress?.message("warning: restore_best: cannot read the best step's weights (\(error)); the test figures are of the last step's weights")
                return nil
            }
        } else {
            if communicator.rank == 0 {
                options.progress?.message("warning: restore_best: the best weights (step \(best)) were taken before this run resumed and are not in this worker's memory; the test figures are of the last step's weights (evaluate checkpoints/\(CheckpointStore.fileName(step: best)) for the best's)")
            }
            return nil
        }
        if communicator.rank == 0 {
            options.progress?.message("restore_best: the test evaluation uses the weights of step \(best), the best validation (\(monitor) \(value)), not those of the last step \(state.globalStep)")
        }
        return best
    }
}
