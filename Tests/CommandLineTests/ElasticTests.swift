import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Elastic continuation: 3 workers, `--min-workers 2`, one killed with SIGKILL mid-run. The
/// coordinator re-forms the ring from the 2 survivors (no process restarted) and training
/// continues from the last checkpoint to the end; below the minimum the run stops with exit 3.
final class ElasticTests: XCTestCase {
    var cleanup: [String] = []
    let cluster = LocalProcesses()

    override func tearDown() {
        cluster.stopAll()
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func setUp(epochs: Int, checkpointEvery: Int = 20) throws -> (config: String, dir: String) {
        let data = try SyntheticDataset.writeIDX(train: 2400)
        let dir = NSTemporaryDirectory() + "ringtrain-elastic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: epochs, checkpointEvery: checkpointEvery).utf8)
            .write(to: URL(fileURLWithPath: config))
        return (config, dir)
    }

    /// The pids of the workers the coordinator's log says registered, in order.
    static func registeredPids(_ log: String) -> [Int32] {
        log.split(separator: "\n").filter { $0.contains("registered:") }.compactMap { line -> Int32? in
            guard let r = line.range(of: "pid ") else { return nil }
            return Int32(line[r.upperBound...].split(separator: ",")[0])
        }
    }

    func testAKilledWorkerIsDroppedAndTheSurvivorsFinishTheRun() throws {
        // Checkpoints only at epoch ends (40 steps), commits every 5 steps.
        let (config, dir) = try setUp(epochs: 40, checkpointEvery: 0)
        let undisturbed = try BinaryRunner.run(["launch", "--json", "--nproc", "3", "--config", config, "--run-dir", dir + "/calm"], timeout: 300)
        XCTAssertEqual(undisturbed.status, 0, undisturbed.stderr)
        let calm = try JSONSerialization.jsonObject(with: Data(undisturbed.stdout.utf8)) as! [String: Any]

        let run = dir + "/run"
        let log = LogCollector()
        let stdout = Pipe()
        let launch = try cluster.start(["launch", "--json", "--nproc", "3", "--min-workers", "2", "--commit-every", "5", "--config", config,
                                        "--run-dir", run], environment: [:], stderr: log.pipe, stdout: stdout)
        XCTAssertTrue(LocalProcesses.waitFor(60) { (try? String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8)) != nil }, log.text)
        Thread.sleep(forTimeInterval: 0.3)
        let pids = Self.registeredPids(log.text)
        XCTAssertEqual(pids.count, 3, log.text)
        guard pids.count == 3 else { return }
        kill(pids[2], SIGKILL)
        let killedAt = Date()
        XCTAssertTrue(LocalProcesses.waitFor(30) { log.text.contains("ring of 2 formed and checked (re-formation 1)") }, log.text)
        let continuedAfter = Date().timeIntervalSince(killedAt)
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        launch.waitUntilExit()
        let text = log.text
        XCTAssertEqual(launch.terminationStatus, 0, text)
        XCTAssertLessThan(continuedAfter, 10, "training continues within 10 s")
        XCTAssertTrue(text.contains("re-forming the ring with 2 workers"), text)
        // The ring restarts from the newest in-memory commit (every 5 steps; checkpoints only
        // at epoch ends, 40 steps apart), so only the few steps since it are redone.
        let redone = text.range(of: #"about (\d+) steps are redone"#, options: .regularExpression)
            .map { Int(text[$0].split(separator: " ")[1]) ?? -1 } ?? -1
        XCTAssertTrue((0...5).contains(redone), "at most --commit-every (5) steps redone, got \(redone): \(text)")
        // The survivors are the original processes: exactly 3 registrations, no new worker.
        XCTAssertEqual(text.components(separatedBy: "registered:").count - 1, 3, text)
        XCTAssertEqual(kill(pids[0], 0) == 0 || kill(pids[1], 0) == 0, false, "the survivors exited after the run")
        let summary = try JSONSerialization.jsonObject(with: output) as! [String: Any]
        XCTAssertEqual(summary["world_size"] as? Int, 2)
        XCTAssertEqual(summary["epochs_completed"] as? Int, 40)
        // The global batch was kept (24 per survivor instead of 16): as many steps as undisturbed.
        XCTAssertTrue(text.contains("batch 24 per worker (global 48, planned 48)"), text)
        XCTAssertEqual(summary["final_step"] as? Int, calm["final_step"] as? Int)
        // Final accuracy within 0.3% of undisturbed (60 test samples: the same count): the
        // survivors trained the same samples per step (the global batch was kept).
        XCTAssertEqual(summary["test_top1"] as? Double ?? 0, calm["test_top1"] as? Double ?? 1, accuracy: 0.003, text)
        // metrics.jsonl holds each step once: the redone steps replaced what was recorded past the checkpoint.
        let steps = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "train" }.compactMap { $0["step"] as? Int }
        XCTAssertEqual(steps, steps.sorted(), "train lines in step order, none twice")
    }

    /// Strangers holding silent connections to every worker's ring port, from registration
    /// on and again before a worker is killed, delay neither the ring's formation nor its
    /// re-formation from the survivors (one handshake at a time, each held the port for its
    /// 10 s deadline and the honest neighbour gave up: two minutes, or a failed run).
    func testSilentStrangersOnTheRingPortsDelayNoFormation() throws {
        let (config, dir) = try setUp(epochs: 30, checkpointEvery: 0)
        let run = dir + "/run"
        let log = LogCollector()
        let launch = try cluster.start(["launch", "--nproc", "3", "--min-workers", "2", "--commit-every", "5", "--config", config,
                                        "--run-dir", run], environment: [:], stderr: log.pipe)
        var strangers: [Int32] = []
        defer { strangers.forEach { close($0) } }
        func ringPorts() -> [UInt16] {
            log.text.split(separator: "\n").filter { $0.contains("registered:") }.compactMap { line in
                line.range(of: "ring address 127.0.0.1:").flatMap { UInt16(line[$0.upperBound...].prefix { $0.isNumber }) }
            }
        }
        // Four silent connections to each ring port as soon as it is announced (before or
        // while the ring forms).
        var covered: Set<UInt16> = []
        let formedBy = Date().addingTimeInterval(60)
        while Date() < formedBy && !log.text.contains("ring of 3 formed") {
            for port in ringPorts() where !covered.contains(port) {
                covered.insert(port)
                strangers += (0..<4).compactMap { _ in try? LocalProcesses.connect(port) }
            }
            usleep(2_000)
        }
        XCTAssertTrue(log.text.contains("ring of 3 formed"), log.text)
        XCTAssertGreaterThan(strangers.count, 0, log.text)
        XCTAssertTrue(LocalProcesses.waitFor(60) { (try? String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8)) != nil }, log.text)
        // Four more to each, then one worker dies.
        for port in ringPorts() { strangers += (0..<4).compactMap { _ in try? LocalProcesses.connect(port) } }
        let pids = Self.registeredPids(log.text)
        XCTAssertEqual(pids.count, 3, log.text)
        guard pids.count == 3 else { return }
        kill(pids[2], SIGKILL)
        let killedAt = Date()
        XCTAssertTrue(LocalProcesses.waitFor(60) { log.text.contains("ring of 2 formed and checked (re-formation 1)") }, log.text)
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 10, "re-formed within 10 s: \(log.text)")
        launch.waitUntilExit()
        XCTAssertEqual(launch.terminationStatus, 0, log.text)
    }

    func testBelowTheMinimumTheRunStopsWithExitThree() throws {
        let (config, dir) = try setUp(epochs: 400)
        let run = dir + "/run"
        let log = LogCollector()
        let launch = try cluster.start(["launch", "--nproc", "2", "--min-workers", "2", "--config", config, "--run-dir", run],
                                       environment: [:], stderr: log.pipe, stdout: FileHandle.nullDevice)
        XCTAssertTrue(LocalProcesses.waitFor(60) { (try? String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8)) != nil }, log.text)
        let pid = log.text.split(separator: "\n").first { $0.contains("registered:") }
            .flatMap { line in line.range(of: "pid ").flatMap { Int32(line[$0.upperBound...].split(separator: ",")[0]) } }
        XCTAssertNotNil(pid, log.text)
        guard let pid else { return }
        kill(pid, SIGKILL)
        launch.waitUntilExit()
        XCTAssertEqual(launch.terminationStatus, 3, log.text)
        XCTAssertTrue(log.text.contains("lost worker"), log.text)
    }
    /// Below the minimum before any checkpoint reached the disk: the newest in-memory commit
    /// (weights every rank agreed on) is written as a checkpoint, so exit 3's promise of a
    /// resume holds. 60,000 images: 1,000 steps to the first epoch-end checkpoint; commits
    /// every 2 steps; two of three workers killed at once after step 50.
    func testBelowTheMinimumTheNewestCommitIsWrittenBeforeExitThree() throws {
        let data = try SyntheticDataset.writeIDX(train: 60_000, test: 60, seed: 3)
        let dir = NSTemporaryDirectory() + "ringtrain-elastic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json", run = dir + "/run"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 2, checkpointEvery: 0).utf8).write(to: URL(fileURLWithPath: config))
        let log = LogCollector()
        let launch = try cluster.start(["launch", "--nproc", "3", "--min-workers", "2", "--commit-every", "2", "--config", config,
                                        "--run-dir", run], environment: [:], stderr: log.pipe, stdout: FileHandle.nullDevice)
        XCTAssertTrue(LocalProcesses.waitFor(120) {
            ((try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)) ?? "").contains("\"event\":\"train\"")
        }, log.text)
        let pids = log.text.split(separator: "\n").filter { $0.contains("registered:") }
            .compactMap { line in line.range(of: "pid ").flatMap { Int32(line[$0.upperBound...].split(separator: ",")[0]) } }
        XCTAssertEqual(pids.count, 3, log.text)
        guard pids.count == 3 else { return }
        kill(pids[0], SIGKILL)
        kill(pids[1], SIGKILL)
        launch.waitUntilExit()
        XCTAssertEqual(launch.terminationStatus, 3, log.text)
        let store = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.hasSuffix(".safetensors") }
        XCTAssertEqual(store.count, 1, "the commit, and no epoch-end checkpoint yet: \(store)")
        guard let file = store.first, let step = Int(file.dropFirst(5).dropLast(12)) else { return }
        XCTAssertTrue(log.text.contains("wrote the in-memory commit of step \(step) as a checkpoint before stopping"), log.text)
        XCTAssertTrue(log.text.contains("the run is resumable with --resume (from step \(step))"), log.text)
        XCTAssertEqual(try BinaryRunner.run(["checkpoint", "verify", run + "/checkpoints/" + file]).status, 0)
        let resumed = try BinaryRunner.run(["train", "--config", config, "--run-dir", run, "--resume", "--stop-at-epoch", "1"], timeout: 300)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resumed from \(run)/checkpoints/\(file) at step \(step)"), resumed.stderr)
    }
}
