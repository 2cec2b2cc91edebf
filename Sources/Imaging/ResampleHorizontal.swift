// The horizontal pass: 8 source rows at a time are transposed into a lane-major block
// (ByteTranspose.swift), so the taps of output pixel x, channel c, for all 8 rows, are 8-lane
// vectors: one widening load + multiply + add per tap and channel, with no gather and no
// per-channel shuffling of interleaved RGB. The results (8 rows per output value) are written in
// the same block layout and transposed back into rows.
//
// 8-bit: Pillow's arithmetic exactly: Int32 accumulators starting at 2^21 (one half), products
// pixel * weight in 22-bit fixed point, then >> 22 and clamped to 0...255 (clip8).
// Float: the same taps in Float with fused multiply-adds, clamped to 0...255 but not rounded.

/// A channel count known at compile time, so the per-channel branches of the tap loop fold away
/// in each specialisation.
protocol ChannelCount { static var count: Int { get } }
enum OneChannel: ChannelCount { static var count: Int { 1 } }
enum TwoChannels: ChannelCount { static var count: Int { 2 } }
enum ThreeChannels: ChannelCount { static var count: Int { 3 } }
enum FourChannels: ChannelCount { static var count: Int { 4 } }

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

/// Pillow's clip8 on 8 accumulators: floor(acc / 2^22) clamped to 0...255, with shifts and
/// masks (v & ~(v >> 31) is max(v, 0); or-ing (255 - v) >> 31 saturates v > 255 to all ones,
/// whose low byte is 255). The stdlib's scalar-operand `replace(with:where:)` compiled to a
/// lane-by-lane loop through the stack here.
@inline(__always)
func clip8(_ acc: SIMD8<Int32>) -> SIMD8<UInt8> {
    var v = acc &>> resamplePrecisionBits
    v &= ~(v &>> 31)
    v |= (SIMD8<Int32>(repeating: 255) &- v) &>> 31
    return SIMD8<UInt8>(truncatingIfNeeded: v)
}

@inline(__always)
func store8(_ v: SIMD8<UInt8>, _ p: UnsafeMutablePointer<UInt8>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<UInt8>.self)
}

/// Scratch of one horizontal pass: the two blocks and the table of block offsets by column.
struct HorizontalScratch {
    let block: UnsafeMutablePointer<UInt8>
    let outBlock: UnsafeMutablePointer<UInt8>
    let offsets: UnsafeMutablePointer<Int32>

    init(inColumns: Int, outColumns: Int) {
        block = .allocate(capacity: blockBytes(inColumns))
        outBlock = .allocate(capacity: blockBytes(outColumns))
        let n = max(inColumns, outColumns)
        offsets = .allocate(capacity: n)
        for j in 0..<n { offsets[j] = Int32(blockOffset(j)) }
    }

    func deallocate() { block.deallocate(); outBlock.deallocate(); offsets.deallocate() }
}

/// All output pixels of one 8-row block, `C` channels, in Pillow's fixed point.
@inline(__always)
private func horizontalBlock8<C: ChannelCount>(_: C.Type, _ s: HorizontalScratch, _ axis: ResampleAxis,
                                               _ weights: UnsafePointer<Int32>) {
    let channels = C.count
    let half = SIMD8<Int32>(repeating: 1 &<< (resamplePrecisionBits &- 1))
    let block = UnsafePointer(s.block), off = UnsafePointer(s.offsets)
    axis.starts.withUnsafeBufferPointer { starts in
        axis.counts.withUnsafeBufferPointer { counts in
            for x in 0..<axis.outSize {
                var j = (Int(starts[x]) &- axis.first) &* channels
                let k = weights + x &* axis.stride
                var a0 = half, a1 = half, a2 = half, a3 = half
                for t in 0..<Int(counts[x]) {
                    let w = SIMD8<Int32>(repeating: k[t])
                    a0 &+= widen8(block + Int(off[j])) &* w
                    if channels > 1 { a1 &+= widen8(block + Int(off[j &+ 1])) &* w }
                    if channels > 2 { a2 &+= widen8(block + Int(off[j &+ 2])) &* w }
                    if channels > 3 { a3 &+= widen8(block + Int(off[j &+ 3])) &* w }
                    j &+= channels
                }
                let o = x &* channels
                store8(clip8(a0), s.outBlock + Int(off[o]))
                if channels > 1 { store8(clip8(a1), s.outBlock + Int(off[o &+ 1])) }
                if channels > 2 { store8(clip8(a2), s.outBlock + Int(off[o &+ 2])) }
                if channels > 3 { store8(clip8(a3), s.outBlock + Int(off[o &+ 3])) }
            }
        }
    }
}

/// Resamples rows `rows` of an interleaved UInt8 image horizontally with `axis` into
/// `output` (row i of the result is source row rows.lowerBound + i; outRowStride bytes apart).
func resampleHorizontal8(source: UnsafePointer<UInt8>, rowStride: Int, channels: Int, rows: Range<Int>,
                         axis: ResampleAxis, output: UnsafeMutablePointer<UInt8>, outRowStride: Int) {
    let spanBytes = (axis.end &- axis.first) &* channels
    let outBytes = axis.outSize &* channels
    let scratch = HorizontalScratch(inColumns: spanBytes, outColumns: outBytes)
    defer { scratch.deallocate() }
    axis.fixed.withUnsafeBufferPointer { fixed in
        var y0 = rows.lowerBound
        while y0 < rows.upperBound {
            let rowCount = min(8, rows.upperBound &- y0)
            let pointers = rowPointers8(source, rowStride: rowStride, y0: y0, rowEnd: rows.upperBound,
                                        column: axis.first &* channels)
            transposeRowsToBlock(pointers, count: spanBytes, block: scratch.block)
            switch channels {
            case 1: horizontalBlock8(OneChannel.self, scratch, axis, fixed.baseAddress!)
            case 2: horizontalBlock8(TwoChannels.self, scratch, axis, fixed.baseAddress!)
            case 3: horizontalBlock8(ThreeChannels.self, scratch, axis, fixed.baseAddress!)
            default: horizontalBlock8(FourChannels.self, scratch, axis, fixed.baseAddress!)
            }
            transposeBlockToRows(scratch.outBlock, count: outBytes, rowCount: rowCount,
                                 rows: output + (y0 &- rows.lowerBound) &* outRowStride, rowStride: outRowStride)
            y0 &+= 8
        }
    }
}

/// Float twin for one plane (channels = 1): the result rows are Float, width axis.outSize,
/// unrounded, clamped to 0...255 like Pillow's intermediate image.
func resampleHorizontalFloat(source: UnsafePointer<UInt8>, rowStride: Int, rows: Range<Int>,
                             axis: ResampleAxis, output: UnsafeMutablePointer<Float>) {
    let spanBytes = axis.end &- axis.first
    let outWidth = axis.outSize
    let scratch = HorizontalScratch(inColumns: spanBytes, outColumns: 0)
    let lanes = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: outWidth)
    defer { scratch.deallocate(); lanes.deallocate() }
    let block = UnsafePointer(scratch.block), off = UnsafePointer(scratch.offsets)
    axis.floats.withUnsafeBufferPointer { weights in
        var y0 = rows.lowerBound
        while y0 < rows.upperBound {
            let rowCount = min(8, rows.upperBound &- y0)
            let pointers = rowPointers8(source, rowStride: rowStride, y0: y0, rowEnd: rows.upperBound,
                                        column: axis.first)
            transposeRowsToBlock(pointers, count: spanBytes, block: scratch.block)
            for x in 0..<outWidth {
                let k = weights.baseAddress! + x &* axis.stride
                var j = Int(axis.starts[x]) &- axis.first
                var acc = SIMD8<Float>()
                for t in 0..<Int(axis.counts[x]) {
                    acc.addProduct(widen8Float(block + Int(off[j])), SIMD8<Float>(repeating: k[t]))
                    j &+= 1
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
