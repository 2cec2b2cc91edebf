import Tensors
import Kernels
import Dispatch

func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// A sequential network built from a ModelSpec, with every parameter in one arena, every
/// gradient in its twin (same layout), and batch-norm statistics in a separate buffers arena.
public final class Network {
    public let spec: ModelSpec
    public let layers: [Layer]
    public let parameters: ParameterArena
    public let gradients: ParameterArena
    public let buffers: ParameterArena
    public let inputShape: (channels: Int, height: Int, width: Int)
    public let maxBatch: Int
    public let seed: UInt64
    /// Per layer: the arena range its gradients occupy (nil for layers without parameters).
    /// The ranges of all parameter layers partition 0..<parameters.count, in layer order.
    public let gradientRanges: [Range<Int>?]
    let logits: Int
    /// When true, forward/backward record each layer's wall time (seconds) in `layerSeconds`.
    public var profiling = false
    public private(set) var layerSeconds: [(forward: Double, backward: Double)] = []

    public var classes: Int { logits }

    public init(spec: ModelSpec, inputShape: (channels: Int, height: Int, width: Int), classes: Int, seed: UInt64,
                maxBatch: Int) throws {
        precondition(maxBatch >= 1 && classes >= 1, "maxBatch and classes must be positive")
        self.spec = spec; self.inputShape = inputShape; self.maxBatch = maxBatch; self.seed = seed
        var specs = try spec.resolvedLayers()
        // Max-pooling commutes with a non-decreasing activation (ReLU, LeakyReLU, ELU):
        // pool(f(x)) == f(pool(x)), with the same gradient. Pooling first runs the activation
        // on a quarter of the values; names and results are those of the spec's order.
        var i = 0
        while i + 1 < specs.count {
            if ["relu", "leakyrelu", "elu"].contains(specs[i].type) && specs[i + 1].type == "maxpool" {
                specs.swapAt(i, i + 1)
                i += 2
            } else {
                i += 1
            }
        }
        var shape = [inputShape.channels, inputShape.height, inputShape.width]
        var built: [Layer] = []
        let lastLinear = specs.lastIndex { $0.type == "linear" }
        for (i, s) in specs.enumerated() {
            let name = s.name ?? String(i)
            func need(_ ok: Bool, _ message: String) throws {
                if !ok { throw ModelSpecError.badLayer(index: i, message: "\(s.type): \(message)") }
            }
            let layer: Layer
            switch s.type {
            case "conv":
                try need(shape.count == 3, "needs an image input, got \(shape)")
                try need(s.out != nil && s.out! > 0, "needs \"out\" > 0")
                let k = s.kernel ?? 3, st = s.stride ?? 1, pad = s.pad ?? 0
                try need(k >= 1 && st >= 1 && pad >= 0 && shape[1] + 2 * pad >= k && shape[2] + 2 * pad >= k,
                         "kernel \(k), stride \(st), pad \(pad) do not fit input \(shape)")
                layer = Conv2dLayer(name: name, inputShape: shape, outChannels: s.out!, kernel: k, stride: st,
                                    padding: pad, bias: s.bias ?? true)
            case "batchnorm":
                layer = BatchNormLayer(name: name, inputShape: shape)
            case "relu": layer = ActivationLayer(.relu, inputShape: shape)
            case "leakyrelu": layer = ActivationLayer(.leakyRelu(slope: s.slope ?? 0.01), inputShape: shape)
            case "elu": layer = ActivationLayer(.elu(alpha: s.alpha ?? 1), inputShape: shape)
            case "maxpool", "avgpool":
                let size = s.size ?? 2, pad = s.pad ?? 0
                try need(s.type == "maxpool" || pad == 0, "\"pad\" is for max-pooling only")
                try need(pad >= 0 && 2 * pad <= size, "pad \(pad) must be in 0...size/2 (\(size / 2))")
                try need(shape.count == 3 && size >= 1 && (s.stride ?? size) >= 1
                         && shape[1] + 2 * pad >= size && shape[2] + 2 * pad >= size,
                         "size \(size) does not fit input \(shape)")
                layer = PoolLayer(s.type == "maxpool" ? .max : .average, size: size, stride: s.stride, padding: pad,
                                  inputShape: shape)
            case "globalavgpool":
                try need(shape.count == 3, "needs an image input, got \(shape)")
                layer = GlobalAvgPoolLayer(inputShape: shape)
            case "flatten": layer = FlattenLayer(inputShape: shape)
            case "linear":
                let out = s.out ?? (i == lastLinear ? classes : 0)
                try need(out > 0, "needs \"out\" > 0 (only the last linear layer defaults to the class count)")
                layer = LinearLayer(name: name, inputShape: shape, outFeatures: out, glorot: i == lastLinear)
            case "dropout":
                let p = s.p ?? 0.5
                try need(p >= 0 && p < 1, "p must be in [0, 1)")
                layer = DropoutLayer(probability: p, layerIndex: i, inputShape: shape)
            case "residual":
                try need(shape.count == 3, "needs an image input, got \(shape)")
                try need(s.out != nil && s.out! > 0, "needs \"out\" > 0")
                try need(s.shortcut.map { !$0.isEmpty && !$0.contains(".") } ?? true, "\"shortcut\" must be a plain name such as downsample")
                layer = ResidualBlock(name: name, inputShape: shape, outChannels: s.out!, stride: s.stride ?? 1,
                                      shortcutName: s.shortcut ?? "shortcut")
            default:
                throw ModelSpecError.badLayer(index: i, message: "unknown type \"\(s.type)\"; known: "
                                              + LayerSpec.types.joined(separator: ", "))
            }
            built.append(layer)
            shape = layer.outputShape
        }
        // Max-pooling then ReLU (the order set above): the pooling pass applies the
        // activation too, saving a read and a write of the pooled tensor each way; the
        // activation layer stays in the list (names, indices, profiles) and passes through.
        for i in built.indices.dropLast() {
            if let pool = built[i] as? PoolLayer, pool.kind == .max, let activation = built[i + 1] as? ActivationLayer,
               let slope = activation.reluSlope {
                pool.fusedReLUSlope = slope
                activation.isFusedIntoPooling = true
            }
        }
        // A first convolution on the direct route and the max-pool after it: the convolution
        // pools each image while its output is in cache (see conv2dMaxPoolForward). Only before
        // any other parameter layer, as the fused pair computes no input gradient.
        if let i = built.firstIndex(where: { !$0.parameterNames.isEmpty }), i + 1 < built.count,
           let conv = built[i] as? Conv2dLayer, let pool = built[i + 1] as? PoolLayer, pool.kind == .max,
           conv2dMaxPoolFusible(conv.geometry, pool.geometry) {
            conv.fusedPool = (pool.geometry, pool.fusedReLUSlope)
            pool.isFusedIntoConvolution = true
        }
        guard shape.count == 1, shape[0] == classes else {
            throw ModelSpecError.badLayer(index: max(specs.count - 1, 0),
                                          message: "the model ends with shape \(shape), expected [\(classes)] logits")
        }
        logits = classes
        layers = built

        var pLayout = ArenaLayout(), bLayout = ArenaLayout()
        var starts: [Int?] = []
        for l in built {
            let before = pLayout.slots.count
            l.declare(parameters: &pLayout, buffers: &bLayout)
            starts.append(pLayout.slots.count > before ? pLayout.slots[before].offset : nil)
        }
        // Each parameter layer's range runs to the next parameter layer's start (alignment padding included).
        var ranges = [Range<Int>?](repeating: nil, count: built.count)
        var end = pLayout.count
        for i in stride(from: built.count - 1, through: 0, by: -1) {
            if let s = starts[i] { ranges[i] = s..<end; end = s }
        }
        if let first = ranges.firstIndex(where: { $0 != nil }) { ranges[first] = 0..<ranges[first]!.upperBound }
        gradientRanges = ranges
        parameters = ParameterArena(layout: pLayout)
        gradients = parameters.makeTwin()
        buffers = ParameterArena(layout: bLayout)
        for l in built {
            l.bind(parameters: parameters, gradients: gradients, buffers: buffers, maxBatch: maxBatch)
            l.initialise(parameters: parameters, buffers: buffers, seed: seed)
        }
    }

    /// input: [batch, C, H, W]. Returns logits [batch, classes], valid until the next call.
    public func forward(_ input: UnsafePointer<Float>, batch: Int, training: Bool, step: Int) -> UnsafeBufferPointer<Float> {
        precondition(batch >= 1 && batch <= maxBatch, "batch \(batch) outside 1...\(maxBatch)")
        let context = ForwardContext(training: training, step: step, seed: seed)
        var x = input
        if profiling && layerSeconds.count != layers.count { layerSeconds = Array(repeating: (0, 0), count: layers.count) }
        for (i, l) in layers.enumerated() {
            let t0 = profiling ? monotonicSeconds() : 0
            x = l.forward(x, batch: batch, context: context)
            if profiling { layerSeconds[i].forward += monotonicSeconds() - t0 }
        }
        return UnsafeBufferPointer(start: x, count: batch * logits)
    }

    /// Accumulates (+=) parameter gradients into `gradients` (zero it between steps).
    /// `gradientReady(range)` is called with each parameter layer's arena range as soon as that
    /// layer's gradient is final, in reverse layer order; the ranges partition the arena.
    public func backward(dLogits: UnsafePointer<Float>, batch: Int, gradientReady: ((Range<Int>) -> Void)?) {
        var g = dLogits
        let firstWithParameters = gradientRanges.firstIndex { $0 != nil } ?? 0
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            // Below the first parameter layer nothing needs an input gradient.
            let needInput = i > firstWithParameters
            let t0 = profiling ? monotonicSeconds() : 0
            let next = layers[i].backward(g, batch: batch, needInputGradient: needInput)
            if profiling { layerSeconds[i].backward += monotonicSeconds() - t0 }
            if let r = gradientRanges[i] { gradientReady?(r) }
            guard needInput, let next else { break }
            g = next
        }
    }

    /// Every layer, residual blocks' inner layers included, in order.
    public var allLayers: [Layer] {
        layers.flatMap { l -> [Layer] in
            if let block = l as? ResidualBlock { return block.main + block.shortcut }
            return [l]
        }
    }

    /// Batch norms whose scale (`NAME.weight`) is frozen run on their running statistics
    /// (see `BatchNormLayer.usesRunningStatistics`); returns their names.
    @discardableResult
    public func useRunningStatistics(whereFrozen isFrozen: (String) -> Bool) -> [String] {
        var names: [String] = []
        for case let bn as BatchNormLayer in allLayers {
            bn.usesRunningStatistics = isFrozen(qualified(bn.name, "weight"))
            if bn.usesRunningStatistics { names.append(bn.name) }
        }
        return names
    }

    public func resetProfile() { layerSeconds = Array(repeating: (0, 0), count: layers.count) }

    /// Total number of trainable parameters (excluding alignment padding).
    public var parameterCount: Int { parameters.layout.slots.reduce(0) { $0 + $1.count } }
}
