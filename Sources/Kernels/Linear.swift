// Fully connected layer, PyTorch layout.
//   input [N, IN]   weight [OUT, IN]   bias [OUT]   output [N, OUT]
// forward:  output = input * weight^T + bias
// backward: dInput = dOutput * weight (overwrites), dWeight += dOutput^T * input, dBias += sum_n dOutput

public func linearForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          batch: Int, inFeatures: Int, outFeatures: Int, threads: Int = KernelThreads.count) {
    for n in 0..<batch {
        let row = output + n &* outFeatures
        if let bias { row.update(from: bias, count: outFeatures) } else { row.update(repeating: 0, count: outFeatures) }
    }
    gemm(output, ldc: outFeatures, input, lda: inFeatures, transA: false, weight, ldb: inFeatures, transB: true,
         m: batch, n: outFeatures, k: inFeatures, accumulate: true, threads: threads)
}

public func linearBackward(dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                           dBias: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                           input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           batch: Int, inFeatures: Int, outFeatures: Int, threads: Int = KernelThreads.count) {
    if let dInput {
        gemm(dInput, ldc: inFeatures, dOutput, lda: outFeatures, transA: false, weight, ldb: inFeatures,
             transB: false, m: batch, n: inFeatures, k: outFeatures, accumulate: false, threads: threads)
    }
    gemm(dWeight, ldc: inFeatures, dOutput, lda: outFeatures, transA: true, input, ldb: inFeatures, transB: false,
         m: outFeatures, n: inFeatures, k: batch, accumulate: true, threads: threads)
    if let dBias {
        for o in 0..<outFeatures {
            var t: Float = 0
            for n in 0..<batch { t += dOutput[n &* outFeatures &+ o] }
            dBias[o] += t
        }
    }
}

/// Plain-loop reference of linearForward (Double accumulation).
public func linearForwardReference(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                   weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                   batch: Int, inFeatures: Int, outFeatures: Int) {
    for n in 0..<batch {
        for o in 0..<outFeatures {
            var t = Double(bias?[o] ?? 0)
            for i in 0..<inFeatures { t += Double(input[n * inFeatures + i]) * Double(weight[o * inFeatures + i]) }
            output[n * outFeatures + o] = Float(t)
        }
    }
}
