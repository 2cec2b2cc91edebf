// The vertical pass: output row y is a weighted sum of `counts[y]` consecutive input rows, which
// is elementwise along the row, so it vectorises across the row's bytes whatever the channel
// layout: 32 bytes per step (four 8-lane accumulators, so the weight broadcast and the row step
// are paid once per 32 bytes), each tap one widening load, multiply and add per 8 bytes.

/// `lanes` (16 or 32) bytes of an output row: each tap one widening load, multiply and add per
/// 8 bytes; `lanes` is a literal at each call site.
@inline(__always)
private func verticalChunk8(_ rows: UnsafePointer<UInt8>, _ rowStride: Int, _ weights: UnsafePointer<Int32>,
                            _ taps: Int, _ out: UnsafeMutablePointer<UInt8>, lanes: Int) {
    let half = SIMD8<Int32>(repeating: 1 &<< (resamplePrecisionBits &- 1))
    var a0 = half, a1 = half, a2 = half, a3 = half
    var p = rows
    for t in 0..<taps {
        let k = SIMD8<Int32>(repeating: weights[t])
        a0 &+= widen8(p) &* k
        a1 &+= widen8(p + 8) &* k
        if lanes > 16 {
            a2 &+= widen8(p + 16) &* k
            a3 &+= widen8(p + 24) &* k
        }
        p += rowStride
    }
    store8(clip8(a0), out)
    store8(clip8(a1), out + 8)
    if lanes > 16 {
        store8(clip8(a2), out + 16)
        store8(clip8(a3), out + 24)
    }
}

/// Output rows of `axis` (8-bit, Pillow's fixed point) from `input`, whose row 0 is source row
/// `rowOffset` (the horizontal pass kept only the rows the vertical taps read). `rowBytes`
/// bytes per row; rows `inputStride` and `outputStride` bytes apart.
func resampleVertical8(input: UnsafePointer<UInt8>, inputStride: Int, rowOffset: Int, rowBytes: Int,
                       axis: ResampleAxis, output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
    axis.fixed.withUnsafeBufferPointer { fixed in
        for y in 0..<axis.outSize {
            let k = fixed.baseAddress! + y &* axis.stride
            let taps = Int(axis.counts[y])
            let rows = input + (Int(axis.starts[y]) &- rowOffset) &* inputStride
            let out = output + y &* outputStride
            if rowBytes >= 32 {
                // The last step overlaps the one before instead of a scalar tail (same values).
                var x = 0
                while true {
                    let xs = min(x, rowBytes &- 32)
                    verticalChunk8(rows + xs, inputStride, k, taps, out + xs, lanes: 32)
                    if xs == rowBytes &- 32 { break }
                    x &+= 32
                }
            } else if rowBytes >= 16 {
                verticalChunk8(rows, inputStride, k, taps, out, lanes: 16)
                verticalChunk8(rows + (rowBytes &- 16), inputStride, k, taps, out + (rowBytes &- 16), lanes: 16)
            } else {
                for x in 0..<rowBytes {
                    var acc: Int32 = 1 &<< (resamplePrecisionBits &- 1)
                    for t in 0..<taps { acc &+= Int32(rows[t &* inputStride &+ x]) &* k[t] }
                    out[x] = UInt8(min(max(acc &>> resamplePrecisionBits, 0), 255))
                }
            }
        }
    }
}

/// Float twin: rows of Float (the horizontal pass's output), or of UInt8 when there was no
/// horizontal pass, into Float rows of `width` values clamped to 0...255.
func resampleVerticalFloat(input: UnsafePointer<Float>, inputStride: Int, rowOffset: Int, width: Int,
                           axis: ResampleAxis, output: UnsafeMutablePointer<Float>) {
    verticalRowsFloat(axis, rowOffset: rowOffset, inputStride: inputStride, width: width, output: output,
                      vector: { UnsafeRawPointer(input + $0).loadUnaligned(as: SIMD8<Float>.self) },
                      scalar: { input[$0] })
}

func resampleVerticalFloat(bytes: UnsafePointer<UInt8>, inputStride: Int, rowOffset: Int, width: Int,
                           axis: ResampleAxis, output: UnsafeMutablePointer<Float>) {
    verticalRowsFloat(axis, rowOffset: rowOffset, inputStride: inputStride, width: width, output: output,
                      vector: { widen8Float(bytes + $0) }, scalar: { Float(bytes[$0]) })
}

/// `vector(i)` / `scalar(i)` read the input at element offset i; inlined into each caller.
@inline(__always)
private func verticalRowsFloat(_ axis: ResampleAxis, rowOffset: Int, inputStride: Int, width: Int,
                               output: UnsafeMutablePointer<Float>, vector: (Int) -> SIMD8<Float>,
                               scalar: (Int) -> Float) {
    axis.floats.withUnsafeBufferPointer { weights in
        for y in 0..<axis.outSize {
            let k = weights.baseAddress! + y &* axis.stride
            let taps = Int(axis.counts[y])
            let first = (Int(axis.starts[y]) &- rowOffset) &* inputStride
            let out = output + y &* width
            var x = 0
            while width &- x >= 8 {
                var acc = SIMD8<Float>()
                for t in 0..<taps { acc.addProduct(vector(first &+ t &* inputStride &+ x), SIMD8<Float>(repeating: k[t])) }
                UnsafeMutableRawPointer(out + x).storeBytes(of: clamp255(acc), as: SIMD8<Float>.self)
                x &+= 8
            }
            while x < width {
                var acc: Float = 0
                for t in 0..<taps { acc = acc.addingProduct(scalar(first &+ t &* inputStride &+ x), k[t]) }
                out[x] = min(max(acc, 0), 255)
                x &+= 1
            }
        }
    }
}

@inline(__always)
func clamp255(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let zero = SIMD8<Float>(), top = SIMD8<Float>(repeating: 255)
    let r = v.replacing(with: zero, where: v .< zero)
    return r.replacing(with: top, where: r .> top)
}
