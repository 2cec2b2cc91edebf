import Foundation
import Kernels

/// OpenBLAS's `cblas_sgemm`, loaded at run time for `bench kernels --openblas LIB` only: the
/// product never links or needs OpenBLAS. Timing it in our own process lets each repetition of
/// OpenBLAS sit next to one of ours, so the ratio is taken between neighbouring samples; on a
/// shared VM whose memory speed moves 20-50% from one minute to the next, separate processes
/// taken in turn (the earlier numpy route) could not resolve differences under ~5%, and numpy
/// added its per-call overhead (about a microsecond, times 128 images) to the small products.
///
/// Accepts a system OpenBLAS (`libopenblas.so.0`, 32-bit integers, symbol `cblas_sgemm`) or the
/// one numpy wheels bundle (`numpy.libs/libscipy_openblas64_-*.so`, 64-bit integers, symbols
/// prefixed `scipy_` and suffixed `64_`).
struct OpenBLASReference {
    enum LoadError: Error, CustomStringConvertible {
        case cannotOpen(String, String)
        case noSgemm(String)
        case wrongResult(String, Float)
        var description: String {
            switch self {
            case let .cannotOpen(path, why): return "--openblas \(path): cannot load it (\(why))"
            case let .noSgemm(path): return "--openblas \(path): no cblas_sgemm symbol in it (tried cblas_sgemm, "
                + "cblas_sgemm64_, scipy_cblas_sgemm64_, scipy_cblas_sgemm)"
            case let .wrongResult(path, error): return "--openblas \(path): its sgemm disagrees with ours on a "
                + "7x5x3 product (largest difference \(error)); not the CBLAS interface expected"
            }
        }
    }

    // CBLAS enums (cblas.h): CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
    typealias Sgemm32 = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
                                        UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32) -> Void
    typealias Sgemm64 = @convention(c) (Int32, Int32, Int32, Int64, Int64, Int64, Float, UnsafePointer<Float>, Int64,
                                        UnsafePointer<Float>, Int64, Float, UnsafeMutablePointer<Float>, Int64) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void

    let path: String
    let coreName: String
    private let sgemm32: Sgemm32?
    private let sgemm64: Sgemm64?
    private let setThreadsFunction: SetThreads?

    init(path: String) throws {
        // OpenBLAS sizes its own pool when it loads; one thread unless told otherwise below.
        setenv("OPENBLAS_NUM_THREADS", "1", 0)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw LoadError.cannotOpen(path, String(cString: dlerror()))
        }
        self.path = path
        func symbol(_ names: [String]) -> (String, UnsafeMutableRawPointer)? {
            for n in names { if let s = dlsym(handle, n) { return (n, s) } }
            return nil
        }
        guard let (name, sgemm) = symbol(["cblas_sgemm", "cblas_sgemm64_", "scipy_cblas_sgemm64_", "scipy_cblas_sgemm"])
        else { throw LoadError.noSgemm(path) }
        if name.hasSuffix("64_") {
            sgemm64 = unsafeBitCast(sgemm, to: Sgemm64.self); sgemm32 = nil
        } else {
            sgemm32 = unsafeBitCast(sgemm, to: Sgemm32.self); sgemm64 = nil
        }
        let suffix = name.hasSuffix("64_") ? "64_" : ""
        let prefix = name.hasPrefix("scipy_") ? "scipy_" : ""
        setThreadsFunction = symbol(["\(prefix)openblas_set_num_threads\(suffix)"]).map {
            unsafeBitCast($0.1, to: SetThreads.self)
        }
        typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
        if let (_, f) = symbol(["\(prefix)openblas_get_corename\(suffix)"]),
           let s = unsafeBitCast(f, to: CoreName.self)() {
            coreName = String(cString: s)
        } else {
            coreName = "unknown"
        }
        try selfCheck()
    }

    /// A wrong guess at the interface (integer width, argument order) must not be timed: compare
    /// one small product, all four transpose cases, with our GEMM.
    private func selfCheck() throws {
        let m = 7, n = 5, k = 3
        let a = (0..<(m * k)).map { Float($0 % 5) - 2 }, b = (0..<(k * n)).map { Float($0 % 7) - 3 }
        var worst: Float = 0
        for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
            var ours = [Float](repeating: 1, count: m * n), theirs = ours
            let lda = transA ? m : k, ldb = transB ? k : n
            Kernels.gemm(&ours, ldc: n, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB, m: m, n: n, k: k,
                         accumulate: true, threads: 1)
            gemm(&theirs, ldc: n, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB, m: m, n: n, k: k,
                 accumulate: true)
            for i in 0..<(m * n) { worst = max(worst, abs(ours[i] - theirs[i])) }
        }
        // Small integers: both sides are exact.
        if worst != 0 { throw LoadError.wrongResult(path, worst) }
    }

    /// OpenBLAS's own thread count for the calls that follow.
    func setThreads(_ n: Int) { setThreadsFunction?(Int32(n)) }

    /// The same semantics as `gemm` (row-major, C = (accumulate ? C : 0) + op(A) op(B)).
    func gemm(_ c: UnsafeMutablePointer<Float>, ldc: Int, _ a: UnsafePointer<Float>, lda: Int, transA: Bool,
              _ b: UnsafePointer<Float>, ldb: Int, transB: Bool, m: Int, n: Int, k: Int, accumulate: Bool) {
        let ta: Int32 = transA ? 112 : 111, tb: Int32 = transB ? 112 : 111
        let beta: Float = accumulate ? 1 : 0
        if let f = sgemm64 {
            f(101, ta, tb, Int64(m), Int64(n), Int64(k), 1, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc))
        } else if let f = sgemm32 {
            f(101, ta, tb, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}
