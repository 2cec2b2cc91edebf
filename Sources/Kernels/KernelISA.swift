import Foundation
import KernelsAVX512

// Which instruction set the GEMM micro-kernel uses. The build targets x86-64-v3 (AVX2, FMA) so
// the binary runs on any x86-64 server of the last decade; on CPUs with AVX-512 the 12x16 zmm
// kernel (target KernelsAVX512, compiled for x86-64-v4) is used instead. Both give the same bits.

public enum KernelISA {
    /// Whether GEMM uses the AVX-512 micro-kernel. Defaults to what this CPU and kernel offer
    /// (the `avx512f` flag of /proc/cpuinfo, which Linux shows only when it saves the zmm
    /// state), unless `RINGTRAIN_KERNELS=avx2`. Tests switch it to compare the two paths.
    nonisolated(unsafe) public static var useAVX512: Bool = detectAVX512()

    /// Whether the AVX2 GEMM uses its narrow-column and narrow-row tiles (GemmNarrowTiles.swift)
    /// at the edges; `RINGTRAIN_GEMM_NARROW_TILES=off` turns them off, so that one binary can be
    /// timed both ways (separate builds move the hot loops' code alignment, which alone shifted
    /// every GEMM by 3-5% here). Both ways give the same bits.
    nonisolated(unsafe) public static var narrowTiles: Bool =
        ProcessInfo.processInfo.environment["RINGTRAIN_GEMM_NARROW_TILES"] != "off"

    /// Whether `gemm` with M <= MC packs each B panel right before using it (gemmOneRowBlock)
    /// rather than the whole B slice first; `RINGTRAIN_GEMM_PACK_EACH_B_PANEL=off` for the old
    /// way, to time both in one binary. Both give the same bits.
    nonisolated(unsafe) public static var packEachBPanel: Bool =
        ProcessInfo.processInfo.environment["RINGTRAIN_GEMM_PACK_EACH_B_PANEL"] != "off"

    /// "avx512" or "avx2", for logs and benchmarks.
    public static var name: String { useAVX512 ? "avx512" : "avx2" }

    /// Whether this machine can run the AVX-512 kernel at all.
    public static let avx512Available: Bool = cpuHasAVX512()

    static func detectAVX512() -> Bool {
        if ProcessInfo.processInfo.environment["RINGTRAIN_KERNELS"] == "avx2" { return false }
        return cpuHasAVX512()
    }

    static func cpuHasAVX512() -> Bool {
        #if arch(x86_64) && os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " ").map(String.init))
        // The kernel uses AVX-512F only; VL/BW/DQ come with every AVX-512 server CPU and x86-64-v4.
        return ["avx512f", "avx512vl", "avx512bw", "avx512dq"].allSatisfy(set.contains)
        #else
        return false
        #endif
    }
}
