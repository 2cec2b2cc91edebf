// GEMM with op(A) packed once and reused: the convolutions multiply the same weight matrix
// with every image's col matrix, so packing the weights per image would be wasted work.
//
// Layout: op(A)[M, K] cut into the same equal KC slices as `gemm`; inside slice s (depth kc_s,
// starting at pc_s), the ceil(M / 6) row panels follow each other, each [kc_s][6].

/// op(A) packed for `gemmPrepackedA`; owns its memory.
public final class PackedMatrixA {
    public let m: Int, k: Int
    let sliceDepth: Int
    let storage: UnsafeMutablePointer<Float>
    let base: UnsafeMutablePointer<Float>
    let paddedRows: Int

    public init(_ a: UnsafePointer<Float>, lda: Int, transA: Bool, m: Int, k: Int) {
        self.m = m; self.k = k
        let slices = max(1, (k + gemmKC - 1) / gemmKC)
        sliceDepth = max(1, (k + slices - 1) / slices)
        paddedRows = (m + gemmMR - 1) / gemmMR * gemmMR
        // 32 floats beyond the panels: the alignment, and the 2 floats past the last panel
        // that the narrow-column tile reads (and ignores).
        storage = .allocate(capacity: paddedRows * max(k, 1) + 32)
        storage.initialize(repeating: 0, count: paddedRows * max(k, 1) + 32)
        base = alignUp(storage)
        var pc = 0
        while pc < k {
            let kc = min(sliceDepth, k - pc)
            packAPanels(base + paddedRows &* pc, a, lda: lda, transA: transA, row0: 0, rows: m, col0: pc, kc: kc)
            pc += kc
        }
    }

    deinit { storage.deallocate() }
}

/// C[M, N] = (accumulate ? C : 0) + A * op(B), A prepacked; single-threaded (callers thread
/// over independent products, e.g. images).
public func gemmPrepackedA(_ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: PackedMatrixA,
                           _ b: UnsafePointer<Float>, ldb: Int, transB: Bool, n: Int, accumulate: Bool) {
    let m = a.m, k = a.k
    if m <= 0 || n <= 0 { return }
    if k <= 0 {
        if !accumulate { for i in 0..<m { (c + i &* ldc).update(repeating: 0, count: n) } }
        return
    }
    // Every panel is packed, full ones too: reading a row-major B in place (rows ldb apart) was
    // measured 2% slower on fashion-cnn (conv2 forward 10%), the strided rows costing more than
    // the copy.
    let rowPanels = a.paddedRows / gemmMR
    withScratch(96 + 2 * gemmNR * a.sliceDepth) { tile in
        forEachGemmBlock(n: n, k: k, kcMax: a.sliceDepth) { jc, _, panels, pc, kc in
            multiplyBPanels(kc, a.base + a.paddedRows &* pc, rowPanels: rowPanels, b, ldb: ldb, transB: transB,
                            row0: pc, jc: jc, panels: 0, panels, n: n, c, ldc: ldc, i0: 0, m: m,
                            load: accumulate || pc > 0, bp: tile + 96, tile: tile, wide: KernelISA.useAVX512,
                            packing: true)
        }
    }
}
