// General matrix multiply, row-major.
//
//   C[M, N] = (accumulate ? C : 0) + op(A)[M, K] * op(B)[K, N]
//   op(A)[i, p] = transA ? a[p * lda + i] : a[i * lda + p]
//   op(B)[p, j] = transB ? b[j * ldb + p] : b[p * ldb + j]
//
// Structure (Goto/BLIS): for each NC-wide column block and KC-deep slice, B is packed into
// 16-column panels ([KC][16], stays in L1 while a micro-kernel runs) and each task packs its
// MC rows of A into 6-row panels ([KC][6], L2). The 6x16 micro-kernel keeps 12 ymm
// accumulators in registers and issues 12 FMAs per k for 2 vector loads and 6 broadcasts.
// Packing normalises every transpose variant, so one micro-kernel serves A*B, A^T*B, A*B^T.
// Threads split C into disjoint tiles, so the result does not depend on the thread count.

import KernelsAVX512
import CKernelHints

@usableFromInline let gemmMR = 6
@usableFromInline let gemmNR = 16
@usableFromInline let gemmKC = 384
@usableFromInline let gemmMC = 72
@usableFromInline let gemmNC = 1024

/// Fast GEMM; see the file comment for the exact semantics.
public func gemm(_ c: UnsafeMutablePointer<Float>, ldc: Int,
                 _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
                 _ b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                 m: Int, n: Int, k: Int, accumulate: Bool,
                 threads: Int = KernelThreads.count) {
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
        return
    }
    if transB && !transA && m &* n <= 1024 && k >= 128 {
        // Few, long dot products (the first conv layer's weight gradient: 32 x 9 outputs of
        // depth 784): both operands are contiguous rows, so stream them instead of packing.
        gemmDotProducts(c, ldc: ldc, a, lda: lda, b, ldb: ldb, m: m, n: n, k: k, accumulate: accumulate)
        return
    }
    let ncMax = min(gemmNC, (n + gemmNR - 1) / gemmNR * gemmNR)
    // Equal KC slices, so a depth just over KC does not leave a thin slice that pays a full C pass.
    let slices = (k + gemmKC - 1) / gemmKC
    let kcMax = (k + slices - 1) / slices
    if m <= gemmMC && kcMax &* ncMax >= gemmPackEachBPanelMinimum && KernelISA.packEachBPanel {
        // One block of rows: nothing would reuse a packed B, so each panel is packed where it is used.
        gemmOneRowBlock(c, ldc: ldc, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB, m: m, n: n, k: k,
                        accumulate: accumulate, threads: max(1, threads), kcMax: kcMax)
        return
    }
    withScratch(ncMax * kcMax) { bp in
        gemmBlocked(c, ldc: ldc, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB, m: m, n: n, k: k,
                    accumulate: accumulate, threads: max(1, threads), kcMax: kcMax, bp: bp)
    }
}

/// Smallest B slice (floats) that `gemm` packs panel by panel when M <= MC. Below it the whole
/// slice stays in L1 anyway and packing it in one pass is cheaper: conv1's forward product
/// (9 x 784, 28 KB) lost 15% packed panel by panel (OpenBLAS ratio 1.27x -> 1.07x).
let gemmPackEachBPanelMinimum = 16 * 1024

/// `gemm` for M <= MC and a B slice of at least `gemmPackEachBPanelMinimum` floats (the conv
/// products of fashion-cnn but conv1's forward): each task packs all of op(A) for its
/// slice of depth, then packs each of its B panels right before the kernels use it
/// (`multiplyBPanels`). `gemmBlocked` packs the whole B slice first, for the row
/// blocks to share; with one row block that only costs cache: conv2's forward packed 240 KB
/// of B beside its 225 KB source and 74 KB of packed A, more than a Zen 3 core's 512 KB L2.
func gemmOneRowBlock(_ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
                     _ b: UnsafePointer<Float>, ldb: Int, transB: Bool, m: Int, n: Int, k: Int, accumulate: Bool,
                     threads: Int, kcMax: Int) {
    let rowPanels = (m + gemmMR - 1) / gemmMR
    forEachGemmBlock(n: n, k: k, kcMax: kcMax) { jc, _, panels, pc, kc in
        // Threads split the columns (C tiles are disjoint, so the bits do not depend on the split).
        let splits = min(panels, threads > 1 ? 2 * threads : 1)
        let load = accumulate || pc > 0
        parallelFor(splits, threads: threads) { t in
            let share = workerShare(t, of: splits, tasks: panels)
            if share.isEmpty { return }
            withScratch(rowPanels * gemmMR * kc + 16 + 96 + 2 * gemmNR * kc) { ap in
                let tile = alignUp(ap + rowPanels * gemmMR * kc)  // 96 floats, then room for two B panels
                packAPanels(ap, a, lda: lda, transA: transA, row0: 0, rows: m, col0: pc, kc: kc)
                multiplyBPanels(kc, ap, rowPanels: rowPanels, b, ldb: ldb, transB: transB, row0: pc, jc: jc,
                                panels: share.lowerBound, share.upperBound, n: n, c, ldc: ldc, i0: 0, m: m, load: load,
                                bp: tile + 96, tile: tile, wide: KernelISA.useAVX512, packing: true)
            }
        }
    }
}

/// The blocking loops every GEMM driver shares: column blocks of at most NC columns (`nc`
/// columns in `panels` 16-column panels, from `jc`), and inside each, slices of depth of at
/// most `kcMax` (`kc` deep, from `pc`).
@inline(__always)
func forEachGemmBlock(n: Int, k: Int, kcMax: Int,
                      _ body: (_ jc: Int, _ nc: Int, _ panels: Int, _ pc: Int, _ kc: Int) -> Void) {
    var jc = 0
    while jc < n {
        let nc = min(gemmNC, n - jc)
        let panels = (nc + gemmNR - 1) / gemmNR
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k - pc)
            body(jc, nc, panels, pc, kc)
            pc += kc
        }
        jc += nc
    }
}

/// Packs op(A)[row0 ..< row0 + rows, col0 ..< col0 + kc] as consecutive 6-row panels ([kc][6]
/// each, the last zero-padded).
@inline(__always)
func packAPanels(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
                 row0: Int, rows: Int, col0: Int, kc: Int) {
    for ip in 0..<((rows + gemmMR - 1) / gemmMR) {
        packA(dst + ip &* kc &* gemmMR, a, lda: lda, transA: transA, row0: row0 &+ ip &* gemmMR, col0: col0, kc: kc,
              rows: min(gemmMR, rows - ip &* gemmMR))
    }
}

/// C rows i0 ..< m, in the columns of B panels p0 ..< p1 of the column block at jc:
/// (load ? C : 0) + the packed A panels * op(B)[row0 ..< row0 + kc, those columns]. With
/// `packing`, each B panel (or pair, for the 12x32 kernel and the narrow-row tile) is packed
/// into `bp` (room for two panels, reused) right before the kernels run on it, so they read it
/// from L1; without, `bp` holds the block's panels packed already, panel jp at jp * kc * 16.
@inline(__always)
func multiplyBPanels(_ kc: Int, _ ap: UnsafePointer<Float>, rowPanels: Int,
                     _ b: UnsafePointer<Float>, ldb: Int, transB: Bool, row0: Int, jc: Int,
                     panels p0: Int, _ p1: Int, n: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int,
                     i0: Int, m: Int, load: Bool, bp: UnsafeMutablePointer<Float>,
                     tile: UnsafeMutablePointer<Float>, wide: Bool, packing: Bool) {
    // Column panels in pairs: for the 12x32 kernel, or for a last row panel of at most 3 rows.
    let pairs = wide || narrowRowsTileTakes(rows: m &- i0 &- (rowPanels &- 1) &* gemmMR, wide: wide)
    var jp = p0
    while jp < p1 {
        let j = jc &+ jp &* gemmNR
        let b0 = packing ? bp : bp + jp &* kc &* gemmNR, b1 = b0 + kc &* gemmNR
        if packing { packB(b0, b, ldb: ldb, transB: transB, row0: row0, col0: j, kc: kc, cols: min(gemmNR, n - j)) }
        if pairs && jp &+ 1 < p1 {
            if packing {
                let j1 = j &+ gemmNR
                packB(b1, b, ldb: ldb, transB: transB, row0: row0, col0: j1, kc: kc, cols: min(gemmNR, n - j1))
            }
            microKernelColumnPair(kc, ap, rowPanels: rowPanels, b0, b1, c + j, ldc: ldc, i0: i0, m: m,
                                  cols: min(2 &* gemmNR, n - j), load: load, tile: tile, wide: wide)
            jp &+= 2
            continue
        }
        microKernelColumn(kc, ap, rowPanels: rowPanels, b0, c + j, ldc: ldc, i0: i0, m: m,
                          cols: min(gemmNR, n - j), load: load, tile: tile, wide: wide)
        jp &+= 1
    }
}

/// `gemm` for M > MC: B slices packed whole, shared by the row blocks.
func gemmBlocked(_ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
                 _ b: UnsafePointer<Float>, ldb: Int, transB: Bool, m: Int, n: Int, k: Int, accumulate: Bool,
                 threads: Int, kcMax: Int, bp: UnsafeMutablePointer<Float>) {
    forEachGemmBlock(n: n, k: k, kcMax: kcMax) { jc, nc, panels, pc, kc in
        // Pack B[pc..<pc+kc, jc..<jc+nc] into 16-column panels.
        let packTasks = min(panels, threads * 4)
        parallelFor(packTasks, threads: threads) { t in
            for jp in workerShare(t, of: packTasks, tasks: panels) {
                packB(bp + jp &* kc &* gemmNR, b, ldb: ldb, transB: transB,
                      row0: pc, col0: jc &+ jp &* gemmNR, kc: kc, cols: min(gemmNR, nc - jp &* gemmNR))
            }
        }
        // Split C rows into MC blocks, and columns into groups of panels if rows are few.
        let mBlocks = (m + gemmMC - 1) / gemmMC
        let nSplits = threads > 1 && mBlocks < 2 * threads ? min(panels, 2 * threads) : 1
        let load = accumulate || pc > 0
        parallelFor(mBlocks * nSplits, threads: threads) { t in
            let ib = t / nSplits, js = t % nSplits
            let i0 = ib &* gemmMC, mc = min(gemmMC, m - i0)
            let share = workerShare(js, of: nSplits, tasks: panels)
            if share.isEmpty { return }
            withScratch(gemmMC * kc + 16 + 96) { ap in
                let tile = alignUp(ap + gemmMC * kc)  // 96 floats after the packed A
                packAPanels(ap, a, lda: lda, transA: transA, row0: i0, rows: mc, col0: pc, kc: kc)
                multiplyBPanels(kc, ap, rowPanels: (mc + gemmMR - 1) / gemmMR, b, ldb: ldb, transB: transB, row0: pc,
                                jc: jc, panels: share.lowerBound, share.upperBound, n: n, c, ldc: ldc, i0: i0,
                                m: i0 &+ mc, load: load, bp: bp, tile: tile, wide: KernelISA.useAVX512, packing: false)
            }
        }
    }
}

@inline(__always) @usableFromInline
func alignUp(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
    let raw = UInt(bitPattern: p)
    let aligned = (raw &+ 63) & ~UInt(63)
    return UnsafeMutablePointer(bitPattern: aligned)!
}

/// Packs op(B)[row0..<row0+kc, col0..<col0+cols] as [kc][16], zero-padding missing columns.
/// Never inlined: inside gemmOneRowBlock's large body the optimiser left its SIMD loads and
/// stores as calls to the stdlib's generic specialisations (7.7% of conv2's backward op);
/// one call per panel costs nothing by comparison.
@inline(never)
func packB(_ dst: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, transB: Bool,
           row0: Int, col0: Int, kc: Int, cols: Int) {
    if !transB && cols == gemmNR {
        for p in 0..<kc {
            let src = UnsafeRawPointer(b + ((row0 &+ p) &* ldb &+ col0))
            let d = UnsafeMutableRawPointer(dst + p &* gemmNR)
            d.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
        }
    } else if !transB {
        // A last, partial panel (conv2's N = 196 leaves 4 columns): the row is zeroed with one
        // vector store and the live columns copied 8 and 4 at a time. Zeroing the padding one
        // float at a time (a bounds-checked scalar loop) was 5% of conv2's forward op.
        for p in 0..<kc {
            let src = UnsafeRawPointer(b + ((row0 &+ p) &* ldb &+ col0))
            let d = UnsafeMutableRawPointer(dst + p &* gemmNR)
            d.storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self)
            var jj = 0
            if cols >= 8 {
                d.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                jj = 8
            }
            if cols &- jj >= 4 {
                d.storeBytes(of: src.loadUnaligned(fromByteOffset: jj &* 4, as: SIMD4<Float>.self), toByteOffset: jj &* 4,
                             as: SIMD4<Float>.self)
                jj &+= 4
            }
            while jj < cols {
                d.storeBytes(of: src.load(fromByteOffset: jj &* 4, as: Float.self), toByteOffset: jj &* 4, as: Float.self)
                jj &+= 1
            }
        }
    } else {
        packBTransposed(dst, b + (col0 &* ldb &+ row0), ldb: ldb, kc: kc, cols: cols)
    }
}

/// packB for B stored [N, K] (op(B) = B^T): panel row p is element p of 16 source rows. Four
/// source rows at a time, four elements of each are loaded and transposed in registers (4x4),
/// so the panel is written in 16-byte stores instead of one float at a time.
@inline(__always)
func packBTransposed(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, ldb: Int, kc: Int, cols: Int) {
    var g = 0
    while g < gemmNR {
        // Source rows g ..< g + 4 (missing ones read as zero).
        let live = min(4, max(0, cols &- g))
        let r0 = src + g &* ldb, r1 = r0 + ldb, r2 = r1 + ldb, r3 = r2 + ldb
        let d = UnsafeMutableRawPointer(dst + g)
        var p = 0
        if live == 4 {
            while p &+ 4 <= kc {
                let x0 = UnsafeRawPointer(r0 + p).loadUnaligned(as: SIMD4<Float>.self)
                let x1 = UnsafeRawPointer(r1 + p).loadUnaligned(as: SIMD4<Float>.self)
                let x2 = UnsafeRawPointer(r2 + p).loadUnaligned(as: SIMD4<Float>.self)
                let x3 = UnsafeRawPointer(r3 + p).loadUnaligned(as: SIMD4<Float>.self)
                let row = p &* gemmNR &* 4
                d.storeBytes(of: SIMD4(x0[0], x1[0], x2[0], x3[0]), toByteOffset: row, as: SIMD4<Float>.self)
                d.storeBytes(of: SIMD4(x0[1], x1[1], x2[1], x3[1]), toByteOffset: row &+ 64, as: SIMD4<Float>.self)
                d.storeBytes(of: SIMD4(x0[2], x1[2], x2[2], x3[2]), toByteOffset: row &+ 128, as: SIMD4<Float>.self)
                d.storeBytes(of: SIMD4(x0[3], x1[3], x2[3], x3[3]), toByteOffset: row &+ 192, as: SIMD4<Float>.self)
                p &+= 4
            }
        }
        // The rest (and groups with missing rows) element by element.
        let out = dst + g
        while p < kc {
            let o = out + p &* gemmNR
            o[0] = live > 0 ? r0[p] : 0
            o[1] = live > 1 ? r1[p] : 0
            o[2] = live > 2 ? r2[p] : 0
            o[3] = live > 3 ? r3[p] : 0
            p &+= 1
        }
        g &+= 4
    }
}

/// Packs op(A)[row0..<row0+rows, col0..<col0+kc] as [kc][6], zero-padding missing rows.
/// For A^T a full panel's six values of one k are contiguous in the source and move as a 4-float
/// and a 2-float vector (conv2's backward-data product: +2% against one float at a time).
@inline(never)  // see packB
func packA(_ dst: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
           row0: Int, col0: Int, kc: Int, rows: Int) {
    let d = UnsafeMutableRawPointer(dst)
    if transA && rows == gemmMR {
        // A stored [K, M]: the 6 rows of one k are contiguous.
        for p in 0..<kc {
            let src = UnsafeRawPointer(a + ((col0 &+ p) &* lda &+ row0))
            d.storeBytes(of: src.loadUnaligned(as: SIMD4<Float>.self), toByteOffset: p &* 24, as: SIMD4<Float>.self)
            d.storeBytes(of: src.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: p &* 24 &+ 16,
                         as: SIMD2<Float>.self)
        }
    } else if transA {
        for p in 0..<kc {
            let src = a + ((col0 &+ p) &* lda &+ row0)
            let d = dst + p &* gemmMR
            for ii in 0..<rows { d[ii] = src[ii] }
            for ii in rows..<gemmMR { d[ii] = 0 }
        }
    } else if rows == gemmMR {
        // Six source rows read side by side, the panel written in order: one pass of
        // sequential stores instead of six strided ones. (4x4 register transposes of four rows
        // plus pairs of the other two measured 2-3% slower on GEMM 1024^3 and conv2 forward.)
        let s0 = a + (row0 &* lda &+ col0)
        let s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda
        var e = dst
        for p in 0..<kc {
            e[0] = s0[p]; e[1] = s1[p]; e[2] = s2[p]; e[3] = s3[p]; e[4] = s4[p]; e[5] = s5[p]
            e += 6
        }
    } else {
        for ii in 0..<gemmMR {
            if ii < rows {
                let src = a + ((row0 &+ ii) &* lda &+ col0)
                for p in 0..<kc { dst[p &* gemmMR &+ ii] = src[p] }
            } else {
                for p in 0..<kc { dst[p &* gemmMR &+ ii] = 0 }
            }
        }
    }
}

/// C rows i0 ..< i0 + 6 * rowPanels (at most m) of one 16-column panel: `ap` holds the
/// `rowPanels` packed A panels ([kc][6] each, one after the other), `bp` the B panel, `c` points
/// at row 0 of the panel's first column. With `wide` (an AVX-512 CPU) two A panels go to each
/// call of the 12x16 kernel and a last odd one to the 6x16 kernel; both give the same bits.
@inline(__always)
func microKernelColumn(_ kc: Int, _ ap: UnsafePointer<Float>, rowPanels: Int, _ bp: UnsafePointer<Float>,
                       _ c: UnsafeMutablePointer<Float>, ldc: Int, i0: Int, m: Int, cols: Int, load: Bool,
                       tile: UnsafeMutablePointer<Float>, wide: Bool) {
    let panel = kc &* gemmMR
    var ip = 0
    if narrowColumnsTileTakes(cols: cols, wide: wide) {
        // At most 4 columns: row panels two at a time on the narrow-column tile (GemmNarrowTiles.swift).
        while ip < rowPanels {
            let i = i0 &+ ip &* gemmMR
            let two = ip &+ 1 < rowPanels
            narrowColumnsTile(kc, ap + ip &* panel, ap + (two ? ip &+ 1 : ip) &* panel, bp, c + i &* ldc, ldc,
                              min(two ? 2 &* gemmMR : gemmMR, m - i), cols, load)
            ip &+= 2
        }
        return
    }
    if wide {
        while ip &+ 1 < rowPanels {
            let i = i0 &+ ip &* gemmMR
            gemmMicroKernel12x16AVX512(kc, ap + ip &* panel, ap + (ip &+ 1) &* panel, bp,
                                       c + i &* ldc, ldc: ldc, rows: min(2 &* gemmMR, m - i), cols: cols, load: load)
            ip &+= 2
        }
    }
    while ip < rowPanels {
        let i = i0 &+ ip &* gemmMR
        microKernel6x16(kc, ap + ip &* panel, bp, c + i &* ldc, ldc, min(gemmMR, m - i), cols, load, tile)
        ip &+= 1
    }
}

/// Two adjacent B panels (`bp0` then `bp1`, columns 16 apart; `cols` counts both, 17...32)
/// against every row panel: with `wide`, the 12x32 AVX-512 kernel on pairs of row panels, the
/// column kernels per panel for the rest; without, the column kernels, except that a last row
/// panel of at most 3 rows goes to the narrow-row tile (GemmNarrowTiles.swift). Same bits as
/// two `microKernelColumn` calls.
func microKernelColumnPair(_ kc: Int, _ ap: UnsafePointer<Float>, rowPanels: Int, _ bp0: UnsafePointer<Float>,
                           _ bp1: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, ldc: Int, i0: Int, m: Int,
                           cols: Int, load: Bool, tile: UnsafeMutablePointer<Float>, wide: Bool) {
    let panel = kc &* gemmMR
    if !wide {
        // Column by column over the full row panels (each B panel stays in L1 while the A
        // panels stream past; alternating the two B panels per row panel evicted them and
        // cost fc1's M = 128 products 4%), then the narrow last row panel against both.
        let last = i0 &+ (rowPanels &- 1) &* gemmMR
        let narrowLast = narrowRowsTileTakes(rows: m &- last, wide: false)
        let full = narrowLast ? rowPanels &- 1 : rowPanels
        microKernelColumn(kc, ap, rowPanels: full, bp0, c, ldc: ldc, i0: i0, m: m, cols: gemmNR, load: load,
                          tile: tile, wide: false)
        microKernelColumn(kc, ap, rowPanels: full, bp1, c + gemmNR, ldc: ldc, i0: i0, m: m, cols: cols &- gemmNR,
                          load: load, tile: tile, wide: false)
        if narrowLast {
            narrowRowsPairTile(kc, ap + full &* panel, bp0, bp1, c + last &* ldc, ldc, m &- last, cols, load, tile)
        }
        return
    }
    var ip = 0
    while ip &+ 1 < rowPanels {
        let i = i0 &+ ip &* gemmMR
        gemmMicroKernel12x32AVX512(kc, ap + ip &* panel, ap + (ip &+ 1) &* panel, bp0, bp1,
                                   c + i &* ldc, ldc: ldc, rows: min(2 &* gemmMR, m - i), cols: cols, load: load)
        ip &+= 2
    }
    while ip < rowPanels {
        let i = i0 &+ ip &* gemmMR
        microKernel6x16(kc, ap + ip &* panel, bp0, c + i &* ldc, ldc, min(gemmMR, m - i), gemmNR, load, tile)
        microKernel6x16(kc, ap + ip &* panel, bp1, c + (i &* ldc &+ gemmNR), ldc, min(gemmMR, m - i), cols &- gemmNR,
                        load, tile)
        ip &+= 1
    }
}

/// The 6x16 register-blocked micro-kernel: C[rows, cols] (+)= Ap[kc][6]^T * Bp[kc][16], for
/// rows <= 6 and cols <= 16. A full tile runs inline; an edge tile (the last row panel of an M
/// that is not a multiple of 6, the last column panel of an N that is not a multiple of 16)
/// goes to a body compiled for its row count and for 8 or 16 columns, so that e.g. 4 leftover
/// columns do not cost a full 16-wide pass (conv2's N = 196 = 12 x 16 + 4, conv1's 9 rows of
/// dCol = 6 + 3). Every body sums each C element over k in the same order, from zero, with
/// fused multiply-adds, then adds C if `load`: all give the same bits.
@inline(__always)
func microKernel6x16(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int,
                     _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if rows == gemmMR && cols == gemmNR {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 6, sixteen: true)
    } else {
        microKernelEdge(kc, ap, bp, c, ldc, rows, cols, load, tile)
    }
}

/// Edge tiles: one small function per row count (`edgeRows1` ... `edgeRows6`), each holding
/// the body specialised for 16 and for 8 columns. (One function holding all twelve bodies
/// outgrew the optimiser's inlining budget: its vector stores became calls, and fc2's all-edge
/// product ran 3x slower. A table of closures cost conv1's depth-9 products 10%: reference
/// counting on every call.)
@inline(__always)
func microKernelEdge(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int,
                     _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    switch rows {
    case 1: edgeRows1(kc, ap, bp, c, ldc, rows, cols, load, tile)
    case 2: edgeRows2(kc, ap, bp, c, ldc, rows, cols, load, tile)
    case 3: edgeRows3(kc, ap, bp, c, ldc, rows, cols, load, tile)
    case 4: edgeRows4(kc, ap, bp, c, ldc, rows, cols, load, tile)
    case 5: edgeRows5(kc, ap, bp, c, ldc, rows, cols, load, tile)
    default: edgeRows6(kc, ap, bp, c, ldc, rows, cols, load, tile)
    }
}

@inline(never) func edgeRows1(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if cols > 8 {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 1, sixteen: true)
    } else {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 1, sixteen: false)
    }
}
@inline(never) func edgeRows2(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if cols > 8 {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 2, sixteen: true)
    } else {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 2, sixteen: false)
    }
}
@inline(never) func edgeRows3(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if cols > 8 {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 3, sixteen: true)
    } else {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 3, sixteen: false)
    }
}
@inline(never) func edgeRows4(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if cols > 8 {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 4, sixteen: true)
    } else {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 4, sixteen: false)
    }
}
@inline(never) func edgeRows5(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if cols > 8 {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 5, sixteen: true)
    } else {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 5, sixteen: false)
    }
}
@inline(never) func edgeRows6(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int, _ load: Bool, _ tile: UnsafeMutablePointer<Float>) {
    if cols > 8 {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 6, sixteen: true)
    } else {
        microKernelBody(kc, ap, bp, c, ldc, rows, cols, load, tile, liveRows: 6, sixteen: false)
    }
}

/// The micro-kernel for `liveRows` rows (1...6) of the packed A panel and the first 8 or 16
/// columns of the B panel; both are constants where it is inlined, so the accumulators and
/// multiply-adds of absent rows and columns drop out. 6 x 16: 12 ymm accumulators, 12 FMAs per
/// k for 2 vector loads and 6 broadcasts.
@_transparent  // @inline(__always) was not honoured here (the body stayed a call, its flags tested in the loop)
func microKernelBody(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: UnsafePointer<Float>,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ rows: Int, _ cols: Int,
                     _ load: Bool, _ tile: UnsafeMutablePointer<Float>, liveRows: Int, sixteen: Bool) {
    // The C tile is read (load) and written after the k loop, its rows ldc apart and often not
    // in cache: ask for their lines now, so the misses overlap the loop (measured +1-2% on
    // GEMM 1024^3).
    var r = 0
    while r < rows {
        rt_prefetch_write(c + r &* ldc)
        if sixteen { rt_prefetch_write(c + (r &* ldc &+ 15)) }
        r &+= 1
    }
    var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
    var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
    var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
    var a = ap
    var b = UnsafeRawPointer(bp)
    for _ in 0..<kc {
        let b0 = b.loadUnaligned(as: SIMD8<Float>.self)
        let b1 = sixteen ? b.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self) : b0
        var x = SIMD8<Float>(repeating: a[0]); c00.addProduct(x, b0); if sixteen { c01.addProduct(x, b1) }
        if liveRows > 1 { x = SIMD8<Float>(repeating: a[1]); c10.addProduct(x, b0); if sixteen { c11.addProduct(x, b1) } }
        if liveRows > 2 { x = SIMD8<Float>(repeating: a[2]); c20.addProduct(x, b0); if sixteen { c21.addProduct(x, b1) } }
        if liveRows > 3 { x = SIMD8<Float>(repeating: a[3]); c30.addProduct(x, b0); if sixteen { c31.addProduct(x, b1) } }
        if liveRows > 4 { x = SIMD8<Float>(repeating: a[4]); c40.addProduct(x, b0); if sixteen { c41.addProduct(x, b1) } }
        if liveRows > 5 { x = SIMD8<Float>(repeating: a[5]); c50.addProduct(x, b0); if sixteen { c51.addProduct(x, b1) } }
        a += gemmMR
        b += gemmNR &* 4
    }
    if rows == gemmMR && cols == gemmNR {
        storeRow(c, c00, c01, load)
        storeRow(c + ldc, c10, c11, load)
        storeRow(c + 2 &* ldc, c20, c21, load)
        storeRow(c + 3 &* ldc, c30, c31, load)
        storeRow(c + 4 &* ldc, c40, c41, load)
        storeRow(c + 5 &* ldc, c50, c51, load)
        return
    }
    // Edges: spill the live part of the tile and copy the valid part.
    let t = UnsafeMutableRawPointer(tile)
    t.storeBytes(of: c00, toByteOffset: 0, as: SIMD8<Float>.self); t.storeBytes(of: c01, toByteOffset: 32, as: SIMD8<Float>.self)
    if liveRows > 1 { t.storeBytes(of: c10, toByteOffset: 64, as: SIMD8<Float>.self); t.storeBytes(of: c11, toByteOffset: 96, as: SIMD8<Float>.self) }
    if liveRows > 2 { t.storeBytes(of: c20, toByteOffset: 128, as: SIMD8<Float>.self); t.storeBytes(of: c21, toByteOffset: 160, as: SIMD8<Float>.self) }
    if liveRows > 3 { t.storeBytes(of: c30, toByteOffset: 192, as: SIMD8<Float>.self); t.storeBytes(of: c31, toByteOffset: 224, as: SIMD8<Float>.self) }
    if liveRows > 4 { t.storeBytes(of: c40, toByteOffset: 256, as: SIMD8<Float>.self); t.storeBytes(of: c41, toByteOffset: 288, as: SIMD8<Float>.self) }
    if liveRows > 5 { t.storeBytes(of: c50, toByteOffset: 320, as: SIMD8<Float>.self); t.storeBytes(of: c51, toByteOffset: 352, as: SIMD8<Float>.self) }
    for r in 0..<rows {
        let dst = c + r &* ldc
        let src = tile + r &* gemmNR
        if load { for j in 0..<cols { dst[j] += src[j] } } else { for j in 0..<cols { dst[j] = src[j] } }
    }
}

@inline(__always)
func storeRow(_ p: UnsafeMutablePointer<Float>, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ load: Bool) {
    let r = UnsafeMutableRawPointer(p)
    var x0 = v0, x1 = v1
    if load {
        x0 += r.loadUnaligned(as: SIMD8<Float>.self)
        x1 += r.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    }
    r.storeBytes(of: x0, as: SIMD8<Float>.self)
    r.storeBytes(of: x1, toByteOffset: 32, as: SIMD8<Float>.self)
}

/// C[i, j] (+)= dot(A row i, B row j) for A [M, K] and B [N, K] (the A * B^T case).
@inline(never)  // inlined into gemm, LLVM scalarises its vector loads (seen in perf annotate)
func gemmDotProducts(_ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: UnsafePointer<Float>, lda: Int,
                     _ b: UnsafePointer<Float>, ldb: Int, m: Int, n: Int, k: Int, accumulate: Bool) {
    for i in 0..<m {
        let ar = UnsafeRawPointer(a + i &* lda)
        var j = 0
        // Two B rows per pass share each load of the A row.
        while j < n {
            let two = j &+ 1 < n
            let br0 = UnsafeRawPointer(b + j &* ldb), br1 = UnsafeRawPointer(b + (two ? j &+ 1 : j) &* ldb)
            var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), t0 = SIMD8<Float>(), t1 = SIMD8<Float>()
            var p = 0
            while p &+ 16 <= k {
                let x0 = ar.loadUnaligned(fromByteOffset: p &* 4, as: SIMD8<Float>.self)
                let x1 = ar.loadUnaligned(fromByteOffset: p &* 4 &+ 32, as: SIMD8<Float>.self)
                s0.addProduct(x0, br0.loadUnaligned(fromByteOffset: p &* 4, as: SIMD8<Float>.self))
                s1.addProduct(x1, br0.loadUnaligned(fromByteOffset: p &* 4 &+ 32, as: SIMD8<Float>.self))
                t0.addProduct(x0, br1.loadUnaligned(fromByteOffset: p &* 4, as: SIMD8<Float>.self))
                t1.addProduct(x1, br1.loadUnaligned(fromByteOffset: p &* 4 &+ 32, as: SIMD8<Float>.self))
                p &+= 16
            }
            var d0 = (s0 + s1).sum(), d1 = (t0 + t1).sum()
            let ap = a + i &* lda, bp0 = b + j &* ldb, bp1 = b + (two ? j &+ 1 : j) &* ldb
            while p < k { d0 += ap[p] * bp0[p]; d1 += ap[p] * bp1[p]; p &+= 1 }  // leftovers
            let row = c + i &* ldc
            if accumulate { row[j] += d0 } else { row[j] = d0 }
            if two { if accumulate { row[j &+ 1] += d1 } else { row[j &+ 1] = d1 } }
            j &+= 2
        }
    }
}

/// Plain-loop reference for `gemm` (Double accumulation): the algorithm, and the test oracle.
public func gemmReference(_ c: UnsafeMutablePointer<Float>, ldc: Int,
                          _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
                          _ b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                          m: Int, n: Int, k: Int, accumulate: Bool) {
    for i in 0..<m {
        for j in 0..<n {
            var s: Double = accumulate ? Double(c[i * ldc + j]) : 0
            for p in 0..<k {
                let x = transA ? a[p * lda + i] : a[i * lda + p]
                let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                s += Double(x) * Double(y)
            }
            c[i * ldc + j] = Float(s)
        }
    }
}
