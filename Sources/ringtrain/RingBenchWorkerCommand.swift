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
}
