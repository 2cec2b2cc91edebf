import Layers
import Tensors

/// An exported model: the message, its bytes, and the figures a caller reports.
public struct ONNXExport {
    public let model: ONNXModel
    public let bytes: [UInt8]
    public var nodeCount: Int { model.graph.nodes.count }
    public var initializerCount: Int { model.graph.initializers.count }
    public var opsetVersion: Int { ONNXExporter.opsetVersion }
}

/// Writes a network as an ONNX inference graph:
///
///     input [batch, C, H, W] float32, pixel/255
///       -> Sub(mean [1, C, 1, 1]) -> Div(std [1, C, 1, 1])     the training normalisation
///       -> the layers, in order                                 Conv, BatchNormalization, ...
///       -> logits [batch, classes] -> Softmax(axis 1) -> probabilities [batch, classes]
///
/// The normalisation is two explicit nodes rather than folded into the first convolution:
/// the first convolution's weights stay the checkpoint's, and the graph shows what it does
/// to its input. Batch norm stays BatchNormalization (running statistics) for the same reason;
/// runtimes fold it themselves. Dropout is left out (evaluation). The batch dimension is the
/// symbol `batch`, so any batch size runs.
public enum ONNXExporter {
    /// IR version 8 (ONNX 1.10+) with opset 17 (ONNX 1.12+), which every maintained runtime reads.
    public static let irVersion = 8
    public static let opsetVersion = 17
    public static let producerName = "ringtrain"
    public static let inputName = "input", logitsName = "logits", probabilitiesName = "probabilities"
    public static let batchDimension = "batch"

    public static func export(_ network: Network, metadata: ExportMetadata) throws -> ONNXExport {
        try export(layers: network.layers, parameters: network.parameters, buffers: network.buffers, metadata: metadata)
    }

    /// The same for a layer list bound to `parameters` and `buffers` (a network's, usually).
    public static func export(layers: [Layer], parameters: ParameterArena, buffers: ParameterArena,
                              metadata: ExportMetadata) throws -> ONNXExport {
        let shape = metadata.inputShape
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
            throw ExportError.badMetadata(field: "input_shape", reason: "\(shape) is not a [C, H, W] shape")
        }
        guard let first = layers.first else { throw ExportError.badMetadata(field: "layers", reason: "the network has none") }
        guard first.inputShape == shape else {
            throw ExportError.badMetadata(field: "input_shape", reason: "\(shape), but the network takes \(first.inputShape)")
        }
        for (field, values) in [("normalization_mean", metadata.mean), ("normalization_std", metadata.std)]
        where !values.allSatisfy(\.isFinite) {
            throw ExportError.badMetadata(field: field, reason: "\(values) is not finite")
        }
        var builder = GraphBuilder(parameters: parameters, buffers: buffers)
        var x = GraphValue(name: inputName, shape: shape)
        x = normalize(x, metadata: metadata, into: &builder)
        for (i, layer) in layers.enumerated() {
            x = try builder.emit(layer, x, label: layerName(layer) ?? String(i), place: LayerPlace(index: i, within: nil))
        }
        guard x.shape.count == 1 else {
            throw ExportError.badMetadata(field: "layers", reason: "the network ends with \(x.shape), not [classes] logits")
        }
        let classes = x.shape[0]
        guard metadata.classNames.count == classes else {
            throw ExportError.badMetadata(field: "class_names",
                                          reason: "\(metadata.classNames.count) names for \(classes) logits")
        }
        x = finishLogits(x, into: &builder)
        _ = builder.node("Softmax", label: "softmax", inputs: [x.name], attributes: [.int("axis", 1)])
        builder.renameLastOutput(to: probabilitiesName)

        let batch = ONNXValueInfo.Dimension.parameter(batchDimension)
        let graph = ONNXGraph(
            name: metadata.modelName,
            docString: "RingTrain \(metadata.modelName): input float32 [batch, \(shape.map(String.init).joined(separator: ", "))]"
                + " holds pixel/255 in [0, 1], normalised inside the graph; outputs logits and their softmax.",
            nodes: builder.nodes, initializers: builder.initializers,
            inputs: [ONNXValueInfo(name: inputName, dims: [batch] + shape.map { .value($0) })],
            outputs: [ONNXValueInfo(name: logitsName, dims: [batch, .value(classes)]),
                      ONNXValueInfo(name: probabilitiesName, dims: [batch, .value(classes)])])
        let model = ONNXModel(irVersion: irVersion, opsetImports: [("", opsetVersion)], producerName: producerName,
                              producerVersion: metadata.producerVersion, graph: graph,
                              metadata: try metadata.properties())
        return ONNXExport(model: model, bytes: model.encoded().bytes)
    }

    /// (x - mean[c]) / std[c] with [1, C, 1, 1] initializers broadcast over the batch and the
    /// plane, exactly the float operations the training pipeline applies after pixel/255.
    static func normalize(_ x: GraphValue, metadata: ExportMetadata, into builder: inout GraphBuilder) -> GraphValue {
        let channels = x.shape[0]
        let (mean, std) = metadata.effectiveNormalization(channels: channels)
        let m = builder.constant("normalization.mean", dims: [1, channels, 1, 1], values: mean)
        let s = builder.constant("normalization.std", dims: [1, channels, 1, 1], values: std)
        let centred = builder.node("Sub", label: "normalization", inputs: [x.name, m])
        return GraphValue(name: builder.node("Div", label: "normalization", inputs: [centred, s]), shape: x.shape)
    }

    /// Names the logits `logits`. A network whose last layer adds no node (a trailing dropout,
    /// or no layer at all after the input) gets an Identity to carry the name.
    static func finishLogits(_ x: GraphValue, into builder: inout GraphBuilder) -> GraphValue {
        if builder.nodes.last?.outputs.first != x.name {
            _ = builder.node("Identity", label: "logits", inputs: [x.name])
        }
        builder.renameLastOutput(to: logitsName)
        return GraphValue(name: logitsName, shape: x.shape)
    }
}
