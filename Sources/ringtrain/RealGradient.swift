import Datasets
import Kernels
import Training

/// One real gradient for the codec benchmark: the checkpoint's model, in training mode, on
/// the first `batch` images of its data set's training split (normalised as in training).
func realGradient(checkpoint path: String, batch: Int) throws -> [Float] {
    let model = try CheckpointModel(path: path, maxBatch: batch)
    let dataset = try model.state.config.loadDataset()
    let assembler = BatchAssembler(data: dataset.train, mean: model.state.normalizationMean,
                                   std: model.state.normalizationStd, seed: model.state.seed)
    let b = assembler.makeBatch(capacity: batch)
    assembler.fill(b, indices: ArraySlice(0..<min(batch, dataset.train.count)), epoch: 0)
    let net = model.network
    let classes = net.classes
    var dLogits = [Float](repeating: 0, count: b.count * classes)
    net.gradients.zero()
    let logits = net.forward(b.images.pointer, batch: b.count, training: true, step: model.state.globalStep)
    _ = b.labels.withUnsafeBufferPointer { labels in
        softmaxCrossEntropy(dLogits: &dLogits, logits: logits.baseAddress!, labels: labels.baseAddress!,
                            batch: b.count, classes: classes)
    }
    net.backward(dLogits: dLogits, batch: b.count, gradientReady: nil)
    return net.gradients.storage.array
}
