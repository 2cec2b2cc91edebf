import XCTest
import Tensors
import Kernels

final class ConvPoolFusedTests: XCTestCase {
    /// The fused first-convolution + max-pool (+ ReLU-like activation) must give exactly the
    /// bits of the two ops run one after the other, forward and backward, for any thread count.
    func testFusedGivesTheBitsOfConvThenPool() {
        // (batch, height, width, out channels, pool size, pool stride, activation slope, bias)
        let cases: [(Int, Int, Int, Int, Int, Int, Float?, Bool)] = [
            (3, 16, 16, 5, 2, 2, 0, true),      // ReLU
            (9, 17, 20, 4, 2, 2, 0.1, true),    // leaky ReLU; odd height; more than one gradient group
            (2, 28, 28, 32, 2, 2, nil, false),  // no activation, no bias; fashion-cnn's conv1 geometry
            (4, 19, 18, 3, 3, 2, 0, true),      // overlapping 3x3 windows
        ]
        for (batch, h, w, oc, size, stride, slope, hasBias) in cases {
            let conv = Conv2dShape(batch: batch, channels: 1, height: h, width: w, outChannels: oc, kernelH: 3, kernelW: 3,
                                   padding: 1)
            let pool = PoolShape(batch: batch, channels: oc, height: conv.outHeight, width: conv.outWidth, size: size,
                                 stride: stride)
            XCTAssertTrue(conv2dMaxPoolFusible(conv, pool))
            let pooledCount = batch * oc * pool.outHeight * pool.outWidth
            let x = randomBuffer(batch * conv.inputPlane, seed: 31), weight = randomBuffer(oc * 9, seed: 32)
            let bias = randomBuffer(oc, seed: 33), dPooled = randomBuffer(pooledCount, seed: 34)
            let biasPointer = hasBias ? UnsafePointer(bias.pointer) : nil

            // The two ops, one after the other.
            let y = FloatBuffer(count: batch * conv.outputPlane), pooled = FloatBuffer(count: pooledCount)
            conv2dForward(output: y.pointer, input: x.pointer, weight: weight.pointer, bias: biasPointer, shape: conv, threads: 1)
            maxPoolForward(output: pooled.pointer, input: y.pointer, shape: pool, threads: 1, reluSlope: slope)
            let dY = FloatBuffer(count: y.count)
            maxPoolBackward(dInput: dY.pointer, dOutput: dPooled.pointer, input: y.pointer, shape: pool, threads: 1,
                            reluSlope: slope)
            let dW = randomBuffer(oc * 9, seed: 35), dB = randomBuffer(oc, seed: 36)
            let dWFused = FloatBuffer(count: dW.count), dBFused = FloatBuffer(count: dB.count)
            dWFused.copy(from: dW); dBFused.copy(from: dB)
            conv2dBackward(dInput: nil, dWeight: dW.pointer, dBias: dB.pointer, dOutput: dY.pointer, input: x.pointer,
                           weight: weight.pointer, shape: conv, threads: 1)

            for threads in [1, 2, 3] {
                let what = "batch \(batch) \(h)x\(w) oc \(oc) pool \(size)/\(stride) slope \(String(describing: slope)) t\(threads)"
                let pooledFused = FloatBuffer(count: pooledCount), argMax = ByteBuffer(count: pooledCount)
                conv2dMaxPoolForward(pooled: pooledFused.pointer, argMax: argMax.pointer, input: x.pointer,
                                     weight: weight.pointer, bias: biasPointer, conv: conv, pool: pool, reluSlope: slope,
                                     threads: threads)
                XCTAssertEqual(pooledFused.array.map(\.bitPattern), pooled.array.map(\.bitPattern), "pooled, " + what)
                let dWt = FloatBuffer(count: dW.count), dBt = FloatBuffer(count: dB.count)
                dWt.copy(from: dWFused); dBt.copy(from: dBFused)
                conv2dMaxPoolBackward(dWeight: dWt.pointer, dBias: hasBias ? dBt.pointer : nil, dPooled: dPooled.pointer,
                                      argMax: argMax.pointer, input: x.pointer, conv: conv, pool: pool,
                                      reluSlope: slope, threads: threads)
                XCTAssertEqual(dWt.array.map(\.bitPattern), dW.array.map(\.bitPattern), "dWeight, " + what)
                if hasBias { XCTAssertEqual(dBt.array.map(\.bitPattern), dB.array.map(\.bitPattern), "dBias, " + what) }
            }
        }
    }

    /// Only first layers on the direct route, pooled over their whole output, are fused.
    func testFusibleOnlyForTheDirectRoute() {
        let direct = Conv2dShape(batch: 1, channels: 1, height: 28, width: 28, outChannels: 8, kernelH: 3, kernelW: 3,
                                 padding: 1)
        XCTAssertTrue(conv2dMaxPoolFusible(direct, PoolShape(batch: 1, channels: 8, height: 28, width: 28, size: 2)))
        XCTAssertFalse(conv2dMaxPoolFusible(direct, PoolShape(batch: 1, channels: 4, height: 28, width: 28, size: 2)))
        let twoChannels = Conv2dShape(batch: 1, channels: 2, height: 28, width: 28, outChannels: 8, kernelH: 3, kernelW: 3,
                                      padding: 1)
        XCTAssertFalse(conv2dMaxPoolFusible(twoChannels, PoolShape(batch: 1, channels: 8, height: 28, width: 28, size: 2)))
        let narrow = Conv2dShape(batch: 1, channels: 1, height: 12, width: 12, outChannels: 8, kernelH: 3, kernelW: 3,
                                 padding: 1)
        XCTAssertFalse(conv2dMaxPoolFusible(narrow, PoolShape(batch: 1, channels: 8, height: 12, width: 12, size: 2)))
    }
}
