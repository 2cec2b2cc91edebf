// Max-pooling that records which input of each window won, so that backward reads one byte
// per pooled output instead of the whole pooled input (for a layer fused with the convolution
// before it, that input is never stored: see ConvPoolFused.swift).
//
// One code per output: the index ky * size + kx of the window's first maximum (the input that
// `maxPoolBackward` picks), with `argMaxNonPositive` set when that maximum is <= 0 (where a
// fused ReLU-like activation's slope applies to the gradient). Values and gradients are the
// bits of `maxPoolForward` and `maxPoolBackward`: the same comparisons in the same order.
// Single-threaded: the callers run it image by image inside their own parallel ranges.

/// The flag bit of an arg-max code: the window's maximum is <= 0.
public let argMaxNonPositive: UInt8 = 0x80

/// Whether a pool's window indices fit in a code beside the flag bit.
public func maxPoolArgMaxFits(_ s: PoolShape) -> Bool { s.padding == 0 && s.size * s.size <= Int(argMaxNonPositive) }

/// output = maxPool(input) (with the activation of slope `reluSlope` when given, as in
/// `maxPoolForward`), and one arg-max code per output in `argMax`.
public func maxPoolForwardRecordingArgMax(output: UnsafeMutablePointer<Float>, argMax: UnsafeMutablePointer<UInt8>,
                                          input: UnsafePointer<Float>, shape s: PoolShape, reluSlope: Float? = nil) {
    precondition(maxPoolArgMaxFits(s), "maxPoolForwardRecordingArgMax: \(s.size)x\(s.size) windows do not fit a code")
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    let fused = reluSlope != nil, slope = reluSlope ?? 0
    for p in 0..<s.planes {
        let src = input + p &* h &* w, dst = output + p &* oh &* ow, codes = argMax + p &* oh &* ow
        if s.size == 2 && s.stride == 2 {
            for y in 0..<oh {
                let r0 = src + (2 &* y) &* w, r1 = r0 + w, d = dst + y &* ow, c = codes + y &* ow
                if ow >= 8 {
                    // Vectors of 8 windows, as in maxPoolForward.
                    forEachOverlappingVector8(ow) { x in
                        maxPool2x2ForwardRecording8(d, c, r0, r1, x, fused: fused, slope: slope)
                    }
                } else {
                    for x in 0..<ow {
                        let x2 = 2 &* x
                        let a = r0[x2], b = r0[x2 &+ 1], e = r1[x2], f = r1[x2 &+ 1]
                        let m = max(max(a, b), max(e, f))
                        d[x] = fused && m < 0 ? m * slope : m
                        let at: UInt8 = a == m ? 0 : b == m ? 1 : e == m ? 2 : 3
                        c[x] = m <= 0 ? at | argMaxNonPositive : at
                    }
                }
            }
            continue
        }
        for y in 0..<oh {
            for x in 0..<ow {
                // The value as maxPoolForward takes it, the winner as maxPoolBackward finds it.
                var m = -Float.infinity, best = -Float.infinity, at = 0
                for ky in 0..<s.size {
                    let r = src + ((y &* s.stride &+ ky) &* w &+ x &* s.stride)
                    for kx in 0..<s.size {
                        m = max(m, r[kx])
                        if r[kx] > best { best = r[kx]; at = ky &* s.size &+ kx }
                    }
                }
                dst[y &* ow &+ x] = fused && m < 0 ? m * slope : m
                codes[y &* ow &+ x] = UInt8(at) | (best <= 0 ? argMaxNonPositive : 0)
            }
        }
    }
}

/// dInput (overwritten) from the gradient of the pooled output and the codes the forward pass
/// recorded; `reluSlope` as given to it.
public func maxPoolBackwardFromArgMax(dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                      argMax: UnsafePointer<UInt8>, shape s: PoolShape, reluSlope: Float? = nil) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    let fused = reluSlope != nil, slope = reluSlope ?? 0
    for p in 0..<s.planes {
        let g = dOutput + p &* oh &* ow, codes = argMax + p &* oh &* ow, d = dInput + p &* h &* w
        if s.size == 2 && s.stride == 2 {
            // Every input of a window gets the gradient or 0, as in maxPoolBackward.
            if oh &* 2 != h || ow &* 2 != w { d.update(repeating: 0, count: h &* w) }
            for y in 0..<oh {
                let d0 = d + (2 &* y) &* w, d1 = d0 + w, gy = g + y &* ow, c = codes + y &* ow
                if ow >= 8 {
                    forEachOverlappingVector8(ow) { x in
                        maxPool2x2BackwardFromArgMax8(d0, d1, gy, c, x, fused: fused, slope: slope)
                    }
                } else {
                    for x in 0..<ow {
                        let x2 = 2 &* x, code = c[x]
                        let v = fused && code & argMaxNonPositive != 0 ? gy[x] * slope : gy[x]
                        let at = code & 3
                        d0[x2] = at == 0 ? v : 0; d0[x2 &+ 1] = at == 1 ? v : 0
                        d1[x2] = at == 2 ? v : 0; d1[x2 &+ 1] = at == 3 ? v : 0
                    }
                }
            }
            continue
        }
        d.update(repeating: 0, count: h &* w)
        for y in 0..<oh {
            for x in 0..<ow {
                let code = codes[y &* ow &+ x], at = Int(code & ~argMaxNonPositive)
                let ky = at / s.size, kx = at &- ky &* s.size
                let v = g[y &* ow &+ x]
                d[(y &* s.stride &+ ky) &* w &+ x &* s.stride &+ kx] += fused && code & argMaxNonPositive != 0 ? v * slope : v
            }
        }
    }
}

@inline(__always)
func maxPool2x2ForwardRecording8(_ d: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<UInt8>,
                                 _ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ x: Int,
                                 fused: Bool, slope: Float) {
    let (a, b, lowerLeft, _, m) = windows2x2x8(r0, r1, x)
    let zero = SIMD8<Float>()
    let p = fused ? m.replacing(with: m * SIMD8(repeating: slope), where: m .< zero) : m
    UnsafeMutableRawPointer(d + x).storeBytes(of: p, as: SIMD8<Float>.self)
    // First maximum wins: assign the later inputs first, the earlier ones overwrite them. The
    // codes are built as floats: Swift's integer SIMD comparisons and selects compile to a
    // loop over the lanes, its float ones to single instructions.
    var code = SIMD8<Float>(repeating: 3)
    code.replace(with: 2, where: lowerLeft .== m)
    code.replace(with: 1, where: b .== m)
    code.replace(with: 0, where: a .== m)
    code.replace(with: code + Float(argMaxNonPositive), where: m .<= zero)
    // To integers without a conversion (SIMD8<Int32>(code) calls a generic rounding function):
    // for 0 <= c < 2^23, the low bits of (c + 2^23)'s bit pattern are c.
    let bytes = SIMD8<UInt8>(truncatingIfNeeded: unsafeBitCast(code + 0x1p23, to: SIMD8<Int32>.self))
    UnsafeMutableRawPointer(c + x).storeBytes(of: bytes, as: SIMD8<UInt8>.self)
}

@inline(__always)
func maxPool2x2BackwardFromArgMax8(_ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>,
                                   _ g: UnsafePointer<Float>, _ c: UnsafePointer<UInt8>, _ x: Int,
                                   fused: Bool, slope: Float) {
    let x2 = 2 &* x
    let code = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(c + x).loadUnaligned(as: SIMD8<UInt8>.self))
    var v = UnsafeRawPointer(g + x).loadUnaligned(as: SIMD8<Float>.self)
    // Compared as floats (see maxPool2x2ForwardRecording8).
    if fused {
        v = v.replacing(with: v * SIMD8(repeating: slope), where: SIMD8<Float>(code) .>= Float(argMaxNonPositive))
    }
    let at = SIMD8<Float>(code & 3), zero = SIMD8<Float>()
    var o0 = SIMD16<Float>(), o1 = SIMD16<Float>()
    o0.evenHalf = zero.replacing(with: v, where: at .== 0); o0.oddHalf = zero.replacing(with: v, where: at .== 1)
    o1.evenHalf = zero.replacing(with: v, where: at .== 2); o1.oddHalf = zero.replacing(with: v, where: at .== 3)
    UnsafeMutableRawPointer(d0 + x2).storeBytes(of: o0, as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(d1 + x2).storeBytes(of: o1, as: SIMD16<Float>.self)
}
