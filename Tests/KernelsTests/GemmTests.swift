import XCTest
import Tensors
import Kernels

final class GemmTests: XCTestCase {
    func check(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, accumulate: Bool, threads: Int) {
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 5
        let a = randomBuffer((transA ? k : m) * lda, seed: 1)
        let b = randomBuffer((transB ? n : k) * ldb, seed: 2)
        let c0 = randomBuffer(m * ldc, seed: 3)
        let fast = FloatBuffer(count: c0.count), ref = FloatBuffer(count: c0.count)
        fast.copy(from: c0); ref.copy(from: c0)
        gemm(fast.pointer, ldc: ldc, a.pointer, lda: lda, transA: transA, b.pointer, ldb: ldb, transB: transB,
             m: m, n: n, k: k, accumulate: accumulate, threads: threads)
        gemmReference(ref.pointer, ldc: ldc, a.pointer, lda: lda, transA: transA, b.pointer, ldb: ldb,
                      transB: transB, m: m, n: n, k: k, accumulate: accumulate)
        assertClose(fast, ref, tolerance: 1e-5 * Float(max(k, 1)).squareRoot() * 4,
                    "gemm m\(m) n\(n) k\(k) tA\(transA) tB\(transB) acc\(accumulate) t\(threads)")
    }

    func testAwkwardShapesAllVariants() {
        let shapes = [(1, 1, 1), (7, 17, 5), (6, 16, 256), (13, 33, 300), (73, 20, 9), (2, 100, 513),
                      (150, 5, 31), (64, 196, 288), (32, 9, 784), (5, 3, 130)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    check(m: m, n: n, k: k, transA: transA, transB: transB, accumulate: (m + n) % 2 == 0,
                          threads: 1)
                }
            }
        }
    }

    func testThreadedMatchesSingleThreadBitForBit() {
        for (m, n, k) in [(100, 1100, 70), (5, 300, 40), (128, 128, 600)] {
            let a = randomBuffer(m * k, seed: 4), b = randomBuffer(k * n, seed: 5)
            let c1 = FloatBuffer(count: m * n), c3 = FloatBuffer(count: m * n)
            gemm(c1.pointer, ldc: n, a.pointer, lda: k, transA: false, b.pointer, ldb: n, transB: false,
                 m: m, n: n, k: k, accumulate: false, threads: 1)
            gemm(c3.pointer, ldc: n, a.pointer, lda: k, transA: false, b.pointer, ldb: n, transB: false,
                 m: m, n: n, k: k, accumulate: false, threads: 3)
            XCTAssertEqual(c1.array, c3.array, "m\(m) n\(n) k\(k)")
            check(m: m, n: n, k: k, transA: false, transB: true, accumulate: true, threads: 2)
        }
    }

    /// Packing only moves numbers: a transposed operand must give exactly the bits of its
    /// explicit transpose read the plain way (the two take different packing loops: 4x4
    /// register transposes and six-row gathers against straight copies). Shapes leave
    /// partial groups of 4 columns, partial row panels and depths that are not multiples of 4.
    func testTransposedOperandsGiveTheBitsOfTheirExplicitTransposes() {
        // (Not A * B^T shapes small enough for the dot-product route, which sums differently.)
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (40, 33, 300), (64, 288, 196), (6, 3, 9), (13, 100, 401), (50, 30, 770)] {
            let a = randomBuffer(m * k, seed: 11), b = randomBuffer(k * n, seed: 12)
            let aT = FloatBuffer(count: k * m), bT = FloatBuffer(count: n * k)
            for i in 0..<m { for p in 0..<k { aT[p * m + i] = a[i * k + p] } }
            for p in 0..<k { for j in 0..<n { bT[j * k + p] = b[p * n + j] } }
            var results: [[Float]] = []
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                let c = FloatBuffer(count: m * n)
                gemm(c.pointer, ldc: n, (transA ? aT : a).pointer, lda: transA ? m : k, transA: transA,
                     (transB ? bT : b).pointer, ldb: transB ? k : n, transB: transB, m: m, n: n, k: k,
                     accumulate: false, threads: 1)
                results.append(c.array)
            }
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "m\(m) n\(n) k\(k)") }
        }
    }

    /// Edge tiles (fewer than 6 rows or 16 columns) run micro-kernel bodies compiled for their
    /// row count and width; each C element must still get exactly the bits it gets inside a full
    /// tile. The small product is compared with the top-left corner of a larger one whose extra
    /// rows and columns make every tile of that corner full.
    /// Edge tiles, the narrow-column tile (N leaves <= 4 columns) and the narrow-row tile (a last
    /// row panel of <= 3 rows, two column panels) against full 6x16 tiles, through `gemm` and
    /// through `gemmPrepackedA`. On the AVX2 kernels, where the narrow tiles run.
    func testEdgeTilesGiveTheBitsOfFullTiles() {
        let isa = KernelISA.useAVX512
        KernelISA.useAVX512 = false
        defer { KernelISA.useAVX512 = isa }
        for m in [1, 2, 3, 4, 5, 7, 9, 64] {
            for n in [1, 4, 8, 9, 15, 17, 196] {
                for (k, accumulate) in [(9, false), (64, true), (300, false)] {
                    let bigM = (m + 5) / 6 * 6 + 6, bigN = (n + 15) / 16 * 16 + 16
                    let bigA = randomBuffer(bigM * k, seed: UInt64(m * 1000 + k))
                    let bigB = randomBuffer(k * bigN, seed: UInt64(n * 1000 + k + 1))
                    let bigC = randomBuffer(bigM * bigN, seed: 7), c = FloatBuffer(count: m * n)
                    let initialC = FloatBuffer(count: bigC.count)
                    initialC.copy(from: bigC)
                    for i in 0..<m { for j in 0..<n { c[i * n + j] = bigC[i * bigN + j] } }
                    // The small operands are the corner of the big ones, read with the big strides.
                    gemm(c.pointer, ldc: n, bigA.pointer, lda: k, transA: false, bigB.pointer, ldb: bigN, transB: false,
                         m: m, n: n, k: k, accumulate: accumulate, threads: 1)
                    gemm(bigC.pointer, ldc: bigN, bigA.pointer, lda: k, transA: false, bigB.pointer, ldb: bigN,
                         transB: false, m: bigM, n: bigN, k: k, accumulate: accumulate, threads: 1)
                    var same = true
                    for i in 0..<m { for j in 0..<n where c[i * n + j].bitPattern != bigC[i * bigN + j].bitPattern { same = false } }
                    XCTAssertTrue(same, "m\(m) n\(n) k\(k): an edge tile's bits differ from a full tile's")
                    // The same product with A prepacked (its own packing buffer and column loop).
                    for i in 0..<m { for j in 0..<n { c[i * n + j] = initialC[i * bigN + j] } }
                    let packed = PackedMatrixA(bigA.pointer, lda: k, transA: false, m: m, k: k)
                    gemmPrepackedA(c.pointer, ldc: n, packed, bigB.pointer, ldb: bigN, transB: false, n: n,
                                   accumulate: accumulate)
                    same = true
                    for i in 0..<m { for j in 0..<n where c[i * n + j].bitPattern != bigC[i * bigN + j].bitPattern { same = false } }
                    XCTAssertTrue(same, "m\(m) n\(n) k\(k): a prepacked edge tile's bits differ from a full tile's")
                }
            }
        }
    }

    func testZeroDepthClearsOrKeeps() {
        let c = FloatBuffer([1, 2, 3, 4])
        let a = FloatBuffer(count: 1), b = FloatBuffer(count: 1)
        gemm(c.pointer, ldc: 2, a.pointer, lda: 1, transA: false, b.pointer, ldb: 2, transB: false,
             m: 2, n: 2, k: 0, accumulate: true)
        XCTAssertEqual(c.array, [1, 2, 3, 4])
        gemm(c.pointer, ldc: 2, a.pointer, lda: 1, transA: false, b.pointer, ldb: 2, transB: false,
             m: 2, n: 2, k: 0, accumulate: false)
        XCTAssertEqual(c.array, [0, 0, 0, 0])
    }
}

final class GemmPrepackedTests: XCTestCase {
    func testPrepackedMatchesReference() {
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (64, 196, 288), (13, 40, 800), (288, 30, 64)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 2, ldc = n + 3
                    let a = randomBuffer((transA ? k : m) * lda, seed: 80)
                    let b = randomBuffer((transB ? n : k) * ldb, seed: 81)
                    let c = randomBuffer(m * ldc, seed: 82), ref = FloatBuffer(count: c.count)
                    ref.copy(from: c)
                    let packed = PackedMatrixA(a.pointer, lda: lda, transA: transA, m: m, k: k)
                    let acc = (m + k) % 2 == 1
                    gemmPrepackedA(c.pointer, ldc: ldc, packed, b.pointer, ldb: ldb, transB: transB, n: n, accumulate: acc)
                    gemmReference(ref.pointer, ldc: ldc, a.pointer, lda: lda, transA: transA, b.pointer, ldb: ldb,
                                  transB: transB, m: m, n: n, k: k, accumulate: acc)
                    assertClose(c, ref, tolerance: 1e-5 * Float(k).squareRoot() * 4,
                                "prepacked m\(m) n\(n) k\(k) tA\(transA) tB\(transB)")
                }
            }
        }
    }
}
