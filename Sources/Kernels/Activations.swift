import Foundation

// Element-wise activations. Forward writes y = f(x); backward writes dx = dy * f'(x)
// (overwrites), from the saved input x. In-place (y == x) is allowed for forward.

public enum Activation: Sendable, Equatable {
    case relu
    case leakyRelu(slope: Float)
    case elu(alpha: Float)
}

public func activationForward(_ kind: Activation, output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                              count: Int) {
    switch kind {
    case .relu: reluLike(output, input, count, slope: 0)
    case .leakyRelu(let slope): reluLike(output, input, count, slope: slope)
    case .elu(let alpha):
        for i in 0..<count { let x = input[i]; output[i] = x > 0 ? x : alpha * (expf(x) - 1) }
    }
}

public func activationBackward(_ kind: Activation, dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                               input: UnsafePointer<Float>, count: Int) {
    switch kind {
    case .relu: reluLikeBackward(dInput, dOutput, input, count, slope: 0)
    case .leakyRelu(let slope): reluLikeBackward(dInput, dOutput, input, count, slope: slope)
    case .elu(let alpha):
        for i in 0..<count { let x = input[i]; dInput[i] = x > 0 ? dOutput[i] : dOutput[i] * alpha * expf(x) }
    }
}

@inline(__always)
func reluLike(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int, slope: Float) {
    let zero = SIMD16<Float>(), s = SIMD16<Float>(repeating: slope)
    let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
    var i = 0
    while i &+ 16 <= count {
        let v = xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
        yr.storeBytes(of: v.replacing(with: v * s, where: v .< zero), toByteOffset: i &* 4, as: SIMD16<Float>.self)
        i &+= 16
    }
    while i < count { let v = x[i]; y[i] = v < 0 ? v * slope : v; i &+= 1 }  // leftovers
}

@inline(__always)
func reluLikeBackward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                      _ count: Int, slope: Float) {
    let zero = SIMD16<Float>(), s = SIMD16<Float>(repeating: slope)
    let xr = UnsafeRawPointer(x), gr = UnsafeRawPointer(dy), dr = UnsafeMutableRawPointer(dx)
    var i = 0
    while i &+ 16 <= count {
        let v = xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
        let g = gr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
        dr.storeBytes(of: g.replacing(with: g * s, where: v .<= zero), toByteOffset: i &* 4, as: SIMD16<Float>.self)
        i &+= 16
    }
    while i < count { dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope; i &+= 1 }  // leftovers
}

/// Plain-loop reference for the activations (forward and backward).
public func activationReference(_ kind: Activation, x: Float, dy: Float) -> (y: Float, dx: Float) {
    switch kind {
    case .relu: return (x > 0 ? x : 0, x > 0 ? dy : 0)
    case .leakyRelu(let s): return (x > 0 ? x : s * x, x > 0 ? dy : s * dy)
    case .elu(let a): return (x > 0 ? x : a * (exp(x) - 1), x > 0 ? dy : dy * a * exp(x))
    }
}

/// out = a + b (residual connections). out may alias a or b.
public func addForward(output: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                       count: Int) {
    let ar = UnsafeRawPointer(a), br = UnsafeRawPointer(b), orw = UnsafeMutableRawPointer(output)
    var i = 0
    while i &+ 16 <= count {
        let v = ar.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
            + br.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
        orw.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD16<Float>.self)
        i &+= 16
    }
    while i < count { output[i] = a[i] + b[i]; i &+= 1 }  // leftovers
}

/// y += x.
public func accumulate(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    addForward(output: y, UnsafePointer(y), x, count: count)
}
