// The GEMM micro-kernel for AVX-512 CPUs, compiled for x86-64-v4 in a target of its own so the
// rest of the build keeps running on any AVX2 machine; `Kernels` calls it only after checking
// that this CPU has AVX-512 (`KernelISA`).
//
// It computes two of the 6x16 tiles of `microKernel6x16` at once (two packed A panels against
// one packed B panel): 12 zmm accumulators, one per row, so 12 independent FMA chains keep both
// FMA units busy, one B load per k instead of two. Every output element is still accumulated
// the same way, c = fma(a[k], b[k], c) for k in order from 0, then added to C: the results are
// bit for bit those of the AVX2 kernel, on any machine (tested).

/// C[i, j] (+)= sum over k of A0A1[k][i] * B[k][j] for the 12 x 16 tile at `c`: rows 0..<6 from
/// the A panel `a0` ([kc][6]), rows 6..<12 from `a1`; B is the packed panel [kc][16]. Only `rows` x `cols` of the tile are written (the rest of `c` is untouched);
/// `load` adds to C instead of overwriting it.
@inline(never)
public func gemmMicroKernel12x16AVX512(_ kc: Int, _ a0: UnsafePointer<Float>, _ a1: UnsafePointer<Float>,
                                       _ bp: UnsafePointer<Float>,
                                       _ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, load: Bool) {
    var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
    var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()
    var c8 = SIMD16<Float>(), c9 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
    var a = a0, e = a1
    var b = UnsafeRawPointer(bp)
    for _ in 0..<kc {
        let bv = b.loadUnaligned(as: SIMD16<Float>.self)
        c0.addProduct(SIMD16(repeating: a[0]), bv)
        c1.addProduct(SIMD16(repeating: a[1]), bv)
        c2.addProduct(SIMD16(repeating: a[2]), bv)
        c3.addProduct(SIMD16(repeating: a[3]), bv)
        c4.addProduct(SIMD16(repeating: a[4]), bv)
        c5.addProduct(SIMD16(repeating: a[5]), bv)
        c6.addProduct(SIMD16(repeating: e[0]), bv)
        c7.addProduct(SIMD16(repeating: e[1]), bv)
        c8.addProduct(SIMD16(repeating: e[2]), bv)
        c9.addProduct(SIMD16(repeating: e[3]), bv)
        c10.addProduct(SIMD16(repeating: e[4]), bv)
        c11.addProduct(SIMD16(repeating: e[5]), bv)
        a += 6
        e += 6
        b += 64
    }
    if rows == 12 && cols == 16 {
        store(c, c0, load); store(c + ldc, c1, load); store(c + 2 &* ldc, c2, load)
        store(c + 3 &* ldc, c3, load); store(c + 4 &* ldc, c4, load); store(c + 5 &* ldc, c5, load)
        store(c + 6 &* ldc, c6, load); store(c + 7 &* ldc, c7, load); store(c + 8 &* ldc, c8, load)
        store(c + 9 &* ldc, c9, load); store(c + 10 &* ldc, c10, load); store(c + 11 &* ldc, c11, load)
        return
    }
    // An edge tile: spill the accumulators to the stack (no heap array on this path) and write
    // the valid rows and columns only.
    withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 12) { t in
        t[0] = c0; t[1] = c1; t[2] = c2; t[3] = c3; t[4] = c4; t[5] = c5
        t[6] = c6; t[7] = c7; t[8] = c8; t[9] = c9; t[10] = c10; t[11] = c11
        for r in 0..<rows {
            let dst = c + r &* ldc
            let v = t[r]
            if load { for j in 0..<cols { dst[j] = v[j] + dst[j] } } else { for j in 0..<cols { dst[j] = v[j] } }
        }
    }
}

@inline(__always)
func store(_ p: UnsafeMutablePointer<Float>, _ v: SIMD16<Float>, _ load: Bool) {
    let r = UnsafeMutableRawPointer(p)
    var x = v
    if load { x += r.loadUnaligned(as: SIMD16<Float>.self) }
    r.storeBytes(of: x, as: SIMD16<Float>.self)
}
