import Foundation
import Kernels
import Layers

// One layer at a time into ONNX nodes (opset 17). Each layer's output shape as ONNX computes
// it is checked against the shape the layer itself produces, so a geometry this exporter does
// not model (a padding or rounding mode added later) is an error, never a silently wrong graph.

extension GraphBuilder {
    /// Emits `layer` applied to `x`; returns its output.
    mutating func emit(_ layer: Layer, _ x: GraphValue, label: String, place: LayerPlace) throws -> GraphValue {
        func unsupported(_ reason: String) -> ExportError {
            .unsupportedLayer(index: place.index, type: layerTypeName(layer), name: layerName(layer) ?? "-",
                              within: place.within, reason: reason)
        }
        func needImage() throws -> (channels: Int, height: Int, width: Int) {
            guard x.shape.count == 3 else { throw unsupported("needs an image input [C, H, W], gets \(x.shape)") }
            return (x.shape[0], x.shape[1], x.shape[2])
        }
        let y: GraphValue
        switch layer {
        case let conv as Conv2dLayer:
            let d = conv.convolution, input = try needImage()
            guard input.channels == d.inChannels else { throw unsupported("gets \(input.channels) channels, has \(d.inChannels)") }
            var inputs = [x.name, try arenaTensor(d.weightName, dims: [d.outChannels, d.inChannels, d.kernel, d.kernel])]
            if let bias = d.biasName { inputs.append(try arenaTensor(bias, dims: [d.outChannels])) }
            let out = node("Conv", label: label, inputs: inputs, attributes: [
                .ints("kernel_shape", [d.kernel, d.kernel]), .ints("strides", [d.stride, d.stride]),
                .ints("pads", [d.padding, d.padding, d.padding, d.padding]), .ints("dilations", [1, 1]),
                .int("group", 1),
            ])
            y = GraphValue(name: out, shape: [d.outChannels,
                                              windows(input.height, d.kernel, d.stride, d.padding),
                                              windows(input.width, d.kernel, d.stride, d.padding)])
        case let bn as BatchNormLayer:
            let d = bn.normalization
            guard x.shape.first == d.channels else { throw unsupported("gets shape \(x.shape), normalises \(d.channels) channels") }
            let inputs = [x.name] + (try [d.scaleName, d.shiftName, d.runningMeanName, d.runningVarName]
                .map { try arenaTensor($0, dims: [d.channels]) })
            // Kept as BatchNormalization (evaluation mode: running statistics), not folded into
            // the convolution before it, so every initializer is a checkpoint tensor as it is.
            y = GraphValue(name: node("BatchNormalization", label: label, inputs: inputs,
                                      attributes: [.float("epsilon", d.epsilon)]), shape: x.shape)
        case let activation as ActivationLayer:
            y = GraphValue(name: emitActivation(activation.activation, x.name, label: label), shape: x.shape)
        case let pool as PoolLayer:
            y = try emitPool(pool.pooling, x, input: try needImage(), label: label, unsupported: unsupported)
        case is GlobalAvgPoolLayer:
            let input = try needImage()
            let pooled = node("GlobalAveragePool", label: label, inputs: [x.name])
            // ONNX keeps [C, 1, 1]; our layer outputs [C] features.
            y = GraphValue(name: node("Flatten", label: label, inputs: [pooled], attributes: [.int("axis", 1)]),
                           shape: [input.channels])
        case is FlattenLayer:
            y = GraphValue(name: node("Flatten", label: label, inputs: [x.name], attributes: [.int("axis", 1)]),
                           shape: [x.shape.reduce(1, *)])
        case let linear as LinearLayer:
            let d = linear.linear
            var input = x
            if x.shape.count != 1 {
                // Our linear layer reads any input as its NCHW flatten; Gemm needs [batch, features].
                input = GraphValue(name: node("Flatten", label: label, inputs: [x.name], attributes: [.int("axis", 1)]),
                                   shape: [x.shape.reduce(1, *)])
            }
            guard input.shape[0] == d.inFeatures else { throw unsupported("gets \(input.shape[0]) features, has \(d.inFeatures)") }
            let w = try arenaTensor(d.weightName, dims: [d.outFeatures, d.inFeatures])
            let b = try arenaTensor(d.biasName, dims: [d.outFeatures])
            // Gemm: input [N, in] times weight^T ([out, in], PyTorch's layout, hence transB).
            y = GraphValue(name: node("Gemm", label: label, inputs: [input.name, w, b], attributes: [.int("transB", 1)]),
                           shape: [d.outFeatures])
        case is DropoutLayer:
            y = x  // evaluation: the identity, so no node at all
        case let block as ResidualBlock:
            y = try emitResidual(block, x, label: label, place: place)
        default:
            throw unsupported("ONNX export does not know this layer type")
        }
        guard y.shape == layer.outputShape else {
            throw unsupported("the ONNX graph would produce \(y.shape) per sample, the layer produces \(layer.outputShape)")
        }
        return y
    }

    private mutating func emitActivation(_ kind: Activation, _ x: String, label: String) -> String {
        switch kind {
        case .relu: return node("Relu", label: label, inputs: [x])
        case .leakyRelu(let slope): return node("LeakyRelu", label: label, inputs: [x], attributes: [.float("alpha", slope)])
        case .elu(let alpha): return node("Elu", label: label, inputs: [x], attributes: [.float("alpha", alpha)])
        }
    }

    private mutating func emitPool(_ d: PoolingDescription, _ x: GraphValue, input: (channels: Int, height: Int, width: Int),
                                   label: String, unsupported: (String) -> ExportError) throws -> GraphValue {
        var attributes: [ONNXAttribute] = [
            .ints("kernel_shape", [d.size, d.size]), .ints("strides", [d.stride, d.stride]),
            .ints("pads", [d.padding, d.padding, d.padding, d.padding]),
        ]
        let op: String
        switch d.kind {
        case .max: op = "MaxPool"
        case .average:
            // With padding, the divisor (window or valid count) is a convention our pooling
            // does not have yet; refuse rather than guess.
            guard d.padding == 0 else { throw unsupported("average pooling with padding \(d.padding)") }
            op = "AveragePool"
            attributes.append(.int("count_include_pad", 0))
        }
        return GraphValue(name: node(op, label: label, inputs: [x.name], attributes: attributes),
                          shape: [input.channels, windows(input.height, d.size, d.stride, d.padding),
                                  windows(input.width, d.size, d.stride, d.padding)])
    }

    /// relu(main(x) + shortcut(x)), the shortcut the identity when it has no layers.
    private mutating func emitResidual(_ block: ResidualBlock, _ x: GraphValue, label: String,
                                       place: LayerPlace) throws -> GraphValue {
        let inner = LayerPlace(index: place.index, within: "\(layerTypeName(block)) \"\(block.name)\"")
        var main = x
        for (i, l) in block.mainPath.enumerated() {
            main = try emit(l, main, label: layerName(l) ?? "\(block.name).\(i)", place: inner)
        }
        var shortcut = x
        for (i, l) in block.shortcutPath.enumerated() {
            shortcut = try emit(l, shortcut, label: layerName(l) ?? "\(block.name).shortcut.\(i)", place: inner)
        }
        guard main.shape == shortcut.shape else {
            throw ExportError.unsupportedLayer(index: place.index, type: layerTypeName(block), name: block.name,
                                               within: place.within,
                                               reason: "main path gives \(main.shape), shortcut \(shortcut.shape)")
        }
        let sum = node("Add", label: block.name, inputs: [main.name, shortcut.name])
        return GraphValue(name: emitActivation(block.activationAfterSum, sum, label: block.name), shape: main.shape)
    }
}

/// Output size of a window sliding over `size` (floor rounding, as our kernels and ONNX's
/// default ceil_mode 0).
func windows(_ size: Int, _ window: Int, _ stride: Int, _ padding: Int) -> Int {
    (size + 2 * padding - window) / stride + 1
}

/// The layer's Swift type, as errors show it.
func layerTypeName(_ layer: Layer) -> String { String(describing: type(of: layer)) }

/// The layer's `name` (its state_dict prefix) when it has one: read by reflection, so a layer
/// type this exporter does not know is still named in the error.
func layerName(_ layer: Layer) -> String? {
    Mirror(reflecting: layer).children.first { $0.label == "name" }?.value as? String
}
