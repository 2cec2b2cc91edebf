import Checkpoints
import Codecs

/// Error-feedback residuals of the lossy codec travel in checkpoints as `residual.<bucket>`.
extension ResidualStore {
    func safeTensors() -> [SafeTensor] {
        snapshot().sorted { $0.key < $1.key }.map { bucket, values in
            SafeTensor(name: "residual.\(bucket)", shape: [values.count], values: values)
        }
    }

    /// Restores the residuals of a checkpoint. With another world size the buckets mean other
    /// things, so the residuals start from zero (a lossless restart of error feedback).
    func restore(from file: SafeTensorsFile, sameWorld: Bool) {
        reset()
        guard sameWorld else { return }
        for t in file.tensors where t.name.hasPrefix("residual.") {
            if let bucket = Int(t.name.dropFirst("residual.".count)) { set(bucket: bucket, t.values) }
        }
    }
}
