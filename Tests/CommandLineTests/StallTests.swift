import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A worker frozen with SIGSTOP: the coordinator's stall inspector names it (its phase, how
/// long since it was heard) before any timeout fires, and after SIGCONT the run goes on.
final class StallTests: XCTestCase {
    var cleanup: [String] = []
    let cluster = LocalProcesses()

    override func tearDown() {
        cluster.stopAll()
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func testAFrozenWorkerIsNamedAndTheRunContinuesAfterIt() throws {
        let data = try SyntheticDataset.writeIDX(train: 2400)
        let dir = NSTemporaryDirectory() + "ringtrain-stall-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        // Checkpoints every 200 steps: at ~1 ms per step, checkpoints every 4 (the default of
        // these configs) would queue rank 0's heartbeats behind checkpoint parts at the
        // coordinator, whose view of rank 0 would then lag (a real, but different, stall).
        try Data(SyntheticDataset.configJSON(data: data, epochs: 400, checkpointEvery: 200).utf8)
            .write(to: URL(fileURLWithPath: config))
        let run = dir + "/run"
        let port = try LocalProcesses.freePort()
        let token = ["RINGTRAIN_TOKEN": "token-\(UUID().uuidString)"]
        let log = LogCollector()
        _ = try cluster.start(["coordinator", "--listen", "127.0.0.1:\(port)", "--world-size", "2", "--stall-seconds", "4",
                               "--heartbeat-timeout", "60", "--config", config, "--run-dir", run],
                              environment: token, stderr: log.pipe)
        try LocalProcesses.waitUntilListening(port)
        let workers = try (0..<2).map { _ in
            try cluster.start(["worker", "--coordinator", "127.0.0.1:\(port)"], environment: token, stderr: FileHandle.nullDevice)
        }
        // Let it train (a few heartbeats: the inspector learns the step time), then freeze one worker.
        XCTAssertTrue(LocalProcesses.waitFor(30) { self.checkpointCount(run) >= 2 }, log.text)
        Thread.sleep(forTimeInterval: 6)
        let frozen = workers[1].processIdentifier
        kill(frozen, SIGSTOP)
        let stoppedAt = Date()
        XCTAssertFalse(log.text.contains("stall:"), "no stall before the freeze: \(log.text)")
        XCTAssertTrue(LocalProcesses.waitFor(25) { log.text.contains("stall:") }, log.text)
        let reportedAfter = Date().timeIntervalSince(stoppedAt)
        kill(frozen, SIGCONT)
        XCTAssertLessThan(reportedAfter, 25, "before the 30 s ring timeout")
        let line = log.text.split(separator: "\n").first { $0.contains("stall:") }.map(String.init) ?? ""
        // Which rank is which is the coordinator's business; the frozen one has not reported for seconds.
        XCTAssertTrue(line.contains("rank 0:") && line.contains("rank 1:"), line)
        XCTAssertTrue(line.range(of: #"reported ([4-9]|[1-9][0-9]) s ago"#, options: .regularExpression) != nil, line)

        // The run goes on: more checkpoints after the thaw.
        let before = LocalProcesses.latestCheckpointStep(run)
        XCTAssertTrue(LocalProcesses.waitFor(30) { LocalProcesses.latestCheckpointStep(run) > before }, log.text)
        XCTAssertTrue(workers.allSatisfy(\.isRunning))
    }

    func checkpointCount(_ run: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")) ?? []).filter { $0.hasSuffix(".safetensors") }.count
    }
}
