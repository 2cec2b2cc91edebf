import Tensors
import Kernels

/// Conv2d, PyTorch `nn.Conv2d`: `PREFIX.weight [out, in, kh, kw]`, `PREFIX.bias [out]`.
public final class Conv2dLayer: Layer {
    public let name: String, inputShape: [Int], outputShape: [Int]
    let outChannels, kernel, stride, padding: Int
    let hasBias: Bool
    var geometry: Conv2dShape
    var weight: UnsafeMutablePointer<Float>!, dWeight: UnsafeMutablePointer<Float>!
    var bias: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?
    var output: FloatBuffer!, dInput: FloatBuffer!
    var input: UnsafePointer<Float>?
    /// The col matrices of the last forward, reused by backward (nil: rebuilt in backward).
    var columns: FloatBuffer?
    /// Largest col cache a layer keeps (floats); bigger layers rebuild their cols in backward.
    public static let columnCacheLimit = 16 << 20
    /// The max-pool after this layer (and the ReLU-like activation fused into that pool), run
    /// by this layer image by image (`conv2dMaxPoolForward`); Network sets it for a first
    /// layer that takes the direct route. The pool layer then hands values and gradients through.
    public internal(set) var fusedPool: (geometry: PoolShape, reluSlope: Float?)?
    var pooled: FloatBuffer?, poolArgMax: ByteBuffer?

    public init(name: String, inputShape: [Int], outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool) {
        precondition(inputShape.count == 3, "\(name): conv needs a [C, H, W] input, got \(inputShape)")
        self.name = name; self.inputShape = inputShape; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.hasBias = bias
        geometry = Conv2dShape(batch: 1, channels: inputShape[0], height: inputShape[1], width: inputShape[2],
                               outChannels: outChannels, kernelH: kernel, kernelW: kernel, stride: stride, padding: padding)
        outputShape = [outChannels, geometry.outHeight, geometry.outWidth]
    }

    public var parameterNames: [String] {
        hasBias ? [qualified(name, "weight"), qualified(name, "bias")] : [qualified(name, "weight")]
    }

    public func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout) {
        parameters.append(name: qualified(name, "weight"), shape: [outChannels, inputShape[0], kernel, kernel], role: .weight)
        if hasBias { parameters.append(name: qualified(name, "bias"), shape: [outChannels], role: .bias) }
    }

    public func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int) {
        weight = parameters.view(named: qualified(name, "weight"))!.baseAddress
        dWeight = gradients.view(named: qualified(name, "weight"))!.baseAddress
        if hasBias {
            bias = parameters.view(named: qualified(name, "bias"))!.baseAddress
            dBias = gradients.view(named: qualified(name, "bias"))!.baseAddress
        }
        // Fused with its pool, the convolution's output lives in the kernel's scratch only.
        output = FloatBuffer(count: fusedPool == nil ? maxBatch * outputShape.elementCount : 0)
        if let fusedPool {
            let pooledCount = maxBatch * fusedPool.geometry.channels * fusedPool.geometry.outHeight
                * fusedPool.geometry.outWidth
            pooled = FloatBuffer(count: pooledCount)
            poolArgMax = ByteBuffer(count: pooledCount)
        }
        dInput = FloatBuffer(count: fusedPool == nil ? maxBatch * inputShape.elementCount : 0)
        let colCount = maxBatch * geometry.colRows * geometry.colCols
        // A same-width stride-1 layer rebuilds its cols in backward faster than a cache of
        // every image's cols comes back from memory (fashion-cnn: 2.5 ms less per step of 128,
        // and 29 MB less for conv2); other geometries keep theirs.
        let cache = !geometry.isPointwise && !geometry.hasShiftedPlaneColumns && colCount <= Conv2dLayer.columnCacheLimit
        columns = cache ? FloatBuffer(count: colCount) : nil
    }

    public func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64) {
        let fanIn = Float(inputShape[0] * kernel * kernel)
        let w = qualified(name, "weight")
        initialiseUniform(parameters.view(named: w)!, bound: (6 / fanIn).squareRoot(), seed: seed,
                          slotIndex: slotIndex(parameters.layout, w))
        if hasBias { parameters.view(named: qualified(name, "bias"))!.update(repeating: 0) }
    }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        self.input = input
        geometry.batch = batch
        if let fusedPool, let pooled, let poolArgMax {
            conv2dMaxPoolForward(pooled: pooled.pointer, argMax: poolArgMax.pointer, input: input, weight: weight,
                                 bias: bias, conv: geometry, pool: fusedPool.geometry, reluSlope: fusedPool.reluSlope)
            return UnsafePointer(pooled.pointer)
        }
        conv2dForward(output: output.pointer, input: input, weight: weight, bias: bias, shape: geometry,
                      columns: columns?.pointer)
        return UnsafePointer(output.pointer)
    }

    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        geometry.batch = batch
        if let fusedPool, let poolArgMax {
            // dOutput is the gradient of the pooled output (the pool layer hands it through).
            precondition(!needInputGradient, "\(name): a conv fused with its pool is a first layer")
            conv2dMaxPoolBackward(dWeight: dWeight, dBias: dBias, dPooled: dOutput, argMax: poolArgMax.pointer,
                                  input: input!, conv: geometry, pool: fusedPool.geometry, reluSlope: fusedPool.reluSlope)
            return nil
        }
        conv2dBackward(dInput: needInputGradient ? dInput.pointer : nil, dWeight: dWeight, dBias: dBias,
                       dOutput: dOutput, input: input!, weight: weight, shape: geometry,
                       columns: columns.map { UnsafePointer($0.pointer) })
        return needInputGradient ? UnsafePointer(dInput.pointer) : nil
    }
}

/// Linear, PyTorch `nn.Linear`: `PREFIX.weight [out, in]`, `PREFIX.bias [out]`; the input is
/// the NCHW-flattened previous output.
public final class LinearLayer: Layer {
    public let name: String, inputShape: [Int], outputShape: [Int]
    let inFeatures, outFeatures: Int
    let glorot: Bool
    var weight: UnsafeMutablePointer<Float>!, dWeight: UnsafeMutablePointer<Float>!
    var bias: UnsafeMutablePointer<Float>!, dBias: UnsafeMutablePointer<Float>!
    var output: FloatBuffer!, dInput: FloatBuffer!
    var input: UnsafePointer<Float>?

    /// `glorot`: Glorot-uniform (for the logits layer); otherwise Kaiming-uniform for ReLU.
    public init(name: String, inputShape: [Int], outFeatures: Int, glorot: Bool) {
        self.name = name; self.inputShape = inputShape
        inFeatures = inputShape.elementCount; self.outFeatures = outFeatures; self.glorot = glorot
        outputShape = [outFeatures]
    }

    public var parameterNames: [String] { [qualified(name, "weight"), qualified(name, "bias")] }

    public func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout) {
        parameters.append(name: qualified(name, "weight"), shape: [outFeatures, inFeatures], role: .weight)
        parameters.append(name: qualified(name, "bias"), shape: [outFeatures], role: .bias)
    }

    public func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int) {
        weight = parameters.view(named: qualified(name, "weight"))!.baseAddress
        dWeight = gradients.view(named: qualified(name, "weight"))!.baseAddress
        bias = parameters.view(named: qualified(name, "bias"))!.baseAddress
        dBias = gradients.view(named: qualified(name, "bias"))!.baseAddress
        output = FloatBuffer(count: maxBatch * outFeatures)
        dInput = FloatBuffer(count: maxBatch * inFeatures)
    }

    public func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64) {
        let bound = glorot ? (6 / Float(inFeatures + outFeatures)).squareRoot() : (6 / Float(inFeatures)).squareRoot()
        let w = qualified(name, "weight")
        initialiseUniform(parameters.view(named: w)!, bound: bound, seed: seed, slotIndex: slotIndex(parameters.layout, w))
        parameters.view(named: qualified(name, "bias"))!.update(repeating: 0)
    }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        self.input = input
        linearForward(output: output.pointer, input: input, weight: weight, bias: bias, batch: batch,
                      inFeatures: inFeatures, outFeatures: outFeatures)
        return UnsafePointer(output.pointer)
    }

    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        linearBackward(dInput: needInputGradient ? dInput.pointer : nil, dWeight: dWeight, dBias: dBias,
                       dOutput: dOutput, input: input!, weight: weight, batch: batch, inFeatures: inFeatures,
                       outFeatures: outFeatures)
        return needInputGradient ? UnsafePointer(dInput.pointer) : nil
    }
}

/// Batch norm, PyTorch `nn.BatchNorm2d` ([C, H, W] input) or `nn.BatchNorm1d` ([F] input):
/// parameters `PREFIX.weight`, `PREFIX.bias` [C]; buffers `PREFIX.running_mean`,
/// `PREFIX.running_var` [C] and `PREFIX.num_batches_tracked` [] (a count kept as a float here;
/// PyTorch stores it as int64).
public final class BatchNormLayer: Layer {
    public let name: String, inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    let channels, spatial: Int
    var gamma: UnsafeMutablePointer<Float>!, beta: UnsafeMutablePointer<Float>!
    var dGamma: UnsafeMutablePointer<Float>!, dBeta: UnsafeMutablePointer<Float>!
    var runningMean: UnsafeMutablePointer<Float>!, runningVar: UnsafeMutablePointer<Float>!
    var tracked: UnsafeMutablePointer<Float>!
    var output: FloatBuffer!, dInput: FloatBuffer!
    let saveMean: FloatBuffer, saveInvStd: FloatBuffer
    var input: UnsafePointer<Float>?
    var lastTraining = true
    /// Fine-tuning with this layer's parameters frozen: normalise with the running statistics
    /// in training too, and leave them as they are (a frozen backbone keeps the statistics it
    /// was trained with; updating them on a few new images would shift every layer after it).
    public var usesRunningStatistics = false

    public init(name: String, inputShape: [Int]) {
        self.name = name; self.inputShape = inputShape
        channels = inputShape[0]; spatial = inputShape.dropFirst().reduce(1, *)
        saveMean = FloatBuffer(count: channels); saveInvStd = FloatBuffer(count: channels)
    }

    public var parameterNames: [String] { [qualified(name, "weight"), qualified(name, "bias")] }

    public func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout) {
        parameters.append(name: qualified(name, "weight"), shape: [channels], role: .normScale)
        parameters.append(name: qualified(name, "bias"), shape: [channels], role: .normShift)
        buffers.append(name: qualified(name, "running_mean"), shape: [channels], role: .buffer)
        buffers.append(name: qualified(name, "running_var"), shape: [channels], role: .buffer)
        buffers.append(name: qualified(name, "num_batches_tracked"), shape: [], role: .buffer)
    }

    public func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int) {
        gamma = parameters.view(named: qualified(name, "weight"))!.baseAddress
        beta = parameters.view(named: qualified(name, "bias"))!.baseAddress
        dGamma = gradients.view(named: qualified(name, "weight"))!.baseAddress
        dBeta = gradients.view(named: qualified(name, "bias"))!.baseAddress
        runningMean = buffers.view(named: qualified(name, "running_mean"))!.baseAddress
        runningVar = buffers.view(named: qualified(name, "running_var"))!.baseAddress
        tracked = buffers.view(named: qualified(name, "num_batches_tracked"))!.baseAddress
        output = FloatBuffer(count: maxBatch * inputShape.elementCount)
        dInput = FloatBuffer(count: maxBatch * inputShape.elementCount)
    }

    public func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64) {
        parameters.view(named: qualified(name, "weight"))!.update(repeating: 1)
        parameters.view(named: qualified(name, "bias"))!.update(repeating: 0)
        buffers.view(named: qualified(name, "running_mean"))!.update(repeating: 0)
        buffers.view(named: qualified(name, "running_var"))!.update(repeating: 1)
        buffers.view(named: qualified(name, "num_batches_tracked"))!.update(repeating: 0)
    }

    public func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> {
        self.input = input
        let training = context.training && !usesRunningStatistics
        lastTraining = training
        let s = BatchNormShape(batch: batch, channels: channels, spatial: spatial)
        batchNormForward(output: output.pointer, input: input, scale: gamma, shift: beta, runningMean: runningMean,
                         runningVar: runningVar, saveMean: saveMean.pointer, saveInvStd: saveInvStd.pointer,
                         shape: s, training: training)
        if training { tracked.pointee += 1 }
        return UnsafePointer(output.pointer)
    }

    public func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? {
        let s = BatchNormShape(batch: batch, channels: channels, spatial: spatial)
        batchNormBackward(dInput: dInput.pointer, dScale: dGamma, dShift: dBeta, dOutput: dOutput, input: input!,
                          scale: gamma, saveMean: saveMean.pointer, saveInvStd: saveInvStd.pointer, shape: s,
                          training: lastTraining)
        return needInputGradient ? UnsafePointer(dInput.pointer) : nil
    }
}
