import XCTest
import Tensors
import Kernels

/// The AVX-512 micro-kernel (two 6-row panels per call) against the AVX2 one: the same bits for
/// every shape, transpose, accumulate flag and thread count, in `gemm` and `gemmPrepackedA`, so
/// a run resumed on another CPU, or a ring of mixed hosts, computes what it would have anyway.
/// The reference comparison of GemmTests runs on whichever path this CPU selects.
final class GemmISATests: XCTestCase {
    override func setUpWithError() throws {
        guard KernelISA.avx512Available else { throw XCTSkip("this CPU has no AVX-512") }
    }

    override func tearDown() { KernelISA.useAVX512 = KernelISA.avx512Available }

    func bits(_ b: FloatBuffer) -> [UInt32] { b.array.map(\.bitPattern) }

    func testAVX512KernelMatchesAVX2BitForBit() {
        let shapes = [(1, 1, 1), (12, 16, 7), (13, 17, 5), (24, 32, 384), (25, 47, 385), (73, 20, 9),
                      (150, 5, 31), (64, 196, 288), (11, 1030, 40), (100, 100, 800)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    for threads in [1, 2] {
                        let acc = (m + n + k) % 2 == 0
                        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 5
                        let a = randomBuffer((transA ? k : m) * lda, seed: 11)
                        let b = randomBuffer((transB ? n : k) * ldb, seed: 12)
                        let c0 = randomBuffer(m * ldc, seed: 13)
                        var results: [[UInt32]] = []
                        for wide in [false, true] {
                            KernelISA.useAVX512 = wide
                            let c = FloatBuffer(count: c0.count)
                            c.copy(from: c0)
                            gemm(c.pointer, ldc: ldc, a.pointer, lda: lda, transA: transA, b.pointer, ldb: ldb,
                                 transB: transB, m: m, n: n, k: k, accumulate: acc, threads: threads)
                            results.append(bits(c))
                        }
                        XCTAssertEqual(results[0], results[1], "gemm m\(m) n\(n) k\(k) tA\(transA) tB\(transB) acc\(acc) t\(threads)")
                    }
                }
            }
        }
    }

    func testAVX512PrepackedMatchesAVX2BitForBit() {
        for (m, n, k) in [(32, 784, 9), (64, 196, 288), (13, 50, 400), (7, 16, 3), (30, 33, 100)] {
            for transB in [false, true] {
                let ldb = (transB ? k : n), ldc = n + 2
                let a = randomBuffer(m * k, seed: 21), b = randomBuffer((transB ? n : k) * ldb, seed: 22)
                let c0 = randomBuffer(m * ldc, seed: 23)
                let packed = PackedMatrixA(a.pointer, lda: k, transA: false, m: m, k: k)
                var results: [[UInt32]] = []
                for wide in [false, true] {
                    KernelISA.useAVX512 = wide
                    let c = FloatBuffer(count: c0.count)
                    c.copy(from: c0)
                    gemmPrepackedA(c.pointer, ldc: ldc, packed, b.pointer, ldb: ldb, transB: transB, n: n, accumulate: true)
                    results.append(bits(c))
                }
                XCTAssertEqual(results[0], results[1], "prepacked m\(m) n\(n) k\(k) tB\(transB)")
            }
        }
    }
}
