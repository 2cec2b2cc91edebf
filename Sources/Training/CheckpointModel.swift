import Checkpoints
import Layers
import Tensors

/// Which weights of a checkpoint a model is built from.
public enum CheckpointWeights: String, Sendable, CaseIterable {
    /// The trained weights themselves.
    case raw
    /// The exponential moving average (`ema_decay`), stored as `ema.*` tensors.
    case ema
}

/// A model restored from a checkpoint file for evaluation: the network and the state it was
/// trained with (normalisation, classes, config).
public struct CheckpointModel {
    public let path: String
    public let network: Network
    public let state: TrainingState
    public let weights: CheckpointWeights

    /// Reads and verifies `path` (both checksums), rebuilds the model it names and loads its
    /// weights and running statistics. A missing tensor or a wrong shape names the tensor.
    /// `weights: .ema` loads the weight average instead (an error when the file has none).
    public init(path: String, maxBatch: Int = 256, weights: CheckpointWeights = .raw) throws {
        let file = try SafeTensorsFile.read(path: path, integrity: .required)
        guard let text = file.state else {
            throw CheckpointError(.mismatch, file: path, field: SafeTensorsFile.stateKey, "missing: not a RingTrain checkpoint")
        }
        let state = try TrainingState.parse(text, file: path)
        guard state.inputShape.count == 3 else {
            throw CheckpointError(.badHeader, file: path, field: "ringtrain.state.input_shape", "must have 3 entries")
        }
        let network = try Network(spec: state.model,
                                  inputShape: (state.inputShape[0], state.inputShape[1], state.inputShape[2]),
                                  classes: state.classes, seed: state.seed, maxBatch: maxBatch)
        switch weights {
        case .raw:
            try network.parameters.load(from: file)
            try network.buffers.load(from: file)
        case .ema:
            guard (state.emaUpdates ?? 0) > 0 else {
                throw CheckpointError(.mismatch, file: path, field: "ringtrain.state.ema_updates",
                                      "the checkpoint holds no weight average (train with ema_decay to have one); use the raw weights")
            }
            try network.parameters.load(from: file, prefix: WeightAverage.tensorPrefix)
            try network.buffers.load(from: file, prefix: WeightAverage.tensorPrefix)
        }
        self.weights = weights
        self.path = path
        self.network = network
        self.state = state
    }
}
