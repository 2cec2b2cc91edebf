import Checkpoints

/// One rank's share of a distributed checkpoint, handed to `Trainer.Options.checkpointSink`;
/// the coordinator assembles the parts of all ranks and writes the one file.
public struct CheckpointPart {
    public var step: Int
    /// SHA-256 (hex) of the weights: the bytes of the first `hashedTensors` tensors, in order.
    public var weightsHash: String
    /// Rank 0: weights, buffers, optimizer state (and the weight average), then its codec
    /// residuals; other ranks: their residuals only.
    public var tensors: [SafeTensor]
    /// How many leading `tensors` are the weights `weightsHash` covers (rank 0; 0 elsewhere),
    /// so the coordinator can check what it writes against what the ranks agreed on.
    public var hashedTensors: Int
    /// Rank 0: the training state JSON.
    public var state: String?
    /// An in-memory commit (`commit_every`), kept for elastic re-formation, not written.
    public var commitOnly: Bool
}
