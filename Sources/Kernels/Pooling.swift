// Pooling, NCHW. Window `size`, step `stride`, `padding` on every side (max-pool only: padded
// positions never win, as in PyTorch's MaxPool2d); OH = (H + 2 * padding - size) / stride + 1.
// Max-pool backward recomputes the arg-max from the input (first maximum wins on ties).
// Threads split the N*C planes; every output is written by one thread.

public struct PoolShape: Sendable, Equatable {
    public var batch, channels, height, width, size, stride, padding: Int
    public init(batch: Int, channels: Int, height: Int, width: Int, size: Int, stride: Int? = nil, padding: Int = 0) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.size = size; self.stride = stride ?? size; self.padding = padding
        // PyTorch's rule: padding at most half the window, so every window holds an input.
        precondition(size >= 1 && self.stride >= 1 && padding >= 0 && 2 * padding <= size
                     && height + 2 * padding >= size && width + 2 * padding >= size, "bad pool geometry")
    }
    public var outHeight: Int { (height + 2 * padding - size) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - size) / stride + 1 }
    public var planes: Int { batch * channels }
}

/// `reluSlope`: a ReLU (0) or leaky ReLU that follows the pooling, applied in the same pass
/// (the activation layer then passes its input through): the bits of pooling then
/// `activationForward`, without another trip through memory.
public func maxPoolForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: PoolShape,
                           threads: Int = KernelThreads.count, reluSlope: Float? = nil) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    let fused = reluSlope != nil, slope = reluSlope ?? 0
    parallelRanges(s.planes, threads: threads) { planes in
        for p in planes {
            let src = input + p &* h &* w, dst = output + p &* oh &* ow
            if s.padding > 0 {
                maxPoolPaddedForwardPlane(dst, src, s, fused: fused, slope: slope)
                continue
            }
            if s.size == 2 && s.stride == 2 {
                for y in 0..<oh {
                    let r0 = src + (2 &* y) &* w, r1 = r0 + w, d = dst + y &* ow
                    if ow >= 8 {
                        forEachOverlappingVector8(ow) { x in maxPool2x2Forward8(d, r0, r1, x, fused: fused, slope: slope) }
                    } else {
                        for x in 0..<ow {
                            let x2 = 2 &* x
                            let m = max(max(r0[x2], r0[x2 &+ 1]), max(r1[x2], r1[x2 &+ 1]))
                            d[x] = fused && m < 0 ? m * slope : m
                        }
                    }
                }
                continue
            }
            for y in 0..<oh {
                for x in 0..<ow {
                    var m = -Float.infinity
                    for ky in 0..<s.size {
                        let r = src + ((y &* s.stride &+ ky) &* w &+ x &* s.stride)
                        for kx in 0..<s.size { m = max(m, r[kx]) }
                    }
                    dst[y &* ow &+ x] = fused && m < 0 ? m * slope : m
                }
            }
        }
    }
}

/// dInput is overwritten. `reluSlope`: as in `maxPoolForward`; dOutput is then the gradient of
/// the activation's output, and each window's maximum decides the activation's derivative.
public func maxPoolBackward(dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                            input: UnsafePointer<Float>, shape s: PoolShape, threads: Int = KernelThreads.count,
                            reluSlope: Float? = nil) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    let fused = reluSlope != nil, slope = reluSlope ?? 0
    parallelRanges(s.planes, threads: threads) { planes in
        for p in planes {
            let src = input + p &* h &* w, g = dOutput + p &* oh &* ow, d = dInput + p &* h &* w
            if s.padding > 0 {
                maxPoolPaddedBackwardPlane(d, src, g, s, fused: fused, slope: slope)
                continue
            }
            if s.size == 2 && s.stride == 2 {
                maxPool2x2BackwardPlane(d, src, g, h: h, w: w, oh: oh, ow: ow, fused: fused, slope: slope)
                continue
            }
            d.update(repeating: 0, count: h &* w)
            for y in 0..<oh {
                for x in 0..<ow {
                    var best = -Float.infinity, at = (y &* s.stride) &* w &+ x &* s.stride
                    for ky in 0..<s.size {
                        let base = (y &* s.stride &+ ky) &* w &+ x &* s.stride
                        for kx in 0..<s.size where src[base &+ kx] > best { best = src[base &+ kx]; at = base &+ kx }
                    }
                    let v = g[y &* ow &+ x]
                    d[at] += fused && best <= 0 ? v * slope : v
                }
            }
        }
    }
}

/// One plane of the 2x2 stride-2 max-pool backward pass: every input of a window gets the
/// gradient or 0 (first maximum wins). Its own function: inlined into maxPoolBackward's
/// closure, its SIMD loads and stores stayed calls to the stdlib's generic specialisations.
@inline(never)
func maxPool2x2BackwardPlane(_ d: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                             h: Int, w: Int, oh: Int, ow: Int, fused: Bool, slope: Float) {
    if oh &* 2 != h || ow &* 2 != w { d.update(repeating: 0, count: h &* w) }
    for y in 0..<oh {
        let r0 = src + (2 &* y) &* w, r1 = r0 + w
        let d0 = d + (2 &* y) &* w, d1 = d0 + w
        let gy = g + (y &* ow)
        // Windows in vectors of 8 (or 4); a last partial vector overlaps the previous
        // one, which is harmless because every window writes all four of its inputs.
        if ow >= 8 {
            forEachOverlappingVector8(ow) { x in
                maxPool2x2Backward8(d0, d1, r0, r1, gy, x, fused: fused, slope: slope)
            }
        } else if ow >= 4 {
            maxPool2x2Backward4(d0, d1, r0, r1, gy, 0, fused: fused, slope: slope)
            maxPool2x2Backward4(d0, d1, r0, r1, gy, ow &- 4, fused: fused, slope: slope)
        } else {
            for x in 0..<ow {
                let x2 = 2 &* x
                let a = r0[x2], b = r0[x2 &+ 1], c = r1[x2], e = r1[x2 &+ 1]
                let m = max(max(a, b), max(c, e))
                let v = fused && m <= 0 ? gy[x] * slope : gy[x]
                let ta = a == m, tb = !ta && b == m, tc = !ta && !tb && c == m
                d0[x2] = ta ? v : 0; d0[x2 &+ 1] = tb ? v : 0
                d1[x2] = tc ? v : 0; d1[x2 &+ 1] = !ta && !tb && !tc ? v : 0
            }
        }
    }
}

/// One plane of a padded max-pool (ResNet's 3x3 stride-2 pad-1 stem pool): each window runs
/// over its in-bounds part only. Row and column bounds are clamped once per window, so the
/// inner loops have no test.
@inline(never)
func maxPoolPaddedForwardPlane(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ s: PoolShape,
                               fused: Bool, slope: Float) {
    let oh = s.outHeight, ow = s.outWidth
    for y in 0..<oh {
        let y0 = max(y &* s.stride &- s.padding, 0), y1 = min(y &* s.stride &- s.padding &+ s.size, s.height)
        for x in 0..<ow {
            let x0 = max(x &* s.stride &- s.padding, 0), x1 = min(x &* s.stride &- s.padding &+ s.size, s.width)
            var m = -Float.infinity
            for yy in y0..<y1 {
                let r = src + yy &* s.width
                for xx in x0..<x1 { m = max(m, r[xx]) }
            }
            dst[y &* ow &+ x] = fused && m < 0 ? m * slope : m
        }
    }
}

/// Backward of `maxPoolPaddedForwardPlane`: the gradient goes to each window's first maximum
/// (scanned in the same order, so it is the input the forward pass kept); dInput overwritten.
@inline(never)
func maxPoolPaddedBackwardPlane(_ d: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ g: UnsafePointer<Float>,
                                _ s: PoolShape, fused: Bool, slope: Float) {
    let oh = s.outHeight, ow = s.outWidth
    d.update(repeating: 0, count: s.height &* s.width)
    for y in 0..<oh {
        let y0 = max(y &* s.stride &- s.padding, 0), y1 = min(y &* s.stride &- s.padding &+ s.size, s.height)
        for x in 0..<ow {
            let x0 = max(x &* s.stride &- s.padding, 0), x1 = min(x &* s.stride &- s.padding &+ s.size, s.width)
            var best = -Float.infinity, at = y0 &* s.width &+ x0
            for yy in y0..<y1 {
                for xx in x0..<x1 where src[yy &* s.width &+ xx] > best { best = src[yy &* s.width &+ xx]; at = yy &* s.width &+ xx }
            }
            let v = g[y &* ow &+ x]
            d[at] += fused && best <= 0 ? v * slope : v
        }
    }
}

public func avgPoolForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: PoolShape,
                           threads: Int = KernelThreads.count) {
    precondition(s.padding == 0, "average pooling has no padding")
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    let scale = 1 / Float(s.size * s.size)
    parallelRanges(s.planes, threads: threads) { planes in
        for p in planes {
            let src = input + p &* h &* w, dst = output + p &* oh &* ow
            for y in 0..<oh {
                for x in 0..<ow {
                    var t: Float = 0
                    for ky in 0..<s.size {
                        let r = src + ((y &* s.stride &+ ky) &* w &+ x &* s.stride)
                        for kx in 0..<s.size { t += r[kx] }
                    }
                    dst[y &* ow &+ x] = t * scale
                }
            }
        }
    }
}

/// dInput is overwritten.
public func avgPoolBackward(dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>, shape s: PoolShape,
                            threads: Int = KernelThreads.count) {
    precondition(s.padding == 0, "average pooling has no padding")
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    let scale = 1 / Float(s.size * s.size)
    parallelRanges(s.planes, threads: threads) { planes in
        for p in planes {
            let g = dOutput + p &* oh &* ow, d = dInput + p &* h &* w
            d.update(repeating: 0, count: h &* w)
            for y in 0..<oh {
                for x in 0..<ow {
                    let v = g[y &* ow &+ x] * scale
                    for ky in 0..<s.size {
                        let r = d + ((y &* s.stride &+ ky) &* w &+ x &* s.stride)
                        for kx in 0..<s.size { r[kx] += v }
                    }
                }
            }
        }
    }
}

/// [N, C, H, W] -> [N, C]: the mean of each plane.
public func globalAvgPoolForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                 planes: Int, planeSize: Int) {
    let scale = 1 / Float(planeSize)
    for p in 0..<planes { output[p] = sumOf(input + p &* planeSize, planeSize) * scale }
}

/// dInput is overwritten.
public func globalAvgPoolBackward(dInput: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                  planes: Int, planeSize: Int) {
    let scale = 1 / Float(planeSize)
    for p in 0..<planes { (dInput + p &* planeSize).update(repeating: dOutput[p] * scale, count: planeSize) }
}

// MARK: - Reference (max-pool and avg-pool; global average pool is its own reference)

public func maxPoolForwardReference(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: PoolShape) {
    for p in 0..<s.planes {
        for y in 0..<s.outHeight {
            for x in 0..<s.outWidth {
                var m = -Float.infinity
                for ky in 0..<s.size {
                    for kx in 0..<s.size {
                        let iy = y * s.stride + ky - s.padding, ix = x * s.stride + kx - s.padding
                        guard iy >= 0, iy < s.height, ix >= 0, ix < s.width else { continue }
                        m = max(m, input[(p * s.height + iy) * s.width + ix])
                    }
                }
                output[(p * s.outHeight + y) * s.outWidth + x] = m
            }
        }
    }
}

public func avgPoolForwardReference(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, shape s: PoolShape) {
    for p in 0..<s.planes {
        for y in 0..<s.outHeight {
            for x in 0..<s.outWidth {
                var t: Double = 0
                for ky in 0..<s.size {
                    for kx in 0..<s.size { t += Double(input[(p * s.height + y * s.stride + ky) * s.width + x * s.stride + kx]) }
                }
                output[(p * s.outHeight + y) * s.outWidth + x] = Float(t / Double(s.size * s.size))
            }
        }
    }
}

/// body(x) for x = 0, 8, 16, ..., then x = count - 8 when count is not a multiple of 8: vectors
/// of 8 windows along a row (count >= 8), the last one overlapping the one before; for passes
/// where computing a window twice gives the same values (every window writes all its outputs).
@inline(__always)
func forEachOverlappingVector8(_ count: Int, _ body: (Int) -> Void) {
    var x = 0
    while true {
        let xs = min(x, count &- 8)
        body(xs)
        if xs == count &- 8 { return }
        x &+= 8
    }
}

/// Lane-wise maximum (the stdlib's generic pointwiseMax is not inlined here).
@inline(__always)
func vmax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }

/// The inputs of the 8 adjacent 2x2 windows of output columns x ..< x + 8 (input rows r0 and
/// r1): top-left, top-right, bottom-left, bottom-right, and the windows' maxima.
@_transparent  // with @inline(__always) it stayed a call in maxPoolForward/Backward
func windows2x2x8(_ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ x: Int)
    -> (a: SIMD8<Float>, b: SIMD8<Float>, c: SIMD8<Float>, e: SIMD8<Float>, max: SIMD8<Float>) {
    let u = UnsafeRawPointer(r0 + 2 &* x).loadUnaligned(as: SIMD16<Float>.self)
    let l = UnsafeRawPointer(r1 + 2 &* x).loadUnaligned(as: SIMD16<Float>.self)
    let a = u.evenHalf, b = u.oddHalf, c = l.evenHalf, e = l.oddHalf
    return (a, b, c, e, vmax(vmax(a, b), vmax(c, e)))
}

@inline(__always)
func maxPool2x2Forward8(_ d: UnsafeMutablePointer<Float>, _ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>,
                        _ x: Int, fused: Bool, slope: Float) {
    var p = windows2x2x8(r0, r1, x).max
    if fused { p = p.replacing(with: p * SIMD8(repeating: slope), where: p .< SIMD8<Float>()) }
    UnsafeMutableRawPointer(d + x).storeBytes(of: p, as: SIMD8<Float>.self)
}

@inline(__always)
func maxPool2x2Backward8(_ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>,
                         _ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ x: Int,
                         fused: Bool, slope: Float) {
    let x2 = 2 &* x
    let (a, b, c, _, m) = windows2x2x8(r0, r1, x)
    var v = UnsafeRawPointer(g + x).loadUnaligned(as: SIMD8<Float>.self)
    let zero = SIMD8<Float>()
    if fused { v = v.replacing(with: v * SIMD8(repeating: slope), where: m .<= zero) }
    let ta = a .== m, tb = (b .== m) .& .!ta
    let tc = (c .== m) .& .!(ta .| tb), te = .!(ta .| tb .| tc)
    var o0 = SIMD16<Float>(), o1 = SIMD16<Float>()
    o0.evenHalf = zero.replacing(with: v, where: ta); o0.oddHalf = zero.replacing(with: v, where: tb)
    o1.evenHalf = zero.replacing(with: v, where: tc); o1.oddHalf = zero.replacing(with: v, where: te)
    UnsafeMutableRawPointer(d0 + x2).storeBytes(of: o0, as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(d1 + x2).storeBytes(of: o1, as: SIMD16<Float>.self)
}

@inline(__always)
func maxPool2x2Backward4(_ d0: UnsafeMutablePointer<Float>, _ d1: UnsafeMutablePointer<Float>,
                         _ r0: UnsafePointer<Float>, _ r1: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ x: Int,
                         fused: Bool, slope: Float) {
    let x2 = 2 &* x
    let u = UnsafeRawPointer(r0 + x2).loadUnaligned(as: SIMD8<Float>.self)
    let l = UnsafeRawPointer(r1 + x2).loadUnaligned(as: SIMD8<Float>.self)
    let a = u.evenHalf, b = u.oddHalf, c = l.evenHalf, e = l.oddHalf
    let m = a.replacing(with: b, where: b .> a), n = c.replacing(with: e, where: e .> c)
    let mm = m.replacing(with: n, where: n .> m)
    var v = UnsafeRawPointer(g + x).loadUnaligned(as: SIMD4<Float>.self)
    let zero = SIMD4<Float>()
    if fused { v = v.replacing(with: v * SIMD4(repeating: slope), where: mm .<= zero) }
    let ta = a .== mm, tb = (b .== mm) .& .!ta
    let tc = (c .== mm) .& .!(ta .| tb), te = .!(ta .| tb .| tc)
    var o0 = SIMD8<Float>(), o1 = SIMD8<Float>()
    o0.evenHalf = zero.replacing(with: v, where: ta); o0.oddHalf = zero.replacing(with: v, where: tb)
    o1.evenHalf = zero.replacing(with: v, where: tc); o1.oddHalf = zero.replacing(with: v, where: te)
    UnsafeMutableRawPointer(d0 + x2).storeBytes(of: o0, as: SIMD8<Float>.self)
    UnsafeMutableRawPointer(d1 + x2).storeBytes(of: o1, as: SIMD8<Float>.self)
}
