import Tensors
import Kernels

/// Layers without parameters: activations, pooling, flatten, dropout.
public class ParameterFreeLayer {
    public let inputShape: [Int]
    public let outputShape: [Int]
    var output: FloatBuffer!, dInput: FloatBuffer!
    var input: UnsafePointer<Float>?

    init(inputShape: [Int], outputShape: [Int]) {
        self.inputShape = inputShape; self.outputShape = outputShape
    }

    public var parameterNames: [String] { [] }
    public func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout) {}
    public func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64) {}
    public func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int) {
        output = FloatBuffer(count: maxBatch * outputShape.elementCount)
        dInput = FloatBuffer(count: maxBatch * inputShape.elementCount)
    }
}

public final class ActivationLayer: ParameterFreeLayer, Layer {
    let kind: Activation
    /// The max-pool before this layer applies the activation in its own pass (Network fuses
    /// them); this layer then hands values and gradients through unchanged.
    public internal(set) var isFusedIntoPooling = false
    public init(_ kind: Activation, inputShape: [Int]) {
        self.kind = kind
        super.init(inputShape: inputShape, outputShape: inputShape)
    }
    /// The slope of a ReLU-like activation (0 for ReLU), which max-pooling can apply; nil for ELU.
    var reluSlope: Float? {
        switch kind {
        case .relu: return 0
        case .leakyRelu(let slope): return slope
        case .elu: return nil
        }
    }
    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        if isFusedIntoPooling { return input }
        self.input = input
        let n = batch * inputShape.elementCount
        parallelRanges((n + 4095) / 4096) { r in
            let lo = r.lowerBound * 4096, hi = min(n, r.upperBound * 4096)
            activationForward(kind, output: output.pointer + lo, input: input + lo, count: hi - lo)
        }
        return UnsafePointer(output.pointer)
    }
    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        if isFusedIntoPooling { return needInputGradient ? dOutput : nil }
        guard needInputGradient, let input else { return nil }
        let n = batch * inputShape.elementCount
        parallelRanges((n + 4095) / 4096) { r in
            let lo = r.lowerBound * 4096, hi = min(n, r.upperBound * 4096)
            activationBackward(kind, dInput: dInput.pointer + lo, dOutput: dOutput + lo, input: input + lo, count: hi - lo)
        }
        return UnsafePointer(dInput.pointer)
    }
}

public final class PoolLayer: ParameterFreeLayer, Layer {
    public enum Kind: Sendable { case max, average }
    let kind: Kind
    var geometry: PoolShape
    /// Max-pooling followed by a ReLU-like activation applies it in the same pass (see
    /// `maxPoolForward`); nil: plain pooling.
    public internal(set) var fusedReLUSlope: Float?
    /// The convolution before this layer pools its own output (Network fuses them, see
    /// `Conv2dLayer.fusedPool`); this layer then hands values and gradients through unchanged.
    public internal(set) var isFusedIntoConvolution = false
    public init(_ kind: Kind, size: Int, stride: Int?, padding: Int = 0, inputShape: [Int]) {
        precondition(inputShape.count == 3, "pooling needs a [C, H, W] input, got \(inputShape)")
        precondition(kind == .max || padding == 0, "average pooling has no padding")
        self.kind = kind
        geometry = PoolShape(batch: 1, channels: inputShape[0], height: inputShape[1], width: inputShape[2],
                             size: size, stride: stride, padding: padding)
        super.init(inputShape: inputShape, outputShape: [inputShape[0], geometry.outHeight, geometry.outWidth])
    }
    public override func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena,
                              maxBatch: Int) {
        if !isFusedIntoConvolution { super.bind(parameters: parameters, gradients: gradients, buffers: buffers, maxBatch: maxBatch) }
    }
    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        if isFusedIntoConvolution { return input }
        self.input = input
        geometry.batch = batch
        switch kind {
        case .max: maxPoolForward(output: output.pointer, input: input, shape: geometry, reluSlope: fusedReLUSlope)
        case .average: avgPoolForward(output: output.pointer, input: input, shape: geometry)
        }
        return UnsafePointer(output.pointer)
    }
    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        if isFusedIntoConvolution { return dOutput }
        guard needInputGradient, let input else { return nil }
        geometry.batch = batch
        switch kind {
        case .max: maxPoolBackward(dInput: dInput.pointer, dOutput: dOutput, input: input, shape: geometry,
                                   reluSlope: fusedReLUSlope)
        case .average: avgPoolBackward(dInput: dInput.pointer, dOutput: dOutput, shape: geometry)
        }
        return UnsafePointer(dInput.pointer)
    }
}

public final class GlobalAvgPoolLayer: ParameterFreeLayer, Layer {
    public init(inputShape: [Int]) {
        precondition(inputShape.count == 3, "global average pool needs a [C, H, W] input, got \(inputShape)")
        super.init(inputShape: inputShape, outputShape: [inputShape[0]])
    }
    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        globalAvgPoolForward(output: output.pointer, input: input, planes: batch * inputShape[0],
                             planeSize: inputShape[1] * inputShape[2])
        return UnsafePointer(output.pointer)
    }
    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needInputGradient else { return nil }
        globalAvgPoolBackward(dInput: dInput.pointer, dOutput: dOutput, planes: batch * inputShape[0],
                              planeSize: inputShape[1] * inputShape[2])
        return UnsafePointer(dInput.pointer)
    }
}

/// NCHW flatten: the memory is already in PyTorch's flatten order, so this only renames the shape.
public final class FlattenLayer: ParameterFreeLayer, Layer {
    public init(inputShape: [Int]) { super.init(inputShape: inputShape, outputShape: [inputShape.elementCount]) }
    public override func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena,
                              maxBatch: Int) {}
    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        input
    }
    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        needInputGradient ? dOutput : nil
    }
}

/// Inverted dropout; the mask comes from CounterRNG(seed, .dropout, a: step, b: layerIndex).
public final class DropoutLayer: ParameterFreeLayer, Layer {
    let probability: Float, layerIndex: Int
    var mask: FloatBuffer!
    var lastTraining = false
    public init(probability: Float, layerIndex: Int, inputShape: [Int]) {
        self.probability = probability; self.layerIndex = layerIndex
        super.init(inputShape: inputShape, outputShape: inputShape)
    }
    public override func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena,
                              maxBatch: Int) {
        super.bind(parameters: parameters, gradients: gradients, buffers: buffers, maxBatch: maxBatch)
        mask = FloatBuffer(count: maxBatch * inputShape.elementCount)
    }
    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        lastTraining = context.training && probability > 0
        if !lastTraining { return input }
        dropoutForward(output: output.pointer, mask: mask.pointer, input: input, count: batch * inputShape.elementCount,
                       probability: probability, seed: context.seed, step: context.step, layer: layerIndex)
        return UnsafePointer(output.pointer)
    }
    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        guard needInputGradient else { return nil }
        if !lastTraining { return dOutput }
        dropoutBackward(dInput: dInput.pointer, dOutput: dOutput, mask: mask.pointer, count: batch * inputShape.elementCount)
        return UnsafePointer(dInput.pointer)
    }
}
