import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The coordinator is killed mid-run: every worker exits 3 at once (its control connection
/// closes; a silent coordinator would take the 30 s heartbeat bound), nothing is half-written,
/// and `--resume` continues from the last checkpoint.
final class CoordinatorLossTests: XCTestCase {
    var cleanup: [String] = []
    let cluster = LocalProcesses()

    override func tearDown() {
        cluster.stopAll()
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func testKilledCoordinatorEndsWorkersWithExitThreeAndTheRunResumes() throws {
        let data = try SyntheticDataset.writeIDX(train: 2400)
        let dir = NSTemporaryDirectory() + "ringtrain-coordloss-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 200).utf8).write(to: URL(fileURLWithPath: config))
        let run = dir + "/run"
        let port = try LocalProcesses.freePort()
        let token = ["RINGTRAIN_TOKEN": "token-\(UUID().uuidString)"]
        let coordinator = try cluster.start(["coordinator", "--listen", "127.0.0.1:\(port)", "--world-size", "2",
                                             "--config", config, "--run-dir", run],
                                            environment: token, stderr: FileHandle.nullDevice)
        try LocalProcesses.waitUntilListening(port)
        let workers = try (0..<2).map { _ in
            try cluster.start(["worker", "--coordinator", "127.0.0.1:\(port)"], environment: token, stderr: FileHandle.nullDevice)
        }
        // Wait for two checkpoints, then kill the coordinator without warning.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")) ?? []
            if names.filter({ $0.hasSuffix(".safetensors") }).count >= 2 { break }
            usleep(50_000)
        }
        XCTAssertTrue(coordinator.isRunning, "the run ended before the coordinator could be killed")
        kill(coordinator.processIdentifier, SIGKILL)
        let killedAt = Date()
        for w in workers { w.waitUntilExit() }
        let noticed = Date().timeIntervalSince(killedAt)
        for w in workers { XCTAssertEqual(w.terminationStatus, 3, "a worker that lost its coordinator exits 3 (resumable)") }
        XCTAssertLessThan(noticed, 30, "noticed within the heartbeat bound")

        // Nothing half-written: every checkpoint file verifies (a kill can leave a temporary,
        // `.NAME.tmp.PID`, never a partial checkpoint; the next save removes temporaries), and
        // `latest` names one of them.
        let names = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")
        let checkpoints = names.filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }
        for c in checkpoints {
            XCTAssertEqual(try BinaryRunner.run(["checkpoint", "verify", run + "/checkpoints/" + c]).status, 0, c)
        }
        let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(checkpoints.contains(latest), latest)
        // The resume point is the newest complete checkpoint (it may be newer than `latest` if
        // the kill came between the checkpoint's rename and the update of `latest`).
        let step = checkpoints.compactMap { Int($0.filter(\.isNumber)) }.max()!

        // Restarting with --resume continues from it (two more epochs than were done).
        let resumed = try BinaryRunner.run(["launch", "--nproc", "2", "--config", config, "--run-dir", run, "--resume",
                                            "--epochs", "\(step / 12 + 2)"], timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let resumedLine = resumed.stderr.split(separator: "\n").first { $0.contains("resuming from") }
        XCTAssertNotNil(resumedLine, resumed.stderr)
        XCTAssertTrue(resumedLine?.contains("(step \(step))") == true, "\(resumedLine ?? "") (expected step \(step))")
        let after = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")
        XCTAssertFalse(after.contains { $0.contains(".tmp.") }, "the resumed run's first save removed the temporaries: \(after)")
    }
}
