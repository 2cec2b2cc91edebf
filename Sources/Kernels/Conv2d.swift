// 2-D convolution, NCHW, via im2col + GEMM.
//
//   input  [N, C, H, W]    weight [OC, C, KH, KW]    bias [OC]    output [N, OC, OH, OW]
//   OH = (H + 2 * pad - KH) / stride + 1, likewise OW.
//   col    [C * KH * KW, OH * OW]  (one image at a time; row r = (c * KH + kh) * KW + kw)
//
// forward:        out[n]  = weight[OC, CKK] * col[n] + bias
// backward-data:  dCol[n] = weight^T * dOut[n],  dInput[n] = col2im(dCol[n])    (overwrites)
// backward-weight: dWeight += sum_n dOut[n] * col[n]^T, dBias += sum dOut       (accumulates)
// Threads take whole images; the weight gradient is summed over fixed groups of images in a
// fixed order, so results are bit-identical for any thread count.

public struct Conv2dShape: Sendable, Equatable {
    public var batch, channels, height, width: Int
    public var outChannels, kernelH, kernelW, stride, padding: Int

    public init(batch: Int, channels: Int, height: Int, width: Int, outChannels: Int,
                kernelH: Int, kernelW: Int, stride: Int = 1, padding: Int = 0) {
        precondition(stride >= 1 && padding >= 0 && kernelH >= 1 && kernelW >= 1, "bad conv geometry")
        self.batch = batch; self.channels = channels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padding = padding
        precondition(outHeight >= 1 && outWidth >= 1, "conv output would be empty")
    }

    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    public var colRows: Int { channels * kernelH * kernelW }
    public var colCols: Int { outHeight * outWidth }
    public var inputPlane: Int { channels * height * width }
    public var outputPlane: Int { outChannels * outHeight * outWidth }
    /// 1x1, stride 1, no padding: the input image already is its col matrix.
    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    /// Stride 1 and an output as wide as the input: every col row is a shifted slice of an
    /// input plane, which im2col copies in one piece.
    public var hasShiftedPlaneColumns: Bool { stride == 1 && outWidth == width }
    /// Multiply-adds x 2 of the forward product (backward-data and backward-weight cost the same).
    public var forwardFlops: Double { 2 * Double(batch) * Double(outChannels) * Double(colRows) * Double(colCols) }
}

/// Images per weight-gradient partial sum; fixed so the sum order never depends on threads.
public let convGradientGroup = 8

/// Splits 0..<total into at most `threads` contiguous ranges, one per worker.
@inlinable
public func parallelRanges(_ total: Int, threads: Int = KernelThreads.count, _ body: (Range<Int>) -> Void) {
    let workers = max(1, min(threads, total))
    parallelFor(workers, threads: workers) { w in
        body(workerShare(w, of: workers, tasks: total))
    }
}

/// col[C*KH*KW, OH*OW] from one image [C, H, W].
public func im2col(_ col: UnsafeMutablePointer<Float>, _ image: UnsafePointer<Float>, _ s: Conv2dShape) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    if ShiftedPlaneTapMasks.serves(s) {
        im2colShiftedPlanes(col, image, s, ShiftedPlaneTapMasks(s))
        return
    }
    if s.hasShiftedPlaneColumns {
        im2colSameWidth(col, image, s)
        return
    }
    var row = 0
    for c in 0..<s.channels {
        let plane = image + c &* h &* w
        for kh in 0..<s.kernelH {
            for kw in 0..<s.kernelW {
                let dst = col + row &* oh &* ow
                for y in 0..<oh {
                    let iy = y &* s.stride &- s.padding &+ kh
                    let d = dst + y &* ow
                    if iy < 0 || iy >= h { d.update(repeating: 0, count: ow); continue }
                    let src = plane + iy &* w
                    if s.stride == 1 {
                        // Valid x range: 0 <= x - pad + kw < w.
                        let x0 = max(0, s.padding &- kw), x1 = min(ow, w &+ s.padding &- kw)
                        if x0 > 0 { d.update(repeating: 0, count: min(x0, ow)) }
                        if x1 > x0 { (d + x0).update(from: src + (x0 &- s.padding &+ kw), count: x1 &- x0) }
                        if x1 < ow { (d + max(x1, 0)).update(repeating: 0, count: ow &- max(x1, 0)) }
                    } else {
                        for x in 0..<ow {
                            let ix = x &* s.stride &- s.padding &+ kw
                            d[x] = ix >= 0 && ix < w ? src[ix] : 0
                        }
                    }
                }
                row &+= 1
            }
        }
    }
}

/// im2col with the shifted-plane masks of this geometry when it has them (computed once per batch).
@inline(__always)
func im2col(_ col: UnsafeMutablePointer<Float>, _ image: UnsafePointer<Float>, _ s: Conv2dShape,
            masks: ShiftedPlaneTapMasks?) {
    if let masks { im2colShiftedPlanes(col, image, s, masks) } else { im2col(col, image, s) }
}

/// im2col when stride is 1 and the output is as wide as the input (a "same" convolution, the
/// common case): a col row is then the image plane shifted by a constant offset, with zeros
/// where the window leaves the image. The row-by-row copy of 14-float segments (conv2 of
/// fashion-cnn) spent most of its time in memcpy calls. Planes at least 8 wide are copied 8
/// floats at a time under a column mask (conv2 of fashion-cnn on a Zen 3 core: 1.48-1.55 ms per
/// batch of 128, against 1.67 ms for one memcpy per col row plus scalar zeroing of the wrapped
/// columns, which narrower planes still use).
/// `channels`: the channels whose col rows to build (all by default).
func im2colSameWidth(_ col: UnsafeMutablePointer<Float>, _ image: UnsafePointer<Float>, _ s: Conv2dShape,
                     channels: Range<Int>? = nil) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width, p = s.padding
    let total = oh &* ow
    let masked = ow >= 8  // one wrap at most per step of 8
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    let width = SIMD8<Int32>(repeating: Int32(ow))
    let channels = channels ?? 0..<s.channels
    var row = channels.lowerBound &* s.kernelH &* s.kernelW
    for c in channels {
        let plane = image + c &* h &* w
        for kh in 0..<s.kernelH {
            // Output rows whose window row lies inside the image.
            let y0 = max(0, p &- kh), y1 = min(oh, h &+ p &- kh)
            for kw in 0..<s.kernelW {
                let dst = col + row &* total
                row &+= 1
                let x0 = max(0, p &- kw), x1 = min(ow, w &+ p &- kw)
                if y1 <= y0 || x1 <= x0 {
                    dst.update(repeating: 0, count: total)
                    continue
                }
                // dst[j] = plane[j + offset] from the first to the last element inside the image.
                let offset = (kh &- p) &* w &+ (kw &- p)
                let first = y0 &* ow &+ x0, end = (y1 &- 1) &* ow &+ x1
                if !masked {
                    if first > 0 { dst.update(repeating: 0, count: first) }
                    (dst + first).update(from: plane + (first &+ offset), count: end &- first)
                    if end < total { (dst + end).update(repeating: 0, count: total &- end) }
                    // The copy wrapped the neighbouring rows into the columns the window leaves.
                    if x0 > 0 {
                        var y = y0 &+ 1
                        while y < y1 {
                            for x in 0..<x0 { dst[y &* ow &+ x] = 0 }
                            y &+= 1
                        }
                    }
                    if x1 < ow {
                        var y = y0
                        while y < y1 &- 1 {
                            for x in x1..<ow { dst[y &* ow &+ x] = 0 }
                            y &+= 1
                        }
                    }
                    continue
                }
                // Eight at a time; lanes whose column x = j % ow lies outside x0 ..< x1 took a
                // neighbouring row's value and are zeroed by the mask.
                var j = 0
                while j < first { dst[j] = 0; j &+= 1 }
                let lo = SIMD8<Int32>(repeating: Int32(x0)), hi = SIMD8<Int32>(repeating: Int32(x1))
                var xs = lanes &+ Int32(first % ow)
                xs.replace(with: xs &- width, where: xs .>= width)
                let src = UnsafeRawPointer(plane + offset), out = UnsafeMutableRawPointer(dst)
                while j &+ 8 <= end {
                    let v = src.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
                    let inside = (xs .>= lo) .& (xs .< hi)
                    out.storeBytes(of: SIMD8<Float>(repeating: 0).replacing(with: v, where: inside),
                                   toByteOffset: j &* 4, as: SIMD8<Float>.self)
                    xs &+= 8
                    xs.replace(with: xs &- width, where: xs .>= width)
                    j &+= 8
                }
                while j < end {
                    let x = j % ow
                    dst[j] = x >= x0 && x < x1 ? plane[j &+ offset] : 0
                    j &+= 1
                }
                while j < total { dst[j] = 0; j &+= 1 }
            }
        }
    }
}

/// col2im with the shifted-plane masks of this geometry when it has them (computed once per batch).
@inline(__always)
func col2im(_ image: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ s: Conv2dShape,
            masks: ShiftedPlaneTapMasks?) {
    if let masks { col2imShiftedPlanes(image, col, s, masks) } else { col2im(image, col, s) }
}

/// image[C, H, W] = col2im(col): scatters (adds) every col entry back; image is zeroed first.
public func col2im(_ image: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ s: Conv2dShape) {
    if ShiftedPlaneTapMasks.serves(s) {
        col2imShiftedPlanes(image, col, s, ShiftedPlaneTapMasks(s))
        return
    }
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width
    image.update(repeating: 0, count: s.inputPlane)
    var row = 0
    for c in 0..<s.channels {
        let plane = image + c &* h &* w
        for kh in 0..<s.kernelH {
            for kw in 0..<s.kernelW {
                let src = col + row &* oh &* ow
                for y in 0..<oh {
                    let iy = y &* s.stride &- s.padding &+ kh
                    if iy < 0 || iy >= h { continue }
                    let d = plane + iy &* w
                    let r = src + y &* ow
                    if s.stride == 1 {
                        let x0 = max(0, s.padding &- kw), x1 = min(ow, w &+ s.padding &- kw)
                        if x1 > x0 {
                            let dd = d + (x0 &- s.padding &+ kw)
                            for x in 0..<(x1 &- x0) { dd[x] += r[x0 &+ x] }
                        }
                    } else {
                        for x in 0..<ow {
                            let ix = x &* s.stride &- s.padding &+ kw
                            if ix >= 0 && ix < w { d[ix] += r[x] }
                        }
                    }
                }
                row &+= 1
            }
        }
    }
}

/// `columns`, when given ([N, C*KH*KW, OH*OW]), receives every image's col matrix, so that
/// conv2dBackward can reuse it instead of rebuilding it (unused for pointwise convolutions).
public func conv2dForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shape s: Conv2dShape,
                          columns: UnsafeMutablePointer<Float>? = nil, threads: Int = KernelThreads.count) {
    let ohw = s.colCols, ckk = s.colRows
    if conv2dUsesDirectForward(s) {
        parallelRanges(s.batch, threads: threads) { images in
            conv2dDirectForward(output: output, input: input, weight: weight, bias: bias, shape: s, images: images)
            // Backward still wants the col matrices (cheap to build for one channel).
            if let columns { for n in images { im2col(columns + n &* ckk &* ohw, input + n &* s.inputPlane, s) } }
        }
        return
    }
    let packedWeight = PackedMatrixA(weight, lda: ckk, transA: false, m: s.outChannels, k: ckk)
    let tapMasks = !s.isPointwise && ShiftedPlaneTapMasks.serves(s) ? ShiftedPlaneTapMasks(s) : nil  // once per batch
    parallelRanges(s.batch, threads: threads) { images in
        let colBuffer = s.isPointwise || columns != nil ? nil : ScratchPool.shared.acquire(ckk * ohw)
        defer { colBuffer.map(ScratchPool.shared.release) }
        for n in images {
            let col = s.isPointwise ? nil : columns.map { $0 + n &* ckk &* ohw } ?? colBuffer?.pointer
            let out = output + n &* s.outputPlane
            let img = input + n &* s.inputPlane
            for oc in 0..<s.outChannels { (out + oc &* ohw).update(repeating: bias?[oc] ?? 0, count: ohw) }
            let b: UnsafePointer<Float>
            if let col { im2col(col, img, s, masks: tapMasks); b = UnsafePointer(col) } else { b = img }
            gemmPrepackedA(out, ldc: ohw, packedWeight, b, ldb: ohw, transB: false, n: ohw, accumulate: true)
        }
    }
}

/// dInput (overwritten, may be nil), dWeight and dBias (accumulated, dBias may be nil).
/// `columns`: the col matrices conv2dForward stored for this input, or nil to rebuild them.
public func conv2dBackward(dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                           dBias: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                           input: UnsafePointer<Float>, weight: UnsafePointer<Float>, shape s: Conv2dShape,
                           columns: UnsafePointer<Float>? = nil, threads: Int = KernelThreads.count) {
    let ohw = s.colCols, ckk = s.colRows, oc = s.outChannels
    let groups = (s.batch + convGradientGroup - 1) / convGradientGroup
    let wCount = oc * ckk
    let partialBuffer = ScratchPool.shared.acquire(groups * wCount)
    let partial = partialBuffer.pointer
    // weight^T [CKK, OC], packed once for the data gradient of every image.
    let packedWeightT = dInput == nil ? nil : PackedMatrixA(weight, lda: ckk, transA: true, m: ckk, k: oc)
    defer { ScratchPool.shared.release(partialBuffer) }
    let directWeights = conv2dUsesDirectWeightGradient(s)
    // im2col rebuilds each image's cols for the weight gradient; col2im scatters dCol back.
    let buildsCols = !s.isPointwise && columns == nil && !directWeights
    let scattersCols = !s.isPointwise && dInput != nil
    // Their masks, once per batch (ShiftedPlanes.swift), when either runs.
    let tapMasks = (buildsCols || scattersCols) && ShiftedPlaneTapMasks.serves(s) ? ShiftedPlaneTapMasks(s) : nil
    parallelRanges(groups, threads: threads) { groupRange in
        let colBuffer = buildsCols ? ScratchPool.shared.acquire(ckk * ohw) : nil
        let dColBuffer = scattersCols ? ScratchPool.shared.acquire(ckk * ohw) : nil
        defer { colBuffer.map(ScratchPool.shared.release); dColBuffer.map(ScratchPool.shared.release) }
        let col = colBuffer?.pointer, dCol = dColBuffer?.pointer
        for g in groupRange {
            let pw = partial + g &* wCount
            let n0 = g &* convGradientGroup, n1 = min(s.batch, n0 &+ convGradientGroup)
            if directWeights {
                pw.update(repeating: 0, count: wCount)
                conv2dDirectWeightGradient(pw, dOutput: dOutput, input: input, shape: s, images: n0..<n1)
            }
            for n in n0..<n1 {
                let img = input + n &* s.inputPlane
                let dOut = dOutput + n &* s.outputPlane
                if !directWeights {
                    let b: UnsafePointer<Float>
                    if s.isPointwise {
                        b = img
                    } else if let columns {
                        b = columns + n &* ckk &* ohw
                    } else {
                        im2col(col!, img, s, masks: tapMasks); b = UnsafePointer(col!)
                    }
                    // pw[OC, CKK] (+)= dOut[OC, OHW] * col[CKK, OHW]^T
                    gemm(pw, ldc: ckk, dOut, lda: ohw, transA: false, b, ldb: ohw, transB: true,
                         m: oc, n: ckk, k: ohw, accumulate: n != n0, threads: 1)
                }
                if let dInput {
                    let dImg = dInput + n &* s.inputPlane
                    // dCol[CKK, OHW] = weight[OC, CKK]^T * dOut[OC, OHW]
                    let target = dCol ?? dImg
                    gemmPrepackedA(target, ldc: ohw, packedWeightT!, dOut, ldb: ohw, transB: false, n: ohw,
                                   accumulate: false)
                    if let dCol { col2im(dImg, dCol, s, masks: tapMasks) }
                }
            }
        }
    }
    addGroupPartials(dWeight, partial, groups: groups, count: wCount, threads: threads)
    if let dBias {
        parallelRanges(oc, threads: threads) { range in
            for o in range {
                var total: Float = 0
                for n in 0..<s.batch {
                    total += sumOf(dOutput + (n &* s.outputPlane &+ o &* ohw), ohw)
                }
                dBias[o] += total
            }
        }
    }
}

/// dWeight[i] += the groups' partial sums of element i, in group order (the weight gradient's
/// bits then depend on the grouping, never on the threads); threads split the elements.
func addGroupPartials(_ dWeight: UnsafeMutablePointer<Float>, _ partial: UnsafePointer<Float>, groups: Int, count: Int,
                      threads: Int) {
    parallelRanges(count, threads: threads) { range in
        for g in 0..<groups {
            let pw = partial + g &* count
            for i in range { dWeight[i] += pw[i] }
        }
    }
}

/// Sum of `count` floats, 16 lanes at a time (fixed order).
@inlinable
public func sumOf(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i &+ 16 <= count {
        acc += raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)
        i &+= 16
    }
    var total = acc.sum()
    while i < count { total += p[i]; i &+= 1 }  // leftovers
    return total
}

// MARK: - Reference

public func conv2dForwardReference(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                                   weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                   shape s: Conv2dShape) {
    let oh = s.outHeight, ow = s.outWidth
    for n in 0..<s.batch {
        for o in 0..<s.outChannels {
            for y in 0..<oh {
                for x in 0..<ow {
                    var acc = Double(bias?[o] ?? 0)
                    for c in 0..<s.channels {
                        for kh in 0..<s.kernelH {
                            for kw in 0..<s.kernelW {
                                let iy = y * s.stride - s.padding + kh, ix = x * s.stride - s.padding + kw
                                if iy < 0 || iy >= s.height || ix < 0 || ix >= s.width { continue }
                                let iv = input[((n * s.channels + c) * s.height + iy) * s.width + ix]
                                let wv = weight[((o * s.channels + c) * s.kernelH + kh) * s.kernelW + kw]
                                acc += Double(iv) * Double(wv)
                            }
                        }
                    }
                    output[((n * s.outChannels + o) * oh + y) * ow + x] = Float(acc)
                }
            }
        }
    }
}

public func conv2dBackwardReference(dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
                                    dBias: UnsafeMutablePointer<Float>?, dOutput: UnsafePointer<Float>,
                                    input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    shape s: Conv2dShape) {
    let oh = s.outHeight, ow = s.outWidth
    dInput?.update(repeating: 0, count: s.batch * s.inputPlane)
    for n in 0..<s.batch {
        for o in 0..<s.outChannels {
            for y in 0..<oh {
                for x in 0..<ow {
                    let g = dOutput[((n * s.outChannels + o) * oh + y) * ow + x]
                    dBias?[o] += g
                    for c in 0..<s.channels {
                        for kh in 0..<s.kernelH {
                            for kw in 0..<s.kernelW {
                                let iy = y * s.stride - s.padding + kh, ix = x * s.stride - s.padding + kw
                                if iy < 0 || iy >= s.height || ix < 0 || ix >= s.width { continue }
                                let ii = ((n * s.channels + c) * s.height + iy) * s.width + ix
                                let wi = ((o * s.channels + c) * s.kernelH + kh) * s.kernelW + kw
                                dWeight[wi] += g * input[ii]
                                dInput?[ii] += g * weight[wi]
                            }
                        }
                    }
                }
            }
        }
    }
}
