import ArgumentParser
import Checkpoints
import Cluster
import Codecs
import Collectives
import Datasets
import Foundation
import ImageCodecs
import Training
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// `ringtrain fuzz TARGET`: feeds mutated inputs to one of the parsers that read untrusted
/// bytes; exits 0 if nothing crashed or hung, 1 (with the input saved) otherwise.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz a parser of untrusted input (frame, handshake, safetensors, block, control, config, idx, image).",
        discussion: "Mutation fuzzing from valid seeds; a crash or hang saves the input to --crash-file and exits 1. See docs/reliability.md.")

    /// The parsers that can be fuzzed. `selftest` is not a parser: it traps on its first
    /// mutated input, to show that the harness catches a crash and saves the input (tested).
    enum Target: String, CaseIterable, ExpressibleByArgument {
        case frame, handshake, safetensors, block, control, config, idx, image, selftest
    }

    @Argument(help: "The parser to fuzz.") var target: Target
    @Option(help: "How long to fuzz.") var seconds: Double = 10
    @Option(help: "Seed of the mutations (reproducible).") var seed: UInt64 = 1
    @Option(name: .customLong("crash-file"), help: "Where a crashing or hanging input is written.") var crashFile: String = "fuzz-crash.bin"
    @Option(name: .customLong("max-memory-mb"), help: "Address-space limit: an unbounded allocation becomes a crash.") var maxMemoryMB: Int = 4096

    func run() throws {
        var limit = rlimit(rlim_cur: rlim_t(maxMemoryMB) << 20, rlim_max: rlim_t(maxMemoryMB) << 20)
        _ = setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
        let fuzzer = Fuzzer(name: target.rawValue, seeds: try seeds(), seed: seed, body: body())
        let n = fuzzer.run(seconds: seconds, crashFile: crashFile)
        print("fuzz \(target): \(n) inputs in \(Int(seconds)) s, no crash, no hang (seed \(seed))")
    }

    /// The token the handshake target's honest side holds.
    static let fuzzToken = Array("fuzz-token".utf8)

    func seeds() throws -> [[UInt8]] {
        switch target.rawValue {
        case "frame":
            // Two frames: a short one, and a block-sized one (a header and 64 floats).
            func frame(_ body: [UInt8]) -> [UInt8] {
                let n = UInt32(body.count)
                return [UInt8(n & 255), UInt8(n >> 8 & 255), UInt8(n >> 16 & 255), UInt8(n >> 24)] + body
            }
            return [frame(Array("hello".utf8)) + frame([UInt8](repeating: 0x3F, count: 296))]
        case "handshake":
            // What a client sends (hello, proof) and what a server sends (challenge, acceptance),
            // each well-formed but for the MACs, which only the token can make.
            func head(role: UInt8, rank: UInt8) -> [UInt8] {
                Array("RTRN".utf8) + [UInt8(Handshake.version), 0, role, 0, rank, 0, 0, 0, 2, 0, 0, 0] + [UInt8](repeating: 0xA5, count: 32)
            }
            return [head(role: 1, rank: 1) + [UInt8](repeating: 0x11, count: 32),
                    head(role: 2, rank: 1) + [UInt8](repeating: 0x22, count: 32) + Array("RTOK".utf8)]
        case "safetensors":
            let t = SafeTensor(name: "conv1.weight", shape: [2, 1, 3, 3], values: (0..<18).map { Float($0) / 7 })
            let u = SafeTensor(name: "fc.bias", shape: [3], values: [1, -2, 0.5])
            return [try SafeTensorsFile.encode(tensors: [t, u], metadata: ["ringtrain.state": #"{"x": 1}"#], path: "seed")]
        case "block":
            // A header followed by a zstd payload of 64 floats with runs of zeros (sparse
            // planes), and one of bf16.
            var out: [[UInt8]] = []
            for kind in [CodecKind.zstd, .bf16Zstd] {
                let codec = CodecConfig(kind, zstdLevel: 1).makeCodec()
                let source = (0..<64).map { $0 % 20 < 7 ? 0 : Float(sin(Double($0))) }
                var residual = [Float](repeating: 0, count: 64)
                var payload = [UInt8](repeating: 0, count: codec.maxEncodedBytes(count: 64))
                let (wire, n) = try source.withUnsafeBufferPointer { s in
                    try residual.withUnsafeMutableBufferPointer { r in
                        try payload.withUnsafeMutableBytes { try codec.encode(s, residual: kind == .bf16Zstd ? r : nil, into: $0) }
                    }
                }
                let header = BlockHeader(codec: wire, phase: 0, step: 1, bucket: 2, chunk: 0, segment: 0,
                                         rawLength: 256, encodedLength: UInt32(n), checksum: 0)
                var bytes = [UInt8](repeating: 0, count: BlockHeader.size)
                bytes.withUnsafeMutableBytes { header.write(to: $0.baseAddress!) }
                out.append(bytes + payload.prefix(n))
            }
            return out
        case "control":
            var m = ControlMessage(.assign)
            m.rank = 1
            m.worldSize = 3
            m.addresses = ["10.0.0.1:1", "10.0.0.2:2", "10.0.0.3:3"]
            m.config = TrainingConfig()
            var p = ControlMessage(.progress)
            p.step = 12
            p.phase = "backward"
            var part = ControlMessage(.checkpointPart)
            part.step = 8
            part.hash = "00"
            part.tensors = [TensorEntry(name: "fc.weight", shape: [2, 3], count: 6), TensorEntry(name: "fc.bias", shape: [2], count: 2)]
            return [Array(try JSONEncoder().encode(m)), Array(try JSONEncoder().encode(p)), Array(try JSONEncoder().encode(part))]
        case "selftest":
            return [Array("seed".utf8)]
        case "image":
            return imageFuzzSeeds()
        case "config":
            return [Array(#"{"model": "fashion-cnn", "epochs": 3, "schedule": {"type": "cosine", "warmup_steps": 10}, "augmentation": {"shift": 0.1}, "layers": [{"type": "conv", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "flatten"}, {"type": "linear"}]}"#.utf8)]
        default:
            // IDX: an image file header (0x0803, 2 images 2x2) and a label file (0x0801).
            return [[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2] + [UInt8](repeating: 7, count: 8),
                    [0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]]
        }
    }

    func body() -> ([UInt8]) -> Void {
        switch target.rawValue {
        case "frame":
            // The bytes arrive on a connection, as from a peer; frames are read until the
            // stream ends or a frame is refused, alternating the plain and the placement path.
            let buffer = FrameBuffer()
            var destination = [UInt8](repeating: 0, count: 1 << 16)
            return { bytes in
                guard let (peer, me) = try? TCPConnection.pair() else { return }
                defer { peer.close(); me.close() }
                let input = bytes.prefix(1 << 16)   // fits the socket buffer: written before reading
                guard (try? input.withUnsafeBytes { try peer.sendRaw($0, timeout: 1) }) != nil else { return }
                peer.finishSending()
                var placed = false
                while true {
                    do {
                        if placed {
                            _ = try destination.withUnsafeMutableBytes { d in
                                try me.receiveFrame(into: buffer, headBytes: 40, timeout: 1, maxFrameBytes: 1 << 20) { _, tail in
                                    tail <= d.count ? UnsafeMutableRawBufferPointer(rebasing: d[0..<tail]) : nil
                                }
                            }
                        } else {
                            try me.receiveFrame(into: buffer, timeout: 1, maxFrameBytes: 1 << 20)
                        }
                        placed.toggle()
                    } catch { return }
                }
            }
        case "handshake":
            // The bytes are what a stranger sends to an honest server, and (separately) what a
            // stranger answers an honest client; each side runs the real handshake on them.
            // (Refusals are logged in normal use; a million log lines would measure the terminal.)
            TransportLog.setHandler { _ in }
            return { bytes in
                let input = bytes.prefix(1 << 16)
                for asServer in [true, false] {
                    guard let (stranger, honest) = try? TCPConnection.pair() else { return }
                    defer { stranger.close(); honest.close() }
                    guard (try? input.withUnsafeBytes { try stranger.sendRaw($0, timeout: 1) }) != nil else { return }
                    stranger.finishSending()
                    if asServer {
                        _ = try? Handshake.server(honest, rank: 0, worldSize: 2, token: Self.fuzzToken, timeout: 1)
                    } else {
                        _ = try? Handshake.client(honest, rank: 1, worldSize: 2, token: Self.fuzzToken, timeout: 1)
                    }
                }
            }
        case "safetensors":
            return { bytes in _ = try? SafeTensorsFile.parse(bytes: bytes, path: "fuzz", integrity: .required) }
        case "block":
            let codecs = [CodecConfig(.zstd).makeCodec(), CodecConfig(.bf16Zstd).makeCodec()]
            var destination = [Float](repeating: 0, count: 1 << 16)
            return { bytes in
                bytes.withUnsafeBytes { raw in
                    guard let header = try? BlockHeader.parse(raw), raw.count >= BlockHeader.size else { return }
                    let wire = header.codec
                    // The receiver sizes the destination from its own plan, never from the
                    // header; here: the header's claim, capped as the plan would cap it.
                    let n = min(Int(header.rawLength) / 4, destination.count)
                    let payload = UnsafeRawBufferPointer(rebasing: raw[BlockHeader.size...])
                    destination.withUnsafeMutableBufferPointer { d in
                        let dst = UnsafeMutableBufferPointer(rebasing: d[0..<n])
                        for c in codecs { try? c.decode(payload, wire: wire, into: dst, mode: .accumulate) }
                    }
                }
            }
        case "image":
            // JPEG, PNG and WebP decoding (the pixel limit included) on one decoder, as a
            // prepare's thread uses it.
            let decoder = ImageDecoder()
            return { bytes in bytes.withUnsafeBytes { fuzzImageDecoder($0, decoder: decoder) } }
        case "control":
            // The message, then what the coordinator does with a checkpoint part's entries
            // (against an attachment of 32 bytes: 8 floats).
            let attachment = [UInt8](repeating: 0, count: 32)
            return { bytes in
                guard let m = try? JSONDecoder().decode(ControlMessage.self, from: Data(bytes)) else { return }
                _ = try? Coordinator.decodeTensors(m.tensors ?? [], attachment)
                _ = m.metric.flatMap(Double.init)
            }
        case "config":
            return { bytes in _ = try? TrainingConfig.parse(json: Data(bytes), source: "fuzz") }
        case "selftest":
            return { bytes in if bytes != Array("seed".utf8) { fatalError("fuzz selftest: a crash on purpose") } }
        default:
            return { bytes in _ = try? IDXReader.parse(bytes, path: "fuzz") }
        }
    }
}
