import Foundation

/// What an exported model carries besides its graph: how to prepare its input and what its
/// outputs mean. Taken from the checkpoint's training state by the caller, so this target
/// needs only the network, not the training code.
public struct ExportMetadata: Sendable, Equatable {
    /// The model's name for people (the built-in name, or the layer list), also the graph name.
    public var modelName: String
    /// One name per logit, in logit order.
    public var classNames: [String]
    /// Per-sample input [C, H, W].
    public var inputShape: [Int]
    /// Per-channel normalisation of the training data: the model sees (pixel/255 - mean[c]) / std[c].
    public var mean: [Float]
    public var std: [Float]
    /// The version of the program that writes the file (ModelProto.producer_version).
    public var producerVersion: String

    public init(modelName: String, classNames: [String], inputShape: [Int], mean: [Float], std: [Float],
                producerVersion: String) {
        self.modelName = modelName; self.classNames = classNames; self.inputShape = inputShape
        self.mean = mean; self.std = std; self.producerVersion = producerVersion
    }

    /// Per channel, the mean and std the training pipeline actually used: Augmenter.apply takes
    /// a missing mean as 0 and a missing or non-positive std as 1.
    func effectiveNormalization(channels: Int) -> (mean: [Float], std: [Float]) {
        let m = (0..<channels).map { c in mean.count > c ? mean[c] : 0 }
        let s = (0..<channels).map { c in std.count > c && std[c] > 0 ? std[c] : 1 }
        return (m, s)
    }

    /// ModelProto.metadata_props: JSON arrays for lists, so any runtime's reader can parse them.
    func properties() throws -> [(key: String, value: String)] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]  // "T-shirt/top", as written
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        // Floats by hand: Swift's description is the shortest text that reads back to the same
        // Float (0.286, not 0.28600001335144043 as a Double conversion would print).
        func floats(_ values: [Float]) -> String { "[" + values.map { "\($0)" }.joined(separator: ",") + "]" }
        return [
            ("model", modelName),
            ("class_names", try json(classNames)),
            ("input_shape", try json(inputShape)),
            ("input_scaling", "pixel/255"),
            ("normalization_mean", floats(mean)),
            ("normalization_std", floats(std)),
            ("ringtrain_version", producerVersion),
        ]
    }
}
