import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A checkpoint write that takes 40 s (a slow file system, made by strace delaying the
/// coordinator's fsync of the checkpoint directory by 40 s) while a 2-worker run on
/// Fashion-MNIST goes on: the coordinator keeps beating, so every worker stays in the run
/// (they give up on a coordinator silent for 30 s), and the run ends with every checkpoint.
final class SlowCheckpointTests: XCTestCase {
    let cluster = LocalProcesses()
    var cleanup: [String] = []

    override func tearDown() {
        cluster.stopAll()
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func testAFortySecondCheckpointWriteKeepsEveryWorkerInTheRun() throws {
        let strace = "/usr/bin/strace"
        guard FileManager.default.isExecutableFile(atPath: strace) else {
            throw XCTSkip("needs strace (scripts/test.sh installs it)")
        }
        let dir = NSTemporaryDirectory() + "ringtrain-slow-checkpoint-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append(dir)
        let config = dir + "/config.json"
        try Data("""
        {"model": "fashion-cnn", "data": "/usr/share/datasets/fashion-mnist", "epochs": 7, "batch_size": 128, "lr": 0.05,
         "threads": 1, "validation_fraction": 0.1, "checkpoint_every": 100, "keep_checkpoints": 50}
        """.utf8).write(to: URL(fileURLWithPath: config))
        let port = try LocalProcesses.freePort()
        let token = ["RINGTRAIN_TOKEN": "the-real-token-\(UUID().uuidString)"]
        let log = LogCollector(), workerLogs = [LogCollector(), LogCollector()]
        // strace counts per thread: the checkpoint writer thread's first fsync is the first
        // checkpoint file's, its second the checkpoint directory's after the rename (checked
        // below: `latest` follows the file 40 s later).
        let coordinator = try cluster.start(["-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync",
                                             "-e", "inject=fsync:delay_enter=40000000:when=2",
                                             BinaryRunner.binaryPath, "coordinator", "--listen", "127.0.0.1:\(port)", "--world-size", "2",
                                             "--config", config, "--run-dir", dir + "/run"],
                                            environment: token, stderr: log.pipe, executable: strace)
        try LocalProcesses.waitUntilListening(port)
        let workers = try workerLogs.map {
            try cluster.start(["worker", "--coordinator", "127.0.0.1:\(port)"], environment: token, stderr: $0.pipe)
        }
        // The file lands (renamed into place), then the directory's fsync hangs for 40 s, and
        // only then is `latest` written.
        let checkpoints = dir + "/run/checkpoints"
        var fileLanded: Date?, latestWritten: Date?
        let watchUntil = Date().addingTimeInterval(240)
        var workersEnded: Date?
        while coordinator.isRunning && Date() < watchUntil {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints)) ?? []
            if fileLanded == nil && names.contains("step-00000100.safetensors") { fileLanded = Date() }
            if latestWritten == nil && names.contains("latest") { latestWritten = Date() }
            if workersEnded == nil && !workers.contains(where: \.isRunning) { workersEnded = Date() }
            usleep(50_000)
        }
        if coordinator.isRunning {
            XCTFail("the run did not end within 240 s")
            cluster.stopAll()
        }
        for w in workers { w.waitUntilExit() }
        coordinator.waitUntilExit()
        let text = ([log] + workerLogs).map(\.text).joined(separator: "\n---\n")
        let landed = try XCTUnwrap(fileLanded, "the first checkpoint never landed: \(text)")
        let latest = try XCTUnwrap(latestWritten, "latest was never written: \(text)")
        XCTAssertGreaterThan(latest.timeIntervalSince(landed), 35, "the injected delay did not hit the first checkpoint's write")
        // The workers trained on past their 30 s bound on a silent coordinator.
        let ended = try XCTUnwrap(workersEnded)
        XCTAssertGreaterThan(ended.timeIntervalSince(landed), 32, "the run ended too soon after the slow write began to show anything: raise its epochs")
        for w in workers { XCTAssertEqual(w.terminationStatus, 0, text) }
        XCTAssertEqual(coordinator.terminationStatus, 0, text)
        XCTAssertFalse(text.contains("lost"), text)
        // Training went on during the write: later checkpoints followed, and the run outlasted
        // the workers' 30 s bound on a silent coordinator.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["epochs_completed"] as? Int, 7, text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoints + "/step-00000200.safetensors"), text)
        let metrics = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"step\":100,") || metrics.contains("\"step\": 100,"), "the delayed checkpoint is recorded")
    }
}
