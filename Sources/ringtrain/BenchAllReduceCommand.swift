import ArgumentParser
import Codecs
import Collectives
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct BenchAllReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Benchmark: ring all-reduce of float32 between N local processes over loopback TCP.")

    @Option(help: "Number of processes (ranks).") var nproc = 2
    @Option(help: "Bytes of float32 per rank (suffixes K, M, G = KiB, MiB, GiB).") var size = "16M"
    @Option(help: "Codec: none, zstd, bf16-zstd, optionally with a level (zstd:-1).") var codec = "none"
    @Option(help: "Timed iterations.") var iters = 20
    @Option(help: "Untimed warm-up iterations.") var warmup = 3
    @Option(help: "Elements per ring segment.") var segment = defaultSegmentElements
    @Option(help: "Fraction of exact zeros in the synthetic gradient.") var zeroFraction = 0.0
    @Option(help: "Seconds before the benchmark and its processes are killed.") var timeout = 300.0
    @Flag(help: "Check the result against the ring-order sum and across ranks (slow for big sizes).") var verify = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard nproc >= 1 && nproc <= 64 else { throw ValidationError("--nproc must be 1...64") }
        guard parseSize(size) != nil else { throw ValidationError("--size: '\(size)' is not a byte count") }
        guard CodecConfig(parsing: codec) != nil else { throw ValidationError("--codec: unknown codec '\(codec)'") }
        guard iters >= 1 else { throw ValidationError("--iters must be >= 1") }
    }

    func run() throws {
        let bytes = parseSize(size)!
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ringtrain-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var env = ProcessInfo.processInfo.environment
        env["RINGTRAIN_TOKEN"] = token
        var children: [Process] = []
        let out = Pipe()
        for r in 0..<nproc {
            let p = Process()
            p.executableURL = exe
            p.arguments = ["_ring-bench-worker", "--rank", "\(r)", "--nproc", "\(nproc)", "--bytes", "\(bytes)",
                           "--codec", codec, "--iters", "\(iters)", "--warmup", "\(warmup)", "--segment", "\(segment)",
                           "--zero-fraction", "\(zeroFraction)", "--port-dir", dir.path] + (verify ? ["--verify"] : [])
            p.environment = env
            if r == 0 { p.standardOutput = out }
            try p.run()
            children.append(p)
        }
        // Whatever happens, no child outlives us.
        defer { for p in children where p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let deadline = Date(timeIntervalSinceNow: timeout)
        var failed: [String] = []
        for (r, p) in children.enumerated() {
            while p.isRunning && Date() < deadline { usleep(10_000) }
            if p.isRunning {
                failed.append("rank \(r) still running after \(timeout) s (killed)")
                for q in children where q.isRunning { kill(q.processIdentifier, SIGKILL) }
            } else if p.terminationStatus != 0 {
                failed.append("rank \(r) exited with status \(p.terminationStatus)")
            }
        }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard failed.isEmpty, let line = text.split(separator: "\n").last else {
            throw RingError("bench allreduce failed: \(failed.joined(separator: "; "))")
        }
        if json {
            print(line)
        } else {
            let d = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            print(String(format: "allreduce nproc=%d size=%d codec=%@: median %.3f ms, algbw %.3f GB/s, busbw %.3f GB/s, compression %.2fx",
                         d["nproc"] as! Int, d["size_bytes"] as! Int, d["codec"] as! String, d["median_ms"] as! Double,
                         d["algbw_gbps"] as! Double, d["busbw_gbps"] as! Double, d["compression_ratio"] as! Double))
        }
    }
}

/// "16M" -> 16 MiB; plain numbers are bytes.
func parseSize(_ s: String) -> Int? {
    let t = s.trimmingCharacters(in: .whitespaces).uppercased().replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "")
    let mult: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824]
    if let last = t.last, let m = mult[last], let v = Double(t.dropLast()) { return Int(v * m) }
    if let v = Int(t) { return v }
    return nil
}
