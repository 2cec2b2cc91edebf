import Codecs
import Collectives
import Datasets
import Foundation
import Layers
import TestSupport
import Training
import XCTest

/// The same Trainer as a ring of ranks in one process (in-memory links): every rank ends with
/// bit-identical weights, and a stopped run resumes bit-identically, also onto another world size.
final class DistributedTrainerTests: TrainingTestCase {
    /// Runs `world` trainers concurrently; returns each rank's final parameters (nil on error).
    func runRing(world: Int, config: TrainingConfig, runDirectory: String, resume: Bool = false,
                 stopAfter: Int? = nil, codec: CodecConfig = CodecConfig(.none),
                 wrapLink: ((InMemoryLink) -> RingLink)? = nil,
                 onBatch: ((Int, Int, Int, [Int]) -> Void)? = nil) throws -> [[UInt32]?] {
        let dataset = try Dataset.load(directory: data)
        let links: [RingLink] = InMemoryRing.makeLinks(worldSize: world).map { wrapLink?($0) ?? $0 }
        let results = Locked([[UInt32]?](repeating: nil, count: world))
        let errors = Locked([Error?](repeating: nil, count: world))
        // One thread per rank (not concurrentPerform, whose width is the core count: a third
        // rank would wait for a core while the others wait for it).
        let group = DispatchGroup()
        for rank in 0..<world {
            group.enter()
            Thread {
            defer { group.leave() }
            do {
                let comm = RingCommunicator(link: links[rank], codec: codec)
                var o = Trainer.Options(runDirectory: runDirectory, resume: resume)
                o.writesRunDirectory = rank == 0
                o.stopAfterSteps = stopAfter
                if let onBatch { o.onBatch = { epoch, step, indices in onBatch(rank, epoch, step, indices) } }
                let t = try Trainer(config: config, options: o, communicator: comm, dataset: dataset)
                _ = try t.run()
                let bits = t.network.parameters.storage.array.map(\.bitPattern)
                results.update { $0[rank] = bits }
                comm.close()
            } catch {
                errors.update { $0[rank] = error }
                links[rank].shutdown()
            }
            }.start()
        }
        group.wait()
        for case let e? in errors.value where !(e is TrainingInterrupted) { throw e }
        return results.value
    }

    func testRanksEndBitIdenticalForEveryCodec() throws {
        let config = TrainingFixtures.config(data: data)
        for codec in [CodecConfig(.none), CodecConfig(.zstd), CodecConfig(.bf16Zstd)] {
            let results = try runRing(world: 3, config: config, runDirectory: runDir(), codec: codec)
            XCTAssertNotNil(results[0], "\(codec)")
            for r in 1..<3 { XCTAssertEqual(results[r], results[0], "rank \(r) differs with \(codec)") }
        }
    }

    func testTwoRankRunResumesBitIdentically() throws {
        let config = TrainingFixtures.config(data: data)
        let straight = try runRing(world: 2, config: config, runDirectory: runDir())
        let dir = runDir()
        _ = try runRing(world: 2, config: config, runDirectory: dir, stopAfter: 6)
        let resumed = try runRing(world: 2, config: config, runDirectory: dir, resume: true)
        XCTAssertNotNil(straight[0])
        XCTAssertEqual(resumed[0], straight[0], "resumed 2-rank run equals the uninterrupted one")
        XCTAssertEqual(resumed[1], straight[0])
    }

    /// Two ranks accumulating two micro-batches of 8 take the step one process takes on 32
    /// samples, and send one gradient per optimizer step (the bytes of a run without accumulation).
    func testAccumulatedRingRunAllReducesOncePerOptimizerStep() throws {
        var config = TrainingFixtures.config(data: data)
        // The linear layer's gradient (16·4·4·4 floats) fills a 4 KiB bucket by itself, so a
        // bucket goes out during backward, not only at the end of the step.
        config.layers = [LayerSpec(type: "conv", out: 16, kernel: 3, pad: 1), LayerSpec(type: "relu"), LayerSpec(type: "maxpool", size: 2),
                         LayerSpec(type: "flatten"), LayerSpec(type: "linear")]
        config.bucketBytes = 4096
        config.augmentation = AugmentationConfig()
        config.epochs = 1
        config.batchSize = 8
        config.accumulateSteps = 2
        let dir = runDir()
        let ring = try runRing(world: 2, config: config, runDirectory: dir)
        XCTAssertEqual(ring[1], ring[0])
        var single = config
        single.batchSize = 32
        single.accumulateSteps = 1
        let alone = try Trainer(config: single, options: .init(runDirectory: runDir()))
        _ = try alone.run()
        let x = alone.network.parameters.storage.array, y = try XCTUnwrap(ring[0]).map(Float.init(bitPattern:))
        XCTAssertLessThan(x.indices.map { abs(x[$0] - y[$0]) / max(1, abs(x[$0])) }.max()!, 1e-5)

        var unaccumulated = config
        unaccumulated.batchSize = 16
        unaccumulated.accumulateSteps = 1
        let plainDir = runDir()
        _ = try runRing(world: 2, config: unaccumulated, runDirectory: plainDir)
        func summary(_ d: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/summary.json"))) as! [String: Any]
        }
        let accumulatedSummary = try summary(dir), plainSummary = try summary(plainDir)
        XCTAssertEqual(accumulatedSummary["final_step"] as? Int, plainSummary["final_step"] as? Int)
        XCTAssertEqual(try XCTUnwrap(accumulatedSummary["bytes_raw"] as? Int), try XCTUnwrap(plainSummary["bytes_raw"] as? Int))
    }

    /// L1, accumulation, the weight average and undersampling survive a 2-rank stop and resume
    /// bit for bit, and a resume onto 3 ranks finishes.
    func testRingResumesBitIdenticallyWithEveryToolkitState() throws {
        var config = TrainingFixtures.config(data: data)
        config.l1 = 1e-4
        config.accumulateSteps = 2
        config.emaDecay = 0.8
        config.sampler = "undersample"
        config.samplesPerClass = 40
        config.checkpointEvery = 2
        let straight = try runRing(world: 2, config: config, runDirectory: runDir())
        let dir = runDir()
        _ = try runRing(world: 2, config: config, runDirectory: dir, stopAfter: 3)
        let resumed = try runRing(world: 2, config: config, runDirectory: dir, resume: true)
        XCTAssertNotNil(straight[0])
        XCTAssertEqual(resumed[0], straight[0])
        XCTAssertEqual(resumed[1], straight[0])
        let other = runDir()
        _ = try runRing(world: 2, config: config, runDirectory: other, stopAfter: 3)
        let three = try runRing(world: 3, config: config, runDirectory: other, resume: true)
        XCTAssertNotNil(three[0])
        XCTAssertEqual(three[2], three[0])
    }

    /// lr-find on a ring of 2: both ranks see the same (averaged) losses and stop together.
    func testLearningRateFinderOnTwoRanksAgrees() throws {
        let dataset = try Dataset.load(directory: data)
        let links = InMemoryRing.makeLinks(worldSize: 2)
        var sweep = LearningRateSweep()
        sweep.minLR = 1e-4
        sweep.maxLR = 50
        sweep.steps = 40
        let fixedSweep = sweep
        let curves = Locked([LearningRateCurve?](repeating: nil, count: 2))
        let group = DispatchGroup()
        let dir = runDir()
        for rank in 0..<2 {
            group.enter()
            Thread {
                defer { group.leave() }
                var o = Trainer.Options(runDirectory: dir)
                o.writesRunDirectory = rank == 0
                let comm = RingCommunicator(link: links[rank], codec: CodecConfig(.none))
                let curve = try? Trainer(config: TrainingFixtures.config(data: self.data), options: o, communicator: comm, dataset: dataset)
                    .findLearningRate(fixedSweep)
                curves.update { $0[rank] = curve }
                comm.close()
            }.start()
        }
        group.wait()
        let first = try XCTUnwrap(curves.value[0]), second = try XCTUnwrap(curves.value[1])
        XCTAssertEqual(first.losses, second.losses)
        XCTAssertEqual(first.suggestedLR, second.suggestedLR)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/lr_find.json"))
    }

    func testResumeOntoAnotherWorldSizeFinishes() throws {
        let config = TrainingFixtures.config(data: data)
        let dir = runDir()
        _ = try runRing(world: 2, config: config, runDirectory: dir, stopAfter: 5)
        let resumed = try runRing(world: 3, config: config, runDirectory: dir, resume: true)
        XCTAssertNotNil(resumed[0])
        XCTAssertEqual(resumed[1], resumed[0])
        XCTAssertEqual(resumed[2], resumed[0])
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["world_size"] as? Int, 3)
        XCTAssertEqual(summary["epochs_completed"] as? Int, config.epochs)
    }

    func testLinearLearningRateScalingMultipliesByWorldSize() throws {
        var config = TrainingFixtures.config(data: data)
        config.lrScaling = "linear"
        let links = InMemoryRing.makeLinks(worldSize: 3)
        var o = Trainer.Options(runDirectory: runDir())
        o.writesRunDirectory = false
        let t = try Trainer(config: config, options: o, communicator: RingCommunicator(link: links[1]))
        XCTAssertEqual(t.scheduler.baseLR, config.lr * 3, accuracy: 1e-12)
        config.lrScaling = "none"
        let u = try Trainer(config: config, options: o, communicator: RingCommunicator(link: links[2]))
        XCTAssertEqual(u.scheduler.baseLR, config.lr, accuracy: 1e-12)
        config.lrScaling = "square"
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("lr_scaling")) }
    }

    /// Stop a 2-rank run after a checkpoint in the middle of epoch 0, resume it with 3 ranks:
    /// the resumed ranks together train on every sample the first run had not reached in
    /// that epoch exactly once (plus the declared padding), and on nothing it had.
    func testResumeOntoThreeRanksSeesEveryRemainingSampleOnce() throws {
        var config = TrainingFixtures.config(data: data)
        config.epochs = 1
        config.checkpointEvery = 2
        let dir = runDir()
        let lock = NSLock()
        var before: [Int: [Int]] = [:]   // step -> samples of all ranks
        _ = try runRing(world: 2, config: config, runDirectory: dir, stopAfter: 3, onBatch: { _, epoch, step, indices in
            lock.lock(); before[step, default: []] += indices; lock.unlock()
            XCTAssertEqual(epoch, 0)
        })
        // The checkpoint is at step 2: steps 0 and 1 are what the resumed run must not repeat.
        let consumed = (before[0] ?? []) + (before[1] ?? [])
        XCTAssertEqual(consumed.count, 2 * 2 * config.batchSize)
        var after: [Int] = []
        _ = try runRing(world: 3, config: config, runDirectory: dir, resume: true, onBatch: { _, epoch, _, indices in
            lock.lock(); if epoch == 0 { after += indices }; lock.unlock()
        })
        let trainCount = 192   // 240 generated images, 20% held out for validation
        let remaining = trainCount - consumed.count
        let padding = (3 - remaining % 3) % 3
        XCTAssertEqual(after.count, remaining + padding)
        XCTAssertEqual(Set(consumed).count, consumed.count)
        let unseen = Set(0..<trainCount).subtracting(consumed)
        var counts: [Int: Int] = [:]
        for i in after { counts[i, default: 0] += 1 }
        for i in unseen { XCTAssertEqual(counts[i], 1, "sample \(i) not seen exactly once after the resume") }
        // The rest are the declared padding, which wraps to the start of the epoch's order.
        let extra = after.filter { !unseen.contains($0) }
        XCTAssertEqual(extra.count, padding)
    }
}
