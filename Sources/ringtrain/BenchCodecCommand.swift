import ArgumentParser
import Codecs
import Collectives
import Foundation

struct BenchCodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "Benchmark: compression ratio and single-core MB/s of each gradient codec and zstd level.")

    @Option(help: "Raw little-endian float32 file to compress (e.g. a dumped gradient).") var input: String?
    @Option(help: "Use a real gradient: the checkpoint's model on one training batch of its data set.") var checkpoint: String?
    @Option(help: "With --checkpoint: the batch size of that gradient.") var gradientBatch = 128
    @Flag(help: "Use synthetic gradient-like data (see --zero-fraction).") var synthetic = false
    @Option(help: "Elements of synthetic data.") var count = 4 << 20
    @Option(help: "Fraction of exact zeros in the synthetic data.") var zeroFraction = 0.0
    @Option(help: "Comma-separated zstd levels (negative = fast modes).") var levels = "-5,-1,1,3"
    @Option(help: "Elements per block (the ring's segment size).") var block = defaultSegmentElements
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Also write the data as raw little-endian float32 to this file (e.g. to study a real gradient elsewhere).") var dump: String?

    func validate() throws {
        guard [input != nil, synthetic, checkpoint != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --input FILE, --checkpoint FILE or --synthetic")
        }
    }

    func run() throws {
        let data: [Float]
        let source: String
        if let path = input {
            guard let d = FileManager.default.contents(atPath: path), d.count >= 4 else {
                throw ValidationError("cannot read float32 data from \(path)")
            }
            data = d.withUnsafeBytes { b in (0..<(d.count / 4)).map { b.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
            source = path
        } else if let path = checkpoint {
            data = try exitingOnBadInput { try realGradient(checkpoint: path, batch: gradientBatch) }
            source = "gradient of \(path) on \(gradientBatch) training images"
        } else {
            data = syntheticGradient(count: count, zeroFraction: zeroFraction)
            source = "synthetic(count=\(count), zero_fraction=\(zeroFraction))"
        }
        if let path = dump {
            let bytes = data.withUnsafeBytes { Data($0) }
            guard FileManager.default.createFile(atPath: path, contents: bytes) else {
                throw ValidationError("cannot write --dump file \(path)")
            }
        }
        let lv = levels.split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        var configs = [CodecConfig(.none)]
        for l in lv { configs.append(CodecConfig(.zstd, zstdLevel: l)) }
        for l in lv { configs.append(CodecConfig(.bf16Zstd, zstdLevel: l)) }
        var rows: [[String: Any]] = []
        for c in configs {
            let r = try measure(c, data)
            rows.append(r)
            if !json {
                print(String(format: "%-14@ ratio %6.3fx   encode %8.1f MB/s   decode+add %8.1f MB/s",
                             c.description as NSString, r["ratio"] as! Double, r["encode_mbps"] as! Double, r["decode_mbps"] as! Double))
            }
        }
        // The block checksum (XXH64) runs on every block sent and received.
        var h: UInt64 = 0
        let start = Date()
        var reps = 0
        repeat { h &+= data.withUnsafeBytes { blockChecksum($0) }; reps += 1 } while Date().timeIntervalSince(start) < 0.3
        let checksumMBps = Double(data.count * 4 * reps) / Date().timeIntervalSince(start) / 1e6
        if !json { print(String(format: "checksum %8.1f MB/s (%016llx)", checksumMBps, h)) }
        if json {
            let obj: [String: Any] = ["checksum_mbps": checksumMBps, "input": source, "elements": data.count, "block_elements": block, "codecs": rows]
            let d = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: d, as: UTF8.self))
        }
    }

    /// Encodes and decodes `data` block by block on one thread; MB/s of raw float32.
    func measure(_ config: CodecConfig, _ data: [Float]) throws -> [String: Any] {
        let codec = config.makeCodec()
        let n = data.count
        let blocks = stride(from: 0, to: n, by: block).map { $0..<min($0 + block, n) }
        let cap = codec.maxEncodedBytes(count: block)
        var encoded = [[UInt8]](repeating: [], count: blocks.count)
        var wires = [WireCodec](repeating: .rawF32, count: blocks.count)
        var scratch = [UInt8](repeating: 0, count: cap)
        var residual = [Float](repeating: 0, count: n)
        var out = [Float](repeating: 0, count: n)
        func encodeAll() throws -> Int {
            var total = 0
            try data.withUnsafeBufferPointer { src in
                try residual.withUnsafeMutableBufferPointer { res in
                    try scratch.withUnsafeMutableBytes { dst in
                        for (i, r) in blocks.enumerated() {
                            let (w, k) = try codec.encode(UnsafeBufferPointer(rebasing: src[r]),
                                                          residual: config.kind.isLossy ? UnsafeMutableBufferPointer(rebasing: res[r]) : nil,
                                                          into: dst)
                            wires[i] = w
                            if encoded[i].count != k { encoded[i] = [UInt8](repeating: 0, count: k) }
                            encoded[i].withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: dst[0..<k])) }
                            total += k
                        }
                    }
                }
            }
            return total
        }
        func decodeAll() throws {
            try out.withUnsafeMutableBufferPointer { dst in
                for (i, r) in blocks.enumerated() {
                    try encoded[i].withUnsafeBytes { try codec.decode($0, wire: wires[i], into: UnsafeMutableBufferPointer(rebasing: dst[r]), mode: .accumulate) }
                }
            }
        }
        func timed(_ body: () throws -> Void) rethrows -> Double {
            var reps = 0
            let start = Date()
            repeat { try body(); reps += 1 } while Date().timeIntervalSince(start) < 0.4 || reps < 2
            return Date().timeIntervalSince(start) / Double(reps)
        }
        var bytes = 0
        let enc = try timed { bytes = try encodeAll() }
        let dec = try timed { try decodeAll() }
        let raw = Double(n * 4)
        return ["codec": config.kind.rawValue, "level": Int(config.zstdLevel), "ratio": raw / Double(max(1, bytes)),
                "encode_mbps": raw / enc / 1e6, "decode_mbps": raw / dec / 1e6]
    }
}
