// A first convolution (the direct route: one input channel) and the max-pool that follows it,
// image by image. Run as two layers, the convolution's output (fashion-cnn: 32 x 28 x 28 floats,
// 12.8 MB per batch of 128) goes out to memory and comes back for the pool, and in backward
// the pool's 12.8 MB input gradient does the same before the weight gradient reads it: on two
// threads these layers were memory-bound (1.5-1.7x one thread). Here each image's convolution
// output is computed into a per-thread scratch plane (100 KB, in the core's L2) and pooled there;
// only the pooled output and one arg-max code per pooled output (0.8 MB per batch) are kept for
// backward, which builds each image's gradient of the convolution output from them in another
// scratch plane and consumes it there.
//
// The results are the bits of the two layers run one after the other: the same kernels run on
// the same values in the same order, one image at a time.

/// Whether `conv2dMaxPoolForward`/`Backward` serve this pair: the direct forward and weight
/// gradient routes, and a pool over the convolution's whole output.
public func conv2dMaxPoolFusible(_ conv: Conv2dShape, _ pool: PoolShape) -> Bool {
    conv2dUsesDirectWeightGradient(conv) && pool.channels == conv.outChannels && pool.height == conv.outHeight
        && pool.width == conv.outWidth && pool.padding == 0 && maxPoolArgMaxFits(pool)
}

/// pooled = maxPool(conv(input)), with the ReLU-like activation of slope `reluSlope` applied in
/// the pool's pass when given; `argMax` (one byte per pooled output) is what the backward pass
/// needs. `pool.batch` is ignored (the convolution's batch counts).
public func conv2dMaxPoolForward(pooled: UnsafeMutablePointer<Float>, argMax: UnsafeMutablePointer<UInt8>,
                                 input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, conv s: Conv2dShape, pool: PoolShape,
                                 reluSlope: Float?, threads: Int = KernelThreads.count) {
    precondition(conv2dMaxPoolFusible(s, pool), "conv2dMaxPoolForward: not a fusible pair")
    var onePlaneSet = pool
    onePlaneSet.batch = 1
    let pooledPlane = pool.channels * pool.outHeight * pool.outWidth
    parallelRanges(s.batch, threads: threads) { images in
        withScratch(s.outputPlane) { convOutput in
            for n in images {
                conv2dDirectForward(output: convOutput, input: input + n &* s.inputPlane, weight: weight, bias: bias,
                                    shape: s, images: 0..<1)
                maxPoolForwardRecordingArgMax(output: pooled + n &* pooledPlane, argMax: argMax + n &* pooledPlane,
                                              input: convOutput, shape: onePlaneSet, reluSlope: reluSlope)
            }
        }
    }
}

/// dWeight and dBias (accumulated, dBias may be nil) from the gradient of the pooled output;
/// `argMax` and `input` as the forward pass left them. No input gradient: the fused pair is
/// a network's first layer.
public func conv2dMaxPoolBackward(dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                                  dPooled: UnsafePointer<Float>, argMax: UnsafePointer<UInt8>,
                                  input: UnsafePointer<Float>, conv s: Conv2dShape, pool: PoolShape,
                                  reluSlope: Float?, threads: Int = KernelThreads.count) {
    precondition(conv2dMaxPoolFusible(s, pool), "conv2dMaxPoolBackward: not a fusible pair")
    var onePlaneSet = pool
    onePlaneSet.batch = 1
    var oneImage = s
    oneImage.batch = 1
    let pooledPlane = pool.channels * pool.outHeight * pool.outWidth
    let oc = s.outChannels, ohw = s.colCols, wCount = oc &* s.colRows
    // The same grouping and order of sums as conv2dBackward's direct route.
    let groups = (s.batch + convGradientGroup - 1) / convGradientGroup
    let partialBuffer = ScratchPool.shared.acquire(groups * wCount)
    let planeSums = dBias == nil ? nil : ScratchPool.shared.acquire(s.batch * oc)
    defer { ScratchPool.shared.release(partialBuffer); planeSums.map(ScratchPool.shared.release) }
    let partial = partialBuffer.pointer
    parallelRanges(groups, threads: threads) { groupRange in
        let dOutBuffer = ScratchPool.shared.acquire(s.outputPlane)
        defer { ScratchPool.shared.release(dOutBuffer) }
        let dOut = dOutBuffer.pointer
        for g in groupRange {
            let pw = partial + g &* wCount
            pw.update(repeating: 0, count: wCount)
            for n in (g &* convGradientGroup)..<min(s.batch, (g &+ 1) &* convGradientGroup) {
                maxPoolBackwardFromArgMax(dInput: dOut, dOutput: dPooled + n &* pooledPlane,
                                          argMax: argMax + n &* pooledPlane, shape: onePlaneSet, reluSlope: reluSlope)
                conv2dDirectWeightGradient(pw, dOutput: dOut, input: input + n &* s.inputPlane, shape: oneImage,
                                           images: 0..<1)
                if let planeSums {
                    for o in 0..<oc { planeSums.pointer[n &* oc &+ o] = sumOf(dOut + o &* ohw, ohw) }
                }
            }
        }
    }
    addGroupPartials(dWeight, partial, groups: groups, count: wCount, threads: threads)
    if let dBias, let planeSums {
        for o in 0..<oc {
            var total: Float = 0
            for n in 0..<s.batch { total += planeSums.pointer[n &* oc &+ o] }
            dBias[o] += total
        }
    }
}
