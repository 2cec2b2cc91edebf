// im2col and col2im for the shifted-plane geometry (stride 1, square kernel 2p+1, padding p:
// the output is as large as the input), under masks computed once per batch.
//
// Output position j's tap t = (kh, kw) is input pixel j + offset(t), offset(t) = (kh - p) * w
// + (kw - p), when that pixel lies inside the image; whether it does depends on j and t only.
// So each col row is the image plane shifted by offset(t), and the positions whose tap falls
// outside the image (the padding, and a wrapped neighbouring row) are zeroed with a mask
// instead of per-element tests or compares: 8 positions per load, AND, store.
//
// col2im went the other way by adding every col row into the image one output row (14
// floats for conv2 of fashion-cnn) at a time: 4,000 short loops per image, 35 us (4.5 ms per
// batch of 128, 15% of conv2's backward op on one Zen 3 core). Here each input pixel gathers
// its taps (element q - offset(t) of col row t) from its channel's col rows, 8 pixels at a time,
// and is stored once; each pixel sums its taps in col-row order from zero, as col2im does
// (masked taps add +0, which changes no sum that starts from +0): same bits.

/// The masks of one geometry. `gather[t * plane + q]`: all ones where tap t of input pixel q
/// exists (col2im); `keep[t * plane + j]`: all ones where output position j's tap t lies
/// inside the image (im2col).
struct ShiftedPlaneTapMasks {
    let gather: [UInt32], keep: [UInt32]
    let offsets: [Int]

    /// Whether the shifted-plane routes serve this geometry. The square kernel and a plane of
    /// at least 8 pixels, no smaller than the largest shift, keep every vector load of col2im
    /// inside the col matrix and every load of a middle channel's im2col inside the image: the
    /// loads that reach past a row or plane land in a neighbouring one, and are masked.
    static func serves(_ s: Conv2dShape) -> Bool {
        s.hasShiftedPlaneColumns && s.kernelH == s.kernelW && s.kernelW == 2 * s.padding + 1
            && s.height * s.width >= max(8, s.padding * s.width + s.padding)
    }

    init(_ s: Conv2dShape) {
        let h = s.height, w = s.width, p = s.padding, k = s.kernelW, plane = h * w
        var offsets: [Int] = []
        for kh in 0..<k { for kw in 0..<k { offsets.append((kh - p) * w + (kw - p)) } }
        self.offsets = offsets
        // Tap (kh, kw) of output (y, x) is input (y + kh - p, x + kw - p). For col2im the
        // pixel (y, x) is given: its output (y + p - kh, x + p - kw) must exist.
        func masks(sign: Int) -> [UInt32] {
            [UInt32](unsafeUninitializedCapacity: k * k * plane) { buffer, count in
                buffer.initialize(repeating: 0)
                for kh in 0..<k {
                    for kw in 0..<k {
                        let dy = sign * (kh - p), dx = sign * (kw - p)
                        let x0 = max(0, -dx), x1 = min(w, w - dx)
                        for y in max(0, -dy)..<max(max(0, -dy), min(h, h - dy)) where x1 > x0 {
                            let row = (kh * k + kw) * plane + y * w
                            buffer[(row + x0)..<(row + x1)].initialize(repeating: ~0)
                        }
                    }
                }
                count = k * k * plane
            }
        }
        keep = masks(sign: 1)
        gather = masks(sign: -1)
    }
}

/// col[C*K*K, H*W] from one image [C, H, W]; `ShiftedPlaneTapMasks.serves(s)`. The first and
/// last channels go the bounds-checked way (`im2colSameWidth`): their shifted loads could reach
/// outside the image.
func im2colShiftedPlanes(_ col: UnsafeMutablePointer<Float>, _ image: UnsafePointer<Float>, _ s: Conv2dShape,
                         _ masks: ShiftedPlaneTapMasks) {
    let plane = s.height &* s.width, taps = s.kernelH &* s.kernelW
    im2colSameWidth(col, image, s, channels: 0..<1)
    if s.channels == 1 { return }
    im2colSameWidth(col, image, s, channels: (s.channels &- 1)..<s.channels)
    masks.keep.withUnsafeBufferPointer { keepBuffer in
    masks.offsets.withUnsafeBufferPointer { offsets in
        let keep = UnsafeRawPointer(keepBuffer.baseAddress!)
        for c in 1..<(s.channels &- 1) {
            let src = UnsafeRawPointer(image + c &* plane)
            for t in 0..<taps {
                let dst = UnsafeMutableRawPointer(col + (c &* taps &+ t) &* plane)
                let from = src + offsets[t] &* 4, m = keep + t &* plane &* 4
                var start = 0
                while true {
                    // The last vector ends at the row's end, overlapping the one before (the
                    // same values, stored again).
                    let j4 = min(start, plane &- 8) &* 4
                    let v = from.loadUnaligned(fromByteOffset: j4, as: SIMD8<UInt32>.self)
                        & m.loadUnaligned(fromByteOffset: j4, as: SIMD8<UInt32>.self)
                    dst.storeBytes(of: v, toByteOffset: j4, as: SIMD8<UInt32>.self)
                    if j4 == (plane &- 8) &* 4 { break }
                    start &+= 8
                }
            }
        }
    }
    }
}

/// The image gradient [C, H, W] (overwritten) from its col matrix; `ShiftedPlaneTapMasks.serves(s)`.
func col2imShiftedPlanes(_ image: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ s: Conv2dShape,
                         _ masks: ShiftedPlaneTapMasks) {
    let plane = s.height &* s.width, taps = s.kernelH &* s.kernelW, total = s.colCols
    masks.gather.withUnsafeBufferPointer { maskBuffer in
    withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { tapAt in
        // Byte offset of tap t's first element (for pixel 0) from the channel's first col row.
        for t in 0..<taps { tapAt[t] = (t &* total &- masks.offsets[t]) &* 4 }
        let mask = UnsafeRawPointer(maskBuffer.baseAddress!), at = UnsafePointer(tapAt.baseAddress!)
        // Four channels at a time: four independent sums per tap sharing one mask load (one
        // sum's chain of adds waits on the add latency at every tap).
        var c = 0
        while c &+ 4 <= s.channels {
            gatherChannels(image + c &* plane, col + c &* taps &* total, mask, at, taps: taps, plane: plane,
                           total: total, four: true)
            c &+= 4
        }
        while c < s.channels {
            gatherChannels(image + c &* plane, col + c &* taps &* total, mask, at, taps: taps, plane: plane,
                           total: total, four: false)
            c &+= 1
        }
    }
    }
}

/// One channel's pixels (or four consecutive channels' with `four`, a constant where inlined).
@inline(__always)
private func gatherChannels(_ image: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ mask: UnsafeRawPointer,
                            _ tapAt: UnsafePointer<Int>, taps: Int, plane: Int, total: Int, four: Bool) {
    let rows = UnsafeRawPointer(col), out = UnsafeMutableRawPointer(image)
    let channelBytes = taps &* total &* 4, planeBytes = plane &* 4
    var start = 0
    while true {
        // The last vector ends at the plane's end (overlapping the one before it: the same
        // sums, stored again).
        let q4 = min(start, plane &- 8) &* 4
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
        var m = mask + q4
        for t in 0..<taps {
            let keep = m.loadUnaligned(as: SIMD8<UInt32>.self)
            let r = rows + (tapAt[t] &+ q4)
            s0 += unsafeBitCast(r.loadUnaligned(as: SIMD8<UInt32>.self) & keep, to: SIMD8<Float>.self)
            if four {
                s1 += unsafeBitCast(r.loadUnaligned(fromByteOffset: channelBytes, as: SIMD8<UInt32>.self) & keep,
                                    to: SIMD8<Float>.self)
                s2 += unsafeBitCast(r.loadUnaligned(fromByteOffset: 2 &* channelBytes, as: SIMD8<UInt32>.self) & keep,
                                    to: SIMD8<Float>.self)
                s3 += unsafeBitCast(r.loadUnaligned(fromByteOffset: 3 &* channelBytes, as: SIMD8<UInt32>.self) & keep,
                                    to: SIMD8<Float>.self)
            }
            m += planeBytes
        }
        out.storeBytes(of: s0, toByteOffset: q4, as: SIMD8<Float>.self)
        if four {
            out.storeBytes(of: s1, toByteOffset: planeBytes &+ q4, as: SIMD8<Float>.self)
            out.storeBytes(of: s2, toByteOffset: 2 &* planeBytes &+ q4, as: SIMD8<Float>.self)
            out.storeBytes(of: s3, toByteOffset: 3 &* planeBytes &+ q4, as: SIMD8<Float>.self)
        }
        if q4 == (plane &- 8) &* 4 { break }
        start &+= 8
    }
}
