import Datasets
import Foundation
import Layers
import Tensors

/// Class probabilities of images for one model or an ensemble (the mean of the members'
/// softmax outputs), from records prepared as the models' training images were.
public final class Predictor {
    public let models: [CheckpointModel]
    public let classNames: [String]
    public let inputShape: [Int]
    let mean: [Float], std: [Float]
    let batch: Batch
    let assembler: RecordNormaliser

    /// All members must agree on input shape, classes and normalisation (an error names the
    /// first that does not).
    public init(models: [CheckpointModel], batchSize: Int) throws {
        precondition(!models.isEmpty, "a predictor needs a model")
        let first = models[0].state
        for m in models.dropFirst() {
            guard m.state.inputShape == first.inputShape, m.state.classes == first.classes else {
                throw ConfigurationError(key: "--checkpoint", "\(m.path) has input \(m.state.inputShape) and \(m.state.classes) classes; \(models[0].path) has \(first.inputShape) and \(first.classes): not one ensemble")
            }
            guard m.state.normalizationMean == first.normalizationMean, m.state.normalizationStd == first.normalizationStd else {
                throw ConfigurationError(key: "--checkpoint", "\(m.path) was trained with another input normalisation than \(models[0].path)")
            }
        }
        self.models = models
        inputShape = first.inputShape
        classNames = ClassNames.complete(first.classNames.count == first.classes ? first.classNames : nil, count: first.classes)
        mean = first.normalizationMean
        std = first.normalizationStd
        let capacity = max(1, min(batchSize, models.map(\.network.maxBatch).min()!))
        batch = Batch(capacity: capacity, imageSize: first.inputShape.reduce(1, *))
        assembler = RecordNormaliser(mean: mean, std: std, shape: first.inputShape)
    }

    public var batchCapacity: Int { batch.capacity }
    public var classCount: Int { classNames.count }

    /// How new images must be made into records: the training data's own recipe, or for IDX
    /// and CIFAR models, the model's input size with a centre crop.
    public var preparation: ImagePreparation {
        models[0].state.inputPreparation
            ?? ImagePreparation(width: inputShape[2], height: inputShape[1], channels: inputShape[0])
    }

    /// Members' weights (nil: equal) and how they are combined (see `EnsembleRule`).
    public var memberWeights: [Double]? = nil
    public var combine: EnsembleCombine = .mean

    /// Probabilities [records.count, classes] for up to `batchCapacity` records (CHW bytes):
    /// the members' (weighted) mean softmax output.
    public func probabilities(_ records: [[UInt8]]) -> [Float] {
        predictions(records).flatMap { $0.probabilities.map(Float.init) }
    }

    /// Per record, the combined probabilities and (`vote`) the vote totals.
    public func predictions(_ records: [[UInt8]]) -> [(probabilities: [Double], votes: [Double]?)] {
        precondition(records.count <= batch.capacity, "more records than the batch holds")
        let n = records.count, k = classCount
        for (i, r) in records.enumerated() {
            assembler.normalise(r, into: batch.images.pointer + i * batch.imageSize)
        }
        let members = models.map { model in
            Evaluator.softmaxRows(model.network.forward(batch.images.pointer, batch: n, training: false, step: 0), n: n, classes: k)
        }
        return (0..<n).map { i in EnsembleRule.combine(members.map { $0[i] }, weights: memberWeights, rule: combine) }
    }

    /// The k first classes of a prediction: (index, probability), by votes when there are
    /// any, then by probability, then by index.
    public static func top(_ prediction: (probabilities: [Double], votes: [Double]?), k: Int) -> [(Int, Float)] {
        let p = prediction.probabilities, v = prediction.votes
        return p.indices.sorted { a, b in
            if let v, v[a] != v[b] { return v[a] > v[b] }
            return p[a] != p[b] ? p[a] > p[b] : a < b
        }.prefix(k).map { ($0, Float(p[$0])) }
    }

    /// The k most probable classes of row `i`: (index, probability), most probable first.
    public static func top(_ probabilities: [Float], row i: Int, classes: Int, k: Int) -> [(Int, Float)] {
        let row = Array(probabilities[(i * classes)..<((i + 1) * classes)].enumerated())
        return row.sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
            .prefix(k).map { ($0.offset, $0.element) }
    }
}

/// `(pixel / 255 - mean[c]) / std[c]`, exactly as training normalises (Augmenter's formula).
struct RecordNormaliser {
    let mean: [Float], std: [Float], shape: [Int]

    func normalise(_ record: [UInt8], into out: UnsafeMutablePointer<Float>) {
        let plane = shape[1] * shape[2]
        for c in 0..<shape[0] {
            let m = mean.count > c ? mean[c] : 0
            let s = std.count > c && std[c] > 0 ? std[c] : 1
            for j in 0..<plane { out[c * plane + j] = (Float(record[c * plane + j]) / 255 - m) / s }
        }
    }
}
