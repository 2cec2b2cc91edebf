import Foundation

// Softmax cross-entropy over logits [N, K] with integer labels [N], in one pass, matching
// torch.nn.CrossEntropyLoss(weight=w, label_smoothing=eps, reduction="mean"):
//   L = sum_i [ (1 - eps) w[y_i] (-log p_i[y_i]) + (eps / K) sum_c w[c] (-log p_i[c]) ] / sum_i w[y_i]
//   dL/dz_i[k] = [ (1 - eps) w[y_i] (p_i[k] - [k == y_i]) + (eps / K) (W p_i[k] - w[k]) ] / sum_i w[y_i]
// with W = sum_c w[c]; w = 1 when no class weights are given.

/// Returns the mean loss; writes dLogits [N, K] when given. Labels must be in 0..<classes.
public func softmaxCrossEntropy<Label: BinaryInteger>(
    dLogits: UnsafeMutablePointer<Float>?, logits: UnsafePointer<Float>, labels: UnsafePointer<Label>,
    batch: Int, classes: Int, classWeights: UnsafePointer<Float>? = nil, labelSmoothing eps: Float = 0
) -> Float {
    precondition(eps >= 0 && eps < 1, "label smoothing must be in [0, 1)")
    var weightSum: Double = 0
    for i in 0..<batch {
        let y = Int(labels[i])
        precondition(y >= 0 && y < classes, "label \(y) out of range 0..<\(classes)")
        weightSum += Double(classWeights?[y] ?? 1)
    }
    var allWeights: Double = Double(classes)
    if let classWeights { allWeights = 0; for c in 0..<classes { allWeights += Double(classWeights[c]) } }
    let norm = weightSum > 0 ? 1 / weightSum : 0
    let smooth = Double(eps) / Double(classes)
    var loss: Double = 0
    for i in 0..<batch {
        let z = logits + i &* classes
        let y = Int(labels[i])
        var zmax = -Float.infinity
        for c in 0..<classes { zmax = max(zmax, z[c]) }
        var s: Double = 0
        for c in 0..<classes { s += exp(Double(z[c] - zmax)) }
        let logS = log(s)
        let wy = Double(classWeights?[y] ?? 1)
        // -log p[c] = logS - (z[c] - zmax)
        var smoothTerm: Double = 0
        for c in 0..<classes { smoothTerm += Double(classWeights?[c] ?? 1) * (logS - Double(z[c] - zmax)) }
        loss += (1 - Double(eps)) * wy * (logS - Double(z[y] - zmax)) + smooth * smoothTerm
        if let dLogits {
            let d = dLogits + i &* classes
            for c in 0..<classes {
                let p = exp(Double(z[c] - zmax) - logS)
                let wc = Double(classWeights?[c] ?? 1)
                var g = (1 - Double(eps)) * wy * p + smooth * (allWeights * p - wc)
                if c == y { g -= (1 - Double(eps)) * wy }
                d[c] = Float(g * norm)
            }
        }
    }
    return Float(loss * norm)
}

/// [Int] labels convenience.
public func softmaxCrossEntropy(dLogits: UnsafeMutablePointer<Float>?, logits: UnsafePointer<Float>, labels: [Int],
                                classes: Int, classWeights: [Float]? = nil, labelSmoothing: Float = 0) -> Float {
    labels.withUnsafeBufferPointer { l in
        if let classWeights {
            return classWeights.withUnsafeBufferPointer { w in
                softmaxCrossEntropy(dLogits: dLogits, logits: logits, labels: l.baseAddress!, batch: labels.count,
                                    classes: classes, classWeights: w.baseAddress, labelSmoothing: labelSmoothing)
            }
        }
        return softmaxCrossEntropy(dLogits: dLogits, logits: logits, labels: l.baseAddress!, batch: labels.count,
                                   classes: classes, classWeights: nil, labelSmoothing: labelSmoothing)
    }
}
