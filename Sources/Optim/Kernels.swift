// The optimizer's inner loops: a SIMD16 body over 64-byte aligned slots and a scalar tail for
// the leftovers, both computing the same expression in the same order.

#if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
import _Builtin_intrinsics.intel
#endif

typealias V = SIMD16<Float>

/// Lane-wise square root. `SIMD16.squareRoot()` is lowered to 16 scalar `sqrtss` with an errno
/// check each (the stdlib shim is `__builtin_sqrtf` under math-errno), so on x86-64 call
/// `vsqrtps` directly: same IEEE result, 16 lanes in two instructions.
@inline(__always) private func squareRoot(_ v: V) -> V {
    #if arch(x86_64) && canImport(_Builtin_intrinsics.intel)
    return V(lowHalf: _mm256_sqrt_ps(v.lowHalf), highHalf: _mm256_sqrt_ps(v.highHalf))
    #else
    return v.squareRoot()
    #endif
}

@inline(__always) private func load(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> V {
    UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
}

@inline(__always) private func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
}

enum SGDKernel {
    /// torch.optim.SGD for one slot (`buf` nil: no momentum).
    ///   l2:        d = g + wd*p                 decoupled: p = p - lr*wd*p; d = g
    ///   momentum:  buf = first ? d : m*buf + (1-dampening)*d
    ///              d = nesterov ? d + m*buf : buf
    ///   p = p - lr*d
    static func update(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                       buf: UnsafeMutablePointer<Float>?, count: Int, lr: Float, momentum m: Float,
                       dampening: Float, nesterov: Bool, weightDecay wd: Float, decoupled: Bool, firstStep: Bool) {
        let l2 = decoupled ? 0 : wd
        let shrink = decoupled ? 1 - lr * wd : 1
        let oneMinusD = 1 - dampening
        let seed = firstStep
        let useBuf = buf != nil && m != 0
        var i = 0
        if let b = buf, useBuf {
            while i + 16 <= count {
                var pv = load(p, i)
                let pOld = pv
                if decoupled { pv = pv * shrink }
                var d = load(g, i)
                if !decoupled { d = d + l2 * pOld }
                let bv = seed ? d : m * load(b, i) + oneMinusD * d
                store(bv, b, i)
                d = nesterov ? d + m * bv : bv
                store(pv - lr * d, p, i)
                i += 16
            }
            // Leftovers.
            while i < count {
                var pv = p[i]
                let pOld = pv
                if decoupled { pv = pv * shrink }
                var d = g[i]
                if !decoupled { d = d + l2 * pOld }
                let bv = seed ? d : m * b[i] + oneMinusD * d
                b[i] = bv
                d = nesterov ? d + m * bv : bv
                p[i] = pv - lr * d
                i += 1
            }
        } else {
            while i + 16 <= count {
                var pv = load(p, i)
                let pOld = pv
                if decoupled { pv = pv * shrink }
                var d = load(g, i)
                if !decoupled { d = d + l2 * pOld }
                store(pv - lr * d, p, i)
                i += 16
            }
            while i < count {
                var pv = p[i]
                let pOld = pv
                if decoupled { pv = pv * shrink }
                var d = g[i]
                if !decoupled { d = d + l2 * pOld }
                p[i] = pv - lr * d
                i += 1
            }
        }
    }
}

enum AdamWKernel {
    /// torch.optim.AdamW for one slot:
    ///   p = p * (1 - lr*wd)
    ///   m = m + (1-b1)*(g - m)          (lerp, as PyTorch)
    ///   v = b2*v + (1-b2)*g*g
    ///   p = p - stepSize * m / (sqrt(v)/sqrt(bc2) + eps),  stepSize = lr / (1 - b1^t)
    static func update(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>,
                       m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
                       lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay wd: Float,
                       stepSize: Float, bc2Sqrt: Float) {
        let shrink = 1 - lr * wd
        let a1 = 1 - beta1
        let a2 = 1 - beta2
        var i = 0
        while i + 16 <= count {
            let gv = load(g, i)
            let mv = load(m, i) + a1 * (gv - load(m, i))
            let vv = beta2 * load(v, i) + a2 * (gv * gv)
            store(mv, m, i)
            store(vv, v, i)
            let denom = squareRoot(vv) / bc2Sqrt + eps
            store(load(p, i) * shrink - stepSize * (mv / denom), p, i)
            i += 16
        }
        // Leftovers.
        while i < count {
            let gv = g[i]
            let mv = m[i] + a1 * (gv - m[i])
            let vv = beta2 * v[i] + a2 * (gv * gv)
            m[i] = mv
            v[i] = vv
            let denom = vv.squareRoot() / bc2Sqrt + eps
            p[i] = p[i] * shrink - stepSize * (mv / denom)
            i += 1
        }
    }
}

@inline(__always) private func absolute(_ v: V) -> V {
    v.replacing(with: -v, where: v .< V(repeating: 0))
}

enum L1Kernel {
    /// g += λ·sign(p) (sign(0) = 0: the subgradient PyTorch's `torch.sign` gives); returns Σ|p|.
    static func addSubgradient(p: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, count: Int,
                               lambda: Float) -> Float {
        var acc = V()
        let zero = V(repeating: 0), plus = V(repeating: lambda), minus = V(repeating: -lambda)
        var i = 0
        while i + 16 <= count {
            let pv = load(p, i)
            var step = zero
            step.replace(with: plus, where: pv .> zero)
            step.replace(with: minus, where: pv .< zero)
            store(load(g, i) + step, g, i)
            acc = acc + absolute(pv)
            i += 16
        }
        var tail: Float = 0
        while i < count {
            let pv = p[i]
            g[i] += pv > 0 ? lambda : pv < 0 ? -lambda : 0
            tail += abs(pv)
            i += 1
        }
        return acc.sum() + tail
    }
}

enum VectorMath {
    /// Σ|x| with 16 Float lanes, then the lanes added in a fixed order (as `addSubgradient`).
    static func sumOfAbs(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var acc = V()
        var i = 0
        while i + 16 <= count {
            acc = acc + absolute(load(x, i))
            i += 16
        }
        var tail: Float = 0
        while i < count {
            tail += abs(x[i])
            i += 1
        }
        return acc.sum() + tail
    }

    /// Sum of squares with 16 Float lanes, then the lanes added in a fixed order.
    static func sumOfSquares(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var acc = V()
        var i = 0
        while i + 16 <= count {
            let v = load(x, i)
            acc = acc + v * v
            i += 16
        }
        var tail: Float = 0
        while i < count {
            tail += x[i] * x[i]
            i += 1
        }
        return acc.sum() + tail
    }

    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by s: Float) {
        var i = 0
        while i + 16 <= count {
            store(load(x, i) * s, x, i)
            i += 16
        }
        while i < count {
            x[i] *= s
            i += 1
        }
    }
}
