import Kernels

// Read-only views of what each layer computes, for exporters (ONNX, see ModelExport): the
// geometry a graph needs and the state_dict names of the tensors that hold the layer's values
// (read from the network's parameter and buffer arenas). Nothing here changes a layer, and a
// layer's runtime fusions (a max-pool that applies the ReLU after it, a first convolution that
// pools its own output) are invisible: each layer describes the operation of the spec.

/// A convolution: square kernel, the same stride and zero padding on both axes, group 1.
public struct ConvolutionDescription: Sendable, Equatable {
    public let inChannels, outChannels, kernel, stride, padding: Int
    /// `PREFIX.weight` [out, in, k, k] and `PREFIX.bias` [out] (nil: no bias).
    public let weightName: String
    public let biasName: String?
}

/// Max or average pooling over square windows.
public struct PoolingDescription: Sendable, Equatable {
    public let kind: PoolLayer.Kind
    public let size, stride: Int
    /// Padding on every side (max-pooling only: padded positions never win).
    public let padding: Int
}

/// Batch norm in evaluation mode: y = (x - running_mean) / sqrt(running_var + epsilon) * weight + bias.
public struct BatchNormDescription: Sendable, Equatable {
    public let channels: Int
    public let scaleName, shiftName, runningMeanName, runningVarName: String
    public let epsilon: Float
}

/// A fully connected layer, PyTorch layout: `PREFIX.weight` [out, in], `PREFIX.bias` [out].
public struct LinearDescription: Sendable, Equatable {
    public let inFeatures, outFeatures: Int
    public let weightName, biasName: String
}

extension Conv2dLayer {
    public var convolution: ConvolutionDescription {
        ConvolutionDescription(inChannels: inputShape[0], outChannels: outChannels, kernel: kernel, stride: stride,
                               padding: padding, weightName: qualified(name, "weight"),
                               biasName: hasBias ? qualified(name, "bias") : nil)
    }
}

extension PoolLayer {
    public var pooling: PoolingDescription {
        PoolingDescription(kind: kind, size: geometry.size, stride: geometry.stride, padding: geometry.padding)
    }
}

extension BatchNormLayer {
    public var normalization: BatchNormDescription {
        // The epsilon batchNormForward is called with: BatchNormShape's default.
        let epsilon = BatchNormShape(batch: 1, channels: channels, spatial: spatial).epsilon
        return BatchNormDescription(channels: channels, scaleName: qualified(name, "weight"),
                                    shiftName: qualified(name, "bias"),
                                    runningMeanName: qualified(name, "running_mean"),
                                    runningVarName: qualified(name, "running_var"), epsilon: epsilon)
    }
}

extension LinearLayer {
    public var linear: LinearDescription {
        LinearDescription(inFeatures: inFeatures, outFeatures: outFeatures, weightName: qualified(name, "weight"),
                          biasName: qualified(name, "bias"))
    }
}

extension ActivationLayer {
    public var activation: Activation { kind }
}

extension DropoutLayer {
    /// The drop probability in training; evaluation passes the input through.
    public var dropProbability: Float { probability }
}

extension ResidualBlock {
    /// conv1, bn1, relu, conv2, bn2: the path whose output is added to the shortcut's.
    public var mainPath: [Layer] { main }
    /// Empty for the identity shortcut; otherwise the projection (1x1 conv, batch norm).
    public var shortcutPath: [Layer] { shortcut }
    /// The block's output is relu(main(x) + shortcut(x)).
    public var activationAfterSum: Activation { .relu }
}
