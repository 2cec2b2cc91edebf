import ArgumentParser
import Codecs
import Collectives
import Foundation
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// One rank of `bench allreduce` (hidden; started by it). Binds an ephemeral port on
/// 127.0.0.1, publishes it in --port-dir, forms the TCP ring, runs the timed all-reduces;
/// rank 0 prints one JSON line.
struct RingBenchWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_ring-bench-worker", shouldDisplay: false)

    @Option var rank: Int
    @Option var nproc: Int
    @Option var bytes: Int
    @Option var codec: String
    @Option var iters: Int
    @Option var warmup: Int
    @Option var segment: Int
    @Option var zeroFraction: Double
    @Option var portDir: String
    @Flag var verify = false

    func run() throws {
        guard let token = ProcessInfo.processInfo.environment["RINGTRAIN_TOKEN"], !token.isEmpty else {
            throw ValidationError("RINGTRAIN_TOKEN is not set")
        }
        let config = CodecConfig(parsing: codec)!
        var options = TCPOptions()
        options.connectTimeout = 30
        options.ioTimeout = 60
        let listener = try TCPListener(host: "127.0.0.1", port: 0, options: options)
        let tmp = "\(portDir)/\(rank).port.tmp"
        try "\(listener.port)".write(toFile: tmp, atomically: false, encoding: .utf8)
        rename(tmp, "\(portDir)/\(rank).port")
        var addresses: [String] = []
        let deadline = Date(timeIntervalSinceNow: 30)
        for r in 0..<nproc {
            var port: String? = nil
            while port == nil {
                port = try? String(contentsOfFile: "\(portDir)/\(r).port", encoding: .utf8)
                if port == nil {
                    guard Date() < deadline else { throw RingError("rank \(rank): rank \(r) never published its port") }
                    usleep(5_000)
                }
            }
            addresses.append("127.0.0.1:\(port!)")
        }
        let comm = try TCPRing.communicator(rank: rank, addresses: addresses, token: Array(token.utf8), listener: listener,
                                            codec: config, options: options, segmentElements: segment)
        defer { comm.close() }
        listener.close()
        let count = bytes / 4
        let input = syntheticGradient(count: count, zeroFraction: zeroFraction, seed: UInt64(42 + rank))
        var buffer = input
        var times: [Double] = []
        for i in 0..<(warmup + iters) {
            buffer.withUnsafeMutableBufferPointer { b in input.withUnsafeBufferPointer { b.baseAddress!.update(from: $0.baseAddress!, count: count) } }
            try comm.barrier()
            let t0 = DispatchTime.now().uptimeNanoseconds
            try comm.allReduceSum(&buffer, bucket: 0)
            let t1 = DispatchTime.now().uptimeNanoseconds
            if i >= warmup { times.append(Double(t1 - t0) / 1e9) }
        }
        if verify { try check(buffer, comm: comm, config: config, count: count) }
        // An iteration lasts as long as its slowest rank.
        let all = try comm.allGather(times)
        let slowest = (0..<times.count).map { i in all.map { $0[i] }.max()! }.sorted()
        let median = slowest.count % 2 == 1 ? slowest[slowest.count / 2]
            : (slowest[slowest.count / 2 - 1] + slowest[slowest.count / 2]) / 2
        let stats = try comm.allGather([Double(comm.stats.bytesRaw), Double(comm.stats.bytesSent)])
        let raw = stats.map { $0[0] }.reduce(0, +), sent = stats.map { $0[1] }.reduce(0, +)
        if rank == 0 {
            let algbw = Double(count * 4) / median / 1e9
            let obj: [String: Any] = [
                "nproc": nproc, "size_bytes": count * 4, "codec": config.description, "median_ms": median * 1e3,
                "min_ms": slowest.first! * 1e3, "iters": iters, "algbw_gbps": algbw,
                "busbw_gbps": algbw * 2 * Double(nproc - 1) / Double(nproc),
                "compression_ratio": sent > 0 ? raw / sent : 1, "segment_elements": segment,
                "zero_fraction": zeroFraction, "data": "synthetic gradient-like",
            ]
            let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        }
    }

    /// --verify: the result equals the ring-order sum of every rank's input (exactly for
    /// lossless codecs, within bfloat16 rounding for bf16-zstd) and is bit-identical on all ranks.
    func check(_ result: [Float], comm: Communicator, config: CodecConfig, count: Int) throws {
        let inputs = (0..<nproc).map { syntheticGradient(count: count, zeroFraction: zeroFraction, seed: UInt64(42 + $0)) }
        let plan = RingPlan(worldSize: nproc, count: count, segmentElements: 1)
        var bad = 0
        for c in 0..<nproc {
            for i in plan.chunks[c] {
                var acc = inputs[(c + 1) % nproc][i]
                if nproc > 1 { for k in 2...nproc { acc = inputs[(c + k) % nproc][i] + acc } }
                if config.kind.isLossy {
                    // Fresh residuals (warm-up + timed runs change them): allow a few roundings.
                    let bound = inputs.map { abs($0[i]) }.reduce(0, +) * Float(nproc + 2) / 128 + 1e-12
                    if abs(result[i] - acc) > bound { bad += 1 }
                } else if result[i].bitPattern != acc.bitPattern {
                    bad += 1
                }
            }
        }
        let digest = result.withUnsafeBytes { blockChecksum($0) }
        let all = try comm.allGather([Double(bitPattern: digest)])
        let identical = all.allSatisfy { $0 == all[0] }
        guard bad == 0 && identical else {
            throw RingError("rank \(rank): verify failed: \(bad) of \(count) elements differ from the ring-order sum; ranks identical: \(identical)")
        }
        FileHandle.standardError.write(Data("rank \(rank): verified \(count) elements (\(config))\n".utf8))
    }
}
