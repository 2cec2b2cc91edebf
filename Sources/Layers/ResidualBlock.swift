import Tensors
import Kernels

/// The basic residual block (He et al. 2016), PyTorch twin `BasicBlock` in docs/models.md:
///   out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
/// conv1 3x3 stride s, conv2 3x3, no biases; shortcut = identity, or 1x1 conv stride s + BN
/// (`PREFIX.shortcut.0`, `PREFIX.shortcut.1`) when the stride or channel count changes.
public final class ResidualBlock: Layer {
    public let name: String, inputShape: [Int], outputShape: [Int]
    let main: [Layer]
    let shortcut: [Layer]
    var sum: FloatBuffer!, activated: FloatBuffer!, dSum: FloatBuffer!, dInput: FloatBuffer!

    /// `shortcutName`: the state_dict name of the projection shortcut (conv 1x1 + batch norm)
    /// when shapes change: torchvision's ResNets call it `downsample`; `shortcut` is the name
    /// of RingTrain's own resnet8 and of layer lists unless they say otherwise.
    public init(name: String, inputShape: [Int], outChannels: Int, stride: Int, shortcutName: String = "shortcut") {
        self.name = name; self.inputShape = inputShape
        let conv1 = Conv2dLayer(name: qualified(name, "conv1"), inputShape: inputShape, outChannels: outChannels,
                                kernel: 3, stride: stride, padding: 1, bias: false)
        let bn1 = BatchNormLayer(name: qualified(name, "bn1"), inputShape: conv1.outputShape)
        let relu = ActivationLayer(.relu, inputShape: conv1.outputShape)
        let conv2 = Conv2dLayer(name: qualified(name, "conv2"), inputShape: conv1.outputShape, outChannels: outChannels,
                                kernel: 3, stride: 1, padding: 1, bias: false)
        let bn2 = BatchNormLayer(name: qualified(name, "bn2"), inputShape: conv2.outputShape)
        main = [conv1, bn1, relu, conv2, bn2]
        if stride != 1 || inputShape[0] != outChannels {
            let sc = Conv2dLayer(name: qualified(name, shortcutName + ".0"), inputShape: inputShape, outChannels: outChannels,
                                 kernel: 1, stride: stride, padding: 0, bias: false)
            shortcut = [sc, BatchNormLayer(name: qualified(name, shortcutName + ".1"), inputShape: sc.outputShape)]
        } else {
            shortcut = []
        }
        outputShape = conv2.outputShape
    }

    public var parameterNames: [String] { (main + shortcut).flatMap(\.parameterNames) }

    public func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout) {
        for l in main + shortcut { l.declare(parameters: &parameters, buffers: &buffers) }
    }

    public func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int) {
        for l in main + shortcut { l.bind(parameters: parameters, gradients: gradients, buffers: buffers, maxBatch: maxBatch) }
        sum = FloatBuffer(count: maxBatch * outputShape.elementCount)
        activated = FloatBuffer(count: sum.count)
        dSum = FloatBuffer(count: sum.count)
        dInput = FloatBuffer(count: maxBatch * inputShape.elementCount)
    }

    public func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64) {
        for l in main + shortcut { l.initialise(parameters: parameters, buffers: buffers, seed: seed) }
    }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        var x = input
        for l in main { x = l.forward(x, batch: batch, context: context) }
        var s = input
        for l in shortcut { s = l.forward(s, batch: batch, context: context) }
        let n = batch * outputShape.elementCount
        addForward(output: sum.pointer, x, s, count: n)
        activationForward(.relu, output: activated.pointer, input: sum.pointer, count: n)
        return UnsafePointer(activated.pointer)
    }

    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        let n = batch * outputShape.elementCount
        activationBackward(.relu, dInput: dSum.pointer, dOutput: dOutput, input: sum.pointer, count: n)
        var g: UnsafePointer<Float>? = UnsafePointer(dSum.pointer)
        for l in main.reversed() { g = l.backward(g!, batch: batch, needInputGradient: true) }
        let mainGrad = g!
        var sg: UnsafePointer<Float>? = UnsafePointer(dSum.pointer)
        for l in shortcut.reversed() { sg = l.backward(sg!, batch: batch, needInputGradient: true) }
        guard needInputGradient else { return nil }
        addForward(output: dInput.pointer, mainGrad, sg!, count: batch * inputShape.elementCount)
        return UnsafePointer(dInput.pointer)
    }
}
