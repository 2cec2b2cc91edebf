// Two GEMM tiles for edges where the 6x16 micro-kernel's edge bodies would wait on the FMA
// latency. An FMA takes 4 cycles and two issue per cycle, so a k loop needs 8 independent
// accumulator chains to run at full speed; an edge body with fewer (6x8: 6, 3x16: 6, 1x16: 2)
// takes 4 cycles per k whatever it computes.
//
// - Few columns (N leaves at most 4 after its 16-column panels; conv2's N = 196 = 12 x 16 + 4):
//   the packed A panel's 6 rows of one k become the vector lanes (8 loaded, the last 2 ignored)
//   and the 4 columns are broadcast from the B panel; two row panels per call give 8 chains.
//   Per k: 48 outputs in 4 cycles, where two 6x8 bodies took 8 cycles for 48.
// - Few rows (the last row panel holds at most 3 rows; conv1's backward-data M = 9 = 6 + 3):
//   two adjacent 16-column B panels at once, 3 rows x 32 columns = 12 chains. Per k: 96
//   outputs in 6 cycles, where two 3x16 bodies took 8.
//
// Every C element is still its sum over k in order, from zero, with fused multiply-adds, plus C
// when `load`: the bits of the 6x16 kernel.

/// Whether the narrow-column tile takes a column panel of `cols` columns.
@inline(__always)
func narrowColumnsTileTakes(cols: Int, wide: Bool) -> Bool { !wide && cols <= 4 && KernelISA.narrowTiles }

/// Whether the narrow-row tile takes a last row panel of `rows` rows (the column loops then
/// hand the micro-kernels two column panels at a time).
@inline(__always)
func narrowRowsTileTakes(rows: Int, wide: Bool) -> Bool { !wide && rows <= 3 && KernelISA.narrowTiles }

/// C[rows, cols] (+)= A[rows, kc] * B[kc, cols] for cols <= 4 and rows <= 12: `ap0` is the packed
/// A panel of rows 0..<6 and, when rows > 6, `ap1` the one of rows 6..<12; `bp` a packed B panel
/// ([kc][16], columns past `cols` zero). Reads 2 floats past the end of each A panel (lanes 6
/// and 7 of the last k, ignored), which the packing buffers leave room for.
@inline(never)
func narrowColumnsTile(_ kc: Int, _ ap0: UnsafePointer<Float>, _ ap1: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool) {
    if rows > gemmMR {
        narrowColumnsBody(kc, ap0, ap1, bp, c, ldc, rows, cols, load, two: true)
    } else {
        narrowColumnsBody(kc, ap0, ap0, bp, c, ldc, rows, cols, load, two: false)
    }
}

@_transparent
func narrowColumnsBody(_ kc: Int, _ ap0: UnsafePointer<Float>, _ ap1: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, two: Bool) {
    // cXY: rows of panel X (lanes), column Y.
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>(), c03 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>(), c13 = SIMD8<Float>()
    var a0 = UnsafeRawPointer(ap0), a1 = UnsafeRawPointer(ap1)
    var b = bp
    for _ in 0..<kc {
        let x0 = a0.loadUnaligned(as: SIMD8<Float>.self)
        let y0 = SIMD8<Float>(repeating: b[0]), y1 = SIMD8<Float>(repeating: b[1])
        let y2 = SIMD8<Float>(repeating: b[2]), y3 = SIMD8<Float>(repeating: b[3])
        c00.addProduct(x0, y0); c01.addProduct(x0, y1); c02.addProduct(x0, y2); c03.addProduct(x0, y3)
        if two {
            let x1 = a1.loadUnaligned(as: SIMD8<Float>.self)
            c10.addProduct(x1, y0); c11.addProduct(x1, y1); c12.addProduct(x1, y2); c13.addProduct(x1, y3)
        }
        a0 += gemmMR &* 4
        a1 += gemmMR &* 4
        b += gemmNR
    }
    @inline(__always) func store(_ panel: UnsafeMutablePointer<Float>, _ liveRows: Int, _ v0: SIMD8<Float>,
                                 _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>) {
        for r in 0..<liveRows {
            let row = panel + r &* ldc
            let sums = SIMD4<Float>(v0[r], v1[r], v2[r], v3[r])
            for j in 0..<cols { row[j] = load ? row[j] + sums[j] : sums[j] }
        }
    }
    store(c, min(rows, gemmMR), c00, c01, c02, c03)
    if two { store(c + gemmMR &* ldc, rows &- gemmMR, c10, c11, c12, c13) }
}

/// C[rows, cols] (+)= A[rows, kc] * B[kc, cols] for rows <= 3 and 16 < cols <= 32: `ap` a packed
/// A panel (rows past `rows` unused), `bp0` and `bp1` the packed B panels of columns 0..<16 and
/// 16..<32; `tile` 96 floats of scratch for a partial tile.
@inline(never)
func narrowRowsPairTile(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp0: UnsafePointer<Float>,
                        _ bp1: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int,
                        _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    switch rows {
    case 1: narrowRowsPairBody(kc, ap, bp0, bp1, c, ldc, rows, cols, load, tile, liveRows: 1)
    case 2: narrowRowsPairBody(kc, ap, bp0, bp1, c, ldc, rows, cols, load, tile, liveRows: 2)
    default: narrowRowsPairBody(kc, ap, bp0, bp1, c, ldc, rows, cols, load, tile, liveRows: 3)
    }
}

@_transparent
func narrowRowsPairBody(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp0: UnsafePointer<Float>,
                        _ bp1: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int,
                        _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>, liveRows: Int) {
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c02 = SIMD8<Float>(), c03 = SIMD8<Float>()
    var c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c12 = SIMD8<Float>(), c13 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c22 = SIMD8<Float>(), c23 = SIMD8<Float>()
    var a = ap
    var b0 = UnsafeRawPointer(bp0), b1 = UnsafeRawPointer(bp1)
    for _ in 0..<kc {
        // 12 accumulators, the 3 broadcasts, and one B vector at a time: 16 registers. (All
        // four B vectors loaded first spilled an accumulator to the stack.)
        let x0 = SIMD8<Float>(repeating: a[0])
        let x1 = SIMD8<Float>(repeating: liveRows > 1 ? a[1] : 0)
        let x2 = SIMD8<Float>(repeating: liveRows > 2 ? a[2] : 0)
        var u = b0.loadUnaligned(as: SIMD8<Float>.self)
        c00.addProduct(x0, u); if liveRows > 1 { c10.addProduct(x1, u) }; if liveRows > 2 { c20.addProduct(x2, u) }
        u = b0.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        c01.addProduct(x0, u); if liveRows > 1 { c11.addProduct(x1, u) }; if liveRows > 2 { c21.addProduct(x2, u) }
        u = b1.loadUnaligned(as: SIMD8<Float>.self)
        c02.addProduct(x0, u); if liveRows > 1 { c12.addProduct(x1, u) }; if liveRows > 2 { c22.addProduct(x2, u) }
        u = b1.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        c03.addProduct(x0, u); if liveRows > 1 { c13.addProduct(x1, u) }; if liveRows > 2 { c23.addProduct(x2, u) }
        a += gemmMR
        b0 += gemmNR &* 4
        b1 += gemmNR &* 4
    }
    if cols == 2 &* gemmNR {
        storeRow(c, c00, c01, load); storeRow(c + gemmNR, c02, c03, load)
        if liveRows > 1 { storeRow(c + ldc, c10, c11, load); storeRow(c + (ldc &+ gemmNR), c12, c13, load) }
        if liveRows > 2 {
            storeRow(c + 2 &* ldc, c20, c21, load); storeRow(c + (2 &* ldc &+ gemmNR), c22, c23, load)
        }
        return
    }
    // A partial tile: spill the live rows ([rows][32]) and copy the valid columns.
    let t = UnsafeMutableRawPointer(tile)
    @inline(__always) func spill(_ r: Int, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>) {
        let o = r &* 128
        t.storeBytes(of: v0, toByteOffset: o, as: SIMD8<Float>.self)
        t.storeBytes(of: v1, toByteOffset: o &+ 32, as: SIMD8<Float>.self)
        t.storeBytes(of: v2, toByteOffset: o &+ 64, as: SIMD8<Float>.self)
        t.storeBytes(of: v3, toByteOffset: o &+ 96, as: SIMD8<Float>.self)
    }
    spill(0, c00, c01, c02, c03)
    if liveRows > 1 { spill(1, c10, c11, c12, c13) }
    if liveRows > 2 { spill(2, c20, c21, c22, c23) }
    for r in 0..<rows {
        let dst = c + r &* ldc, src = tile + r &* 2 &* gemmNR
        if load { for j in 0..<cols { dst[j] += src[j] } } else { for j in 0..<cols { dst[j] = src[j] } }
    }
}
