import Checkpoints
import Codecs

/// Error-feedback residuals of the lossy codec travel in checkpoints as `residual.<bucket>`.
extension ResidualStore {
    static func prefix(rank: Int?) -> String { rank.map { "residual.\($0)." } ?? "residual." }

    /// `residual.<bucket>` alone, `residual.<rank>.<bucket>` in a distributed run.
    func safeTensors(rank: Int?) -> [SafeTensor] {
        let prefix = Self.prefix(rank: rank)
        return snapshot().sorted { $0.key < $1.key }.map { bucket, values in
            SafeTensor(name: prefix + "\(bucket)", shape: [values.count], values: values)
        }
    }

    /// Restores this rank's residuals from a checkpoint. With another world size the buckets
    /// mean other things, so error feedback restarts from zero.
    func restore(from file: SafeTensorsFile, rank: Int?, sameWorld: Bool) {
        reset()
        guard sameWorld else { return }
        let prefix = Self.prefix(rank: rank)
        for t in file.tensors where t.name.hasPrefix(prefix) {
            if let bucket = Int(t.name.dropFirst(prefix.count)) { set(bucket: bucket, t.values) }
        }
    }
}
