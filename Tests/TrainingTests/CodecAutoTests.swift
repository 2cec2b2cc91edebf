import Codecs
import Datasets
import Collectives
import Foundation
import Layers
import TestSupport
import Training
import XCTest

/// `--codec auto`: the probe alternates raw and zstd steps inside real training, so the
/// weights must be the same bits as a `none` run's, every rank must make the same decision,
/// and on a slow link the measured step times must favour compression.
extension DistributedTrainerTests {
    func autoConfig() -> TrainingConfig {
        var config = TrainingFixtures.config(data: data)
        config.data = data
        config.epochs = 4   // 24 steps of 2 ranks: 3 warm-up + 12 probe steps, then settled
        config.codec = "auto"
        return config
    }

    func codecDecisions(_ runDirectory: String) throws -> [[String: Any]] {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runDirectory + "/summary.json"))) as! [String: Any]
        return summary["codec_auto"] as? [[String: Any]] ?? []
    }

    func testCodecAutoTrainsTheSameBitsAsNoneAndRecordsItsDecision() throws {
        var plain = autoConfig()
        plain.codec = "none"
        let reference = try runRing(world: 2, config: plain, runDirectory: runDir())
        let dir = runDir()
        let auto = try runRing(world: 2, config: autoConfig(), runDirectory: dir, codec: CodecConfig(.zstd))
        XCTAssertNotNil(reference[0])
        XCTAssertEqual(auto[0], reference[0], "auto (raw and zstd steps mixed) differs from none")
        XCTAssertEqual(auto[1], reference[0])
        let decisions = try codecDecisions(dir)
        XCTAssertEqual(decisions.count, 1, "\(decisions)")
        XCTAssertEqual(decisions.first?["step"] as? Int, 15)
        XCTAssertEqual(decisions.first?["probe_steps"] as? Int, 12)
        XCTAssertTrue(["none", "zstd"].contains(decisions.first?["chosen"] as? String ?? "?"), "\(decisions)")
        let lines = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("\"event\":\"codec\"") }.count, 1)
    }

    /// A link that takes `bytes / bytesPerSecond` to send each frame (the wire of a slow
    /// network), and gradients zstd shrinks (a 200k-weight linear layer on 28x28 images that
    /// are 0 outside a 4x4 square): compression must win the probe, and the bytes shrink.
    func testCodecAutoPicksZstdOnASlowLink() throws {
        let sparse = try SyntheticDataset.writeIDX(train: 240, test: 60, seed: 3, side: 28, noisy: false)
        cleanup.append(sparse)
        data = sparse
        var config = autoConfig()
        config.layers = [LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 256), LayerSpec(type: "relu"),
                         LayerSpec(type: "linear")]
        config.augmentation = AugmentationConfig()
        let dir = runDir()
        let results = try runRing(world: 2, config: config, runDirectory: dir, codec: CodecConfig(.zstd),
                                  wrapLink: { SlowLink($0, bytesPerSecond: 20_000_000) })
        XCTAssertNotNil(results[0])
        let decisions = try codecDecisions(dir)
        XCTAssertEqual(decisions.first?["chosen"] as? String, "zstd", "\(decisions)")
        let none = decisions.first?["none_step_seconds"] as? Double ?? 0
        let zstd = decisions.first?["zstd_step_seconds"] as? Double ?? 0
        XCTAssertLessThan(zstd, none)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as! [String: Any]
        XCTAssertGreaterThan(summary["compression_ratio"] as? Double ?? 0, 1.05)
    }

    func testCodecAutoDecisionUsesTheSlowestRankAndPrefersNoneOnATie() {
        // Rank 1 is slow without compression; rank 0 is fast either way: the ring waits for rank 1.
        let d = CodecAutoSelector.decide([[0.010, 0.012], [0.030, 0.020]], step: 9, probeSteps: 12, reason: "start")
        XCTAssertEqual(d.chosen, "zstd")
        XCTAssertEqual(d.noneStepSeconds, 0.030)
        XCTAssertEqual(d.zstdStepSeconds, 0.020)
        XCTAssertEqual(CodecAutoSelector.decide([[0.02, 0.02]], step: 9, probeSteps: 12, reason: "start").chosen, "none")
        XCTAssertEqual(CodecAutoSelector.decide([[0.02, 0.03], [0.02, 0.01]], step: 9, probeSteps: 12, reason: "start").chosen, "none")
    }

    /// After a decision, a step time that moves by more than the tolerance starts a new probe
    /// (once enough steps have passed), and that probe's decision says why it ran.
    func testCodecAutoProbesAgainWhenStepTimesShift() throws {
        var settings = CodecAutoSelector.Settings()
        settings.warmupSteps = 1
        settings.probeStepsEach = 2
        settings.checkEvery = 4
        settings.minStepsBetweenProbes = 8
        let selector = CodecAutoSelector(settings: settings)
        let local = LocalCommunicator()
        var step = 0
        func run(_ seconds: (Bool) -> Double, steps: Int) throws -> [CodecDecision] {
            var out: [CodecDecision] = []
            for _ in 0..<steps {
                let compressed = selector.compressesNextStep()
                step += 1
                if let d = try selector.recordStep(step, seconds: seconds(compressed), compressed: compressed, communicator: local) {
                    out.append(d)
                }
            }
            return out
        }
        // A fast link: compression costs more than it saves.
        let first = try run({ $0 ? 0.012 : 0.010 }, steps: 5)
        XCTAssertEqual(first.map(\.chosen), ["none"])
        XCTAssertFalse(selector.compressesNextStep())
        // The link slows down (raw steps now take 40 ms): the next check after 8 steps probes again.
        let second = try run({ $0 ? 0.015 : 0.040 }, steps: 16)
        XCTAssertEqual(second.map(\.chosen), ["zstd"])
        XCTAssertTrue(second.first?.reason.contains("step time") ?? false, second.first?.reason ?? "")
        XCTAssertTrue(selector.compressesNextStep())
        // Steady again: no further probe.
        XCTAssertEqual(try run({ $0 ? 0.015 : 0.040 }, steps: 20), [])
    }
}

/// Sends like a link of `bytesPerSecond` (sleeps for each frame's bytes); receives unchanged.
final class SlowLink: RingLink, @unchecked Sendable {
    let inner: InMemoryLink
    let bytesPerSecond: Double
    init(_ inner: InMemoryLink, bytesPerSecond: Double) { self.inner = inner; self.bytesPerSecond = bytesPerSecond }
    var rank: Int { inner.rank }
    var worldSize: Int { inner.worldSize }
    var leftPeer: String { inner.leftPeer }
    var rightPeer: String { inner.rightPeer }
    func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws {
        Thread.sleep(forTimeInterval: Double(head.count + body.count) / bytesPerSecond)
        try inner.send(head: head, body: body)
    }
    func receive(into buffer: FrameBuffer) throws { try inner.receive(into: buffer) }
    func shutdown() { inner.shutdown() }
}
