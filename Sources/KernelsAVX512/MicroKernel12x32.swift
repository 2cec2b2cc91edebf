// The wide micro-kernel for AVX-512 CPUs: two of `gemmMicroKernel12x16AVX512`'s tiles side by
// side (one 12-row A pair against two adjacent packed B panels), 24 zmm accumulators. Per k it
// issues 12 broadcasts and 2 B loads for 24 FMAs, against 12 and 1 for 12 in the 12x16 kernel:
// the broadcasts, not the FMAs, bounded that one (numpy's OpenBLAS ran 1024^3 at 111 GFLOP/s
// on this machine against its 73). Each output is accumulated as in the other kernels,
// c = fma(a[k], b[k], c) for k in order from 0, then added to C: the same bits (tested).

/// C (+)= the 12 x 32 tile: rows 0..<6 from the A panel `a0` ([kc][6]), 6..<12 from `a1`;
/// columns 0..<16 from the packed B panel `b0` ([kc][16]), 16..<32 from `b1`. Only `rows` x
/// `cols` of the tile are written; `load` adds to C instead of overwriting it.
@inline(never)
public func gemmMicroKernel12x32AVX512(_ kc: Int, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                                       _ b0: UnsafePointer<Float>, _ b1: UnsafePointer<Float>,
                                       _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, load: Bool) {
    var l0 = SIMD16<Float>(), l1 = SIMD16<Float>(), l2 = SIMD16<Float>(), l3 = SIMD16<Float>()
    var l4 = SIMD16<Float>(), l5 = SIMD16<Float>(), l6 = SIMD16<Float>(), l7 = SIMD16<Float>()
    var l8 = SIMD16<Float>(), l9 = SIMD16<Float>(), l10 = SIMD16<Float>(), l11 = SIMD16<Float>()
    var r0 = SIMD16<Float>(), r1 = SIMD16<Float>(), r2 = SIMD16<Float>(), r3 = SIMD16<Float>()
    var r4 = SIMD16<Float>(), r5 = SIMD16<Float>(), r6 = SIMD16<Float>(), r7 = SIMD16<Float>()
    var r8 = SIMD16<Float>(), r9 = SIMD16<Float>(), r10 = SIMD16<Float>(), r11 = SIMD16<Float>()
    var a = a0, e = a1
    var p = UnsafeRawPointer(b0), q = UnsafeRawPointer(b1)
    for _ in 0..<kc {
        let bl = p.loadUnaligned(as: SIMD16<Float>.self), br = q.loadUnaligned(as: SIMD16<Float>.self)
        var x = SIMD16(repeating: a[0]); l0.addProduct(x, bl); r0.addProduct(x, br)
        x = SIMD16(repeating: a[1]); l1.addProduct(x, bl); r1.addProduct(x, br)
        x = SIMD16(repeating: a[2]); l2.addProduct(x, bl); r2.addProduct(x, br)
        x = SIMD16(repeating: a[3]); l3.addProduct(x, bl); r3.addProduct(x, br)
        x = SIMD16(repeating: a[4]); l4.addProduct(x, bl); r4.addProduct(x, br)
        x = SIMD16(repeating: a[5]); l5.addProduct(x, bl); r5.addProduct(x, br)
        x = SIMD16(repeating: e[0]); l6.addProduct(x, bl); r6.addProduct(x, br)
        x = SIMD16(repeating: e[1]); l7.addProduct(x, bl); r7.addProduct(x, br)
        x = SIMD16(repeating: e[2]); l8.addProduct(x, bl); r8.addProduct(x, br)
        x = SIMD16(repeating: e[3]); l9.addProduct(x, bl); r9.addProduct(x, br)
        x = SIMD16(repeating: e[4]); l10.addProduct(x, bl); r10.addProduct(x, br)
        x = SIMD16(repeating: e[5]); l11.addProduct(x, bl); r11.addProduct(x, br)
        a += 6
        e += 6
        p += 64
        q += 64
    }
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 24) { t in
        t[0] = l0; t[1] = l1; t[2] = l2; t[3] = l3; t[4] = l4; t[5] = l5
        t[6] = l6; t[7] = l7; t[8] = l8; t[9] = l9; t[10] = l10; t[11] = l11
        t[12] = r0; t[13] = r1; t[14] = r2; t[15] = r3; t[16] = r4; t[17] = r5
        t[18] = r6; t[19] = r7; t[20] = r8; t[21] = r9; t[22] = r10; t[23] = r11
        if rows == 12 && cols == 32 {
            for r in 0..<12 {
                store(c + r &* ldc, t[r], load)
                store(c + (r &* ldc &+ 16), t[12 &+ r], load)
            }
            return
        }
        // An edge tile: the valid rows and columns only.
        for r in 0..<rows {
            let dst = c + r &* ldc
            let left = t[r], right = t[12 &+ r]
            for j in 0..<min(cols, 16) { dst[j] = load ? left[j] + dst[j] : left[j] }
            if cols > 16 { for j in 16..<cols { dst[j] = load ? right[j &- 16] + dst[j] : right[j &- 16] } }
        }
    }
}
