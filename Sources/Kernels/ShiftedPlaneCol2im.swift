// col2im for the shifted-plane geometry (stride 1, square kernel 2p+1, padding p: the output
// is as large as the input), gathering instead of scattering.
//
// col2im adds every col row into the image, one output row (14 floats for conv2 of
// fashion-cnn) at a time: 4,000 short loops per image, 35 us (4.5 ms per batch of 128, 15% of
// conv2's backward op on one Zen 3 core). Here each input pixel collects its kh * kw taps from
// its channel's col rows, 8 pixels at a time, and is stored once. Tap t of pixel q is element
// q - offset(t) of col row t (offset(t) = (kh - p) * w + (kw - p)); it exists when the output
// position it comes from lies inside the output, which depends on q and t only, so the masks
// are computed once per batch. Each pixel sums its taps in col-row order starting from zero,
// as col2im does (masked taps add +0, which changes no sum that starts from +0): same bits.

/// mask[t * plane + q]: all ones where tap t of input pixel q exists, else zero.
struct ShiftedPlaneTapMasks {
    let bits: [UInt32]
    let offsets: [Int]

    /// Whether `col2imShiftedPlanes` serves this geometry. (The square kernel and a plane of
    /// at least 8 pixels keep every vector load inside the col matrix: the loads that reach
    /// past a row land in a neighbouring row of the same image, and are masked.)
    static func serves(_ s: Conv2dShape) -> Bool {
        s.hasShiftedPlaneColumns && s.kernelH == s.kernelW && s.kernelW == 2 * s.padding + 1
            && s.height * s.width >= 8
    }

    init(_ s: Conv2dShape) {
        let h = s.height, w = s.width, p = s.padding, k = s.kernelW, plane = h * w
        var offsets: [Int] = []
        bits = [UInt32](unsafeUninitializedCapacity: k * k * plane) { buffer, count in
            buffer.initialize(repeating: 0)
            for kh in 0..<k {
                for kw in 0..<k {
                    offsets.append((kh - p) * w + (kw - p))
                    // Output (y, x) = input (y + p - kh, x + p - kw) must lie inside the output.
                    let x0 = max(0, kw - p), x1 = min(w, w + kw - p)
                    for y in max(0, kh - p)..<min(h, h + kh - p) where x1 > x0 {
                        let row = (kh * k + kw) * plane + y * w
                        buffer[(row + x0)..<(row + x1)].initialize(repeating: ~0)
                    }
                }
            }
            count = k * k * plane
        }
        self.offsets = offsets
    }
}

/// The image gradient [C, H, W] (overwritten) from its col matrix; `ShiftedPlaneTapMasks.serves(s)`.
func col2imShiftedPlanes(_ image: UnsafeMutablePointer<Float>, _ col: UnsafePointer<Float>, _ s: Conv2dShape,
                         _ masks: ShiftedPlaneTapMasks) {
    let plane = s.height &* s.width, taps = s.kernelH &* s.kernelW, total = s.colCols
    masks.bits.withUnsafeBufferPointer { maskBuffer in
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
