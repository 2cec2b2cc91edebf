// The horizontal pass: 8 source rows at a time are transposed into a lane-major block
// (ByteTranspose.swift), so the taps of output pixel x, channel c, for all 8 rows, are 8-lane
// vectors at consecutive block offsets: one widening load + multiply + add per tap and channel,
// with no gather and no per-channel shuffling of interleaved RGB. The results (8 rows per
// output value) are transposed back into row-major rows.
//
// 8-bit: Pillow's arithmetic exactly: Int32 accumulators starting at 2^21 (one half), products
// pixel * weight in 22-bit fixed point, then >> 22 and clamped to 0...255 (clip8).
// Float: the same taps in Float with fused multiply-adds, clamped to 0...255 but not rounded.

typealias RowPointers8 = (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>,
                          UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>, UnsafePointer<UInt8>)

/// Pointers to rows y0 ..< y0 + 8 starting at byte `column`; rows past `rowEnd` repeat the last
/// valid row (their lanes are computed and discarded).
@inline(__always)
func rowPointers8(_ base: UnsafePointer<UInt8>, rowStride: Int, y0: Int, rowEnd: Int, column: Int) -> RowPointers8 {
    @inline(__always) func row(_ r: Int) -> UnsafePointer<UInt8> {
        base + (min(y0 &+ r, rowEnd &- 1) &* rowStride &+ column)
    }
    return (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
}

@inline(__always)
func widen8(_ p: UnsafePointer<UInt8>) -> SIMD8<Int32> {
    SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt8>.self))
}

@inline(__always)
func widen8Float(_ p: UnsafePointer<UInt8>) -> SIMD8<Float> {
    SIMD8<Float>(widen8(p))
}

/// Pillow's clip8 on 8 accumulators: floor(acc / 2^22) clamped to 0...255.
@inline(__always)
func clip8(_ acc: SIMD8<Int32>) -> SIMD8<UInt8> {
    var v = acc &>> resamplePrecisionBits
    v.replace(with: 0, where: v .< 0)
    v.replace(with: 255, where: v .> 255)
    return SIMD8<UInt8>(truncatingIfNeeded: v)
}

@inline(__always)
func store8(_ v: SIMD8<UInt8>, _ p: UnsafeMutablePointer<UInt8>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<UInt8>.self)
}

/// One output pixel (all `channels`, 8 rows): `taps` weights against the block from `block`.
/// `channels` is a literal at every call site, so the branches fold away after inlining.
@inline(__always)
func horizontalPixel8(_ block: UnsafePointer<UInt8>, _ weights: UnsafePointer<Int32>, _ taps: Int,
                      _ channels: Int, _ out: UnsafeMutablePointer<UInt8>) {
    let half = SIMD8<Int32>(repeating: 1 &<< (resamplePrecisionBits &- 1))
    var a0 = half, a1 = half, a2 = half, a3 = half
    var p = block
    for t in 0..<taps {
        let k = SIMD8<Int32>(repeating: weights[t])
        a0 &+= widen8(p) &* k
        if channels > 1 { a1 &+= widen8(p + 8) &* k }
        if channels > 2 { a2 &+= widen8(p + 16) &* k }
        if channels > 3 { a3 &+= widen8(p + 24) &* k }
        p += channels &* 8
    }
    store8(clip8(a0), out)
    if channels > 1 { store8(clip8(a1), out + 8) }
    if channels > 2 { store8(clip8(a2), out + 16) }
    if channels > 3 { store8(clip8(a3), out + 24) }
}

@inline(__always)
private func horizontalBlock8(_ block: UnsafePointer<UInt8>, _ axis: ResampleAxis, _ channels: Int,
                              _ out: UnsafeMutablePointer<UInt8>) {
    axis.fixed.withUnsafeBufferPointer { fixed in
        let first = axis.first
        for x in 0..<axis.outSize {
            let start = (Int(axis.starts[x]) &- first) &* channels &* 8
            horizontalPixel8(block + start, fixed.baseAddress! + x &* axis.stride, Int(axis.counts[x]),
                             channels, out + x &* channels &* 8)
        }
    }
}

/// Resamples rows `rows` of an interleaved UInt8 image horizontally with `axis` into
/// `output` (row i of the result is source row rows.lowerBound + i; outRowStride bytes apart).
func resampleHorizontal8(source: UnsafePointer<UInt8>, rowStride: Int, channels: Int, rows: Range<Int>,
                         axis: ResampleAxis, output: UnsafeMutablePointer<UInt8>, outRowStride: Int) {
    let spanBytes = (axis.end &- axis.first) &* channels
    let outBytes = axis.outSize &* channels
    let block = UnsafeMutablePointer<UInt8>.allocate(capacity: (spanBytes + 7) / 8 * 64)
    let outBlock = UnsafeMutablePointer<UInt8>.allocate(capacity: (outBytes + 7) / 8 * 64)
    defer { block.deallocate(); outBlock.deallocate() }
    // Padding lanes past outBytes are transposed back but never stored; keep them defined.
    outBlock.initialize(repeating: 0, count: (outBytes + 7) / 8 * 64)
    var y0 = rows.lowerBound
    while y0 < rows.upperBound {
        let rowCount = min(8, rows.upperBound &- y0)
        let pointers = rowPointers8(source, rowStride: rowStride, y0: y0, rowEnd: rows.upperBound,
                                    column: axis.first &* channels)
        transposeRowsToBlock(pointers, count: spanBytes, block: block)
        switch channels {
        case 1: horizontalBlock8(block, axis, 1, outBlock)
        case 2: horizontalBlock8(block, axis, 2, outBlock)
        case 3: horizontalBlock8(block, axis, 3, outBlock)
        default: horizontalBlock8(block, axis, 4, outBlock)
        }
        transposeBlockToRows(outBlock, count: outBytes, rowCount: rowCount,
                             rows: output + (y0 &- rows.lowerBound) &* outRowStride, rowStride: outRowStride)
        y0 &+= 8
    }
}

/// Float twin for one plane (channels = 1): the result rows are Float, width axis.outSize,
/// unrounded, clamped to 0...255 like Pillow's intermediate image.
func resampleHorizontalFloat(source: UnsafePointer<UInt8>, rowStride: Int, rows: Range<Int>,
                             axis: ResampleAxis, output: UnsafeMutablePointer<Float>) {
    let spanBytes = axis.end &- axis.first
    let outWidth = axis.outSize
    let block = UnsafeMutablePointer<UInt8>.allocate(capacity: (spanBytes + 7) / 8 * 64)
    let lanes = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: outWidth)
    defer { block.deallocate(); lanes.deallocate() }
    axis.floats.withUnsafeBufferPointer { weights in
        var y0 = rows.lowerBound
        while y0 < rows.upperBound {
            let rowCount = min(8, rows.upperBound &- y0)
            let pointers = rowPointers8(source, rowStride: rowStride, y0: y0, rowEnd: rows.upperBound,
                                        column: axis.first)
            transposeRowsToBlock(pointers, count: spanBytes, block: block)
            for x in 0..<outWidth {
                let k = weights.baseAddress! + x &* axis.stride
                var p = block + (Int(axis.starts[x]) &- axis.first) &* 8
                var acc = SIMD8<Float>()
                for t in 0..<Int(axis.counts[x]) {
                    acc.addProduct(widen8Float(p), SIMD8<Float>(repeating: k[t]))
                    p += 8
                }
                lanes[x] = clamp255(acc)
            }
            // Back to rows: a scalar transpose is cheap next to the taps at these sizes.
            let out = output + (y0 &- rows.lowerBound) &* outWidth
            for r in 0..<rowCount {
                let row = out + r &* outWidth
                for x in 0..<outWidth { row[x] = lanes[x][r] }
            }
            y0 &+= 8
        }
    }
}
