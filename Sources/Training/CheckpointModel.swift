import Checkpoints
import Layers
import Tensors

/// A model restored from a checkpoint file for evaluation: the network and the state it was
/// trained with (normalisation, classes, config).
public struct CheckpointModel {
    public let path: String
    public let network: Network
    public let state: TrainingState

    /// Reads and verifies `path` (both checksums), rebuilds the model it names and loads its
    /// weights and running statistics. A missing tensor or a wrong shape names the tensor.
    public init(path: String, maxBatch: Int = 256) throws {
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
        try network.parameters.load(from: file)
        try network.buffers.load(from: file)
        self.path = path
        self.network = network
        self.state = state
    }
}
