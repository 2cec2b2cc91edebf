import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `ringtrain launch` end to end: real processes, real TCP on loopback.
final class LaunchCommandTests: XCTestCase {
    var cleanup: [String] = []

    override func tearDown() {
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func setUpRun(epochs: Int = 2, extra: String = "") throws -> (config: String, run: String) {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-launch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: epochs, extra: extra).utf8).write(to: URL(fileURLWithPath: config))
        return (config, dir + "/run")
    }

    func testTwoWorkersTrainCheckpointAndResumeOntoThree() throws {
        let (config, run) = try setUpRun()
        let r = try BinaryRunner.run(["launch", "--json", "--nproc", "2", "--config", config, "--run-dir", run], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["world_size"] as? Int, 2)
        XCTAssertGreaterThan(summary["test_top1"] as? Double ?? 0, 0.5)
        XCTAssertTrue(r.stderr.contains("ring of 2 formed and checked"), r.stderr)
        try assertRunDirectoryIsComplete(run, world: 2)

        // Resume the finished run with 3 workers and 2 more epochs.
        let more = try BinaryRunner.run(["launch", "--json", "--nproc", "3", "--config", config, "--run-dir", run, "--resume", "--epochs", "4"],
                                        timeout: 120)
        XCTAssertEqual(more.status, 0, more.stderr)
        let s2 = try JSONSerialization.jsonObject(with: Data(more.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(s2["world_size"] as? Int, 3)
        XCTAssertEqual(s2["epochs_completed"] as? Int, 4)
        XCTAssertTrue(more.stderr.contains("resuming from"), more.stderr)
        try assertRunDirectoryIsComplete(run, world: 3)
    }

    /// The coordinator takes the metric-driven decisions and keeps their state across a resume:
    /// a plateau schedule whose metric never counts as improved (threshold 100) halves the rate
    /// at every validation after the first, and early stopping with patience 2 ends the run at
    /// the third. The run is stopped after 2 epochs and resumed with 6: the third validation's
    /// cut and stop need the state decided before the resume.
    func testTheCoordinatorTakesPlateauAndEarlyStoppingDecisionsAcrossAResume() throws {
        let (config, run) = try setUpRun(epochs: 2, extra: """
            , "schedule": {"type": "plateau", "reduce_on_plateau": {"patience": 0, "factor": 0.5, "threshold": 100, "threshold_mode": "abs"},
                           "early_stopping": {"patience": 2, "min_delta": 100}}
            """)
        let first = try BinaryRunner.run(["launch", "--nproc", "2", "--config", config, "--run-dir", run], timeout: 120)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("[coordinator] plateau at step"), first.stderr)
        XCTAssertFalse(first.stderr.contains("early stopping"), first.stderr)

        let resumed = try BinaryRunner.run(["launch", "--json", "--nproc", "2", "--config", config, "--run-dir", run, "--resume", "--epochs", "6"],
                                           timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("[coordinator] plateau at step"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("[coordinator] early stopping at step"), resumed.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["stopped_early"] as? Bool, true)
        XCTAssertEqual(summary["epochs_completed"] as? Int, 3)

        let records = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let decisions = records.filter { $0["event"] as? String == "schedule" }
        XCTAssertEqual(decisions.count, 3, "\(decisions)")
        XCTAssertEqual(decisions.map { $0["decided_by"] as? String }, Array(repeating: "coordinator", count: 3))
        XCTAssertEqual(decisions.map { $0["reduced_lr"] as? Bool }, [false, true, true])
        XCTAssertEqual(decisions.map { $0["stop"] as? Bool }, [false, false, true])
        for (d, lr) in zip(decisions, [0.05, 0.025, 0.0125]) { XCTAssertEqual(d["lr"] as? Double ?? 0, lr, accuracy: 1e-7) }
        let validations = records.filter { $0["event"] as? String == "validation" }
        XCTAssertEqual(validations.map { $0["step"] as? Int }, decisions.map { $0["step"] as? Int })
        XCTAssertEqual(validations.map { $0["val_loss"] as? Double }, decisions.map { $0["metric"] as? Double },
                       "the coordinator decided on the loss reduced over both ranks")
        // Every rank trained each epoch at the rate decided before it (the first cut comes at
        // the end of epoch 1, the second, after the resume, at the end of epoch 2).
        for (epoch, lr) in [(0, 0.05), (1, 0.05), (2, 0.025)] {
            let train = records.filter { $0["event"] as? String == "train" && $0["epoch"] as? Int == epoch }
            XCTAssertFalse(train.isEmpty, "epoch \(epoch)")
            for r in train { XCTAssertEqual(r["lr"] as? Double ?? 0, lr, accuracy: 1e-7, "epoch \(epoch)") }
        }
        try assertRunDirectoryIsComplete(run, world: 2)
    }

    /// Early stopping mid-epoch in a distributed run, with restore_best: the coordinator says
    /// why it stopped, the run ends with a checkpoint of its last step, and the test figures
    /// are those of the best validation's weights, whose checkpoint outlives
    /// keep_checkpoints 1. Two workers take 6 steps an epoch; validations at steps 2 and 4,
    /// where nothing counts as an improvement (min_delta 100) and patience 1 stops the run.
    func testRestoreBestAfterAMidEpochEarlyStopAcrossTwoWorkers() throws {
        let (config, run) = try setUpRun(epochs: 3, extra: """
            , "schedule": {"type": "constant", "early_stopping": {"patience": 1, "min_delta": 100}}
            """)
        let r = try BinaryRunner.run(["launch", "--json", "--nproc", "2", "--config", config, "--run-dir", run, "--eval-every", "2",
                                      "--restore-best", "--checkpoint-every", "0", "--keep-checkpoints", "1"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("[coordinator] early stopping at step 4 (epoch 1): val_loss has not improved on "), r.stderr)
        XCTAssertTrue(r.stderr.contains("validation at step 2 (epoch 1)"), r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["final_step"] as? Int, 4)
        XCTAssertEqual(summary["last_checkpoint"] as? String, "checkpoints/step-00000004.safetensors")
        let records = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let validations = records.filter { $0["event"] as? String == "validation" }
        XCTAssertEqual(validations.map { $0["step"] as? Int }, [2, 4])
        let best = validations.min { ($0["val_loss"] as! Double) < ($1["val_loss"] as! Double) }!["step"] as! Int
        XCTAssertEqual(summary["test_step"] as? Int, best)
        let tested = "checkpoints/" + String(format: "step-%08d.safetensors", best)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + tested), "the tested weights' checkpoint is kept")
        if best != 4 { XCTAssertEqual(summary["best_checkpoint"] as? String, tested) }
        let e = try BinaryRunner.run(["evaluate", "--checkpoint", run + "/" + tested, "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(try XCTUnwrap(report["top1"] as? Double), try XCTUnwrap(summary["test_top1"] as? Double), accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(report["loss"] as? Double), try XCTUnwrap(summary["test_loss"] as? Double), accuracy: 1e-6)
    }

    /// Bad input under `launch` is reported as what it is: exit 2 with the reader's message
    /// naming the directory (as `train` says it), not exit 3 and a lost peer.
    func testBadInputEndsTheRunWithExitTwoAndTheReadersMessage() throws {
        let (config, run) = try setUpRun()
        let missing = NSTemporaryDirectory() + "ringtrain-no-such-data-\(UUID().uuidString)"
        let r = try BinaryRunner.run(["launch", "--nproc", "2", "--config", config, "--run-dir", run, "--data", missing], timeout: 120)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("error: [coordinator] worker rank "), r.stderr)
        XCTAssertTrue(r.stderr.contains("failed: [worker] \(missing): directory: does not exist or is not a directory"), r.stderr)
        XCTAssertFalse(r.stderr.contains("lost worker") || r.stderr.contains("connection closed by peer"), r.stderr)
    }

    /// Starts `launch` with `arguments`, waits for its ring of `workers` and a first checkpoint;
    /// returns the process, its stderr pipe, the log so far and the workers' pids.
    func startLaunch(_ arguments: [String], workers: Int, run: String) throws -> (Process, Pipe, String, [Int32]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binaryPath)
        process.arguments = ["launch"] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        var log = ""
        let start = Date()
        while Date().timeIntervalSince(start) < 60 {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
            if log.contains("ring of \(workers) formed"), FileManager.default.fileExists(atPath: run + "/checkpoints/latest") { break }
        }
        var pids: [Int32] = []
        for line in log.split(separator: "\n") where line.contains("registered:") {
            if let r = line.range(of: "pid "), let pid = Int32(line[r.upperBound...].split(separator: ",")[0]) { pids.append(pid) }
        }
        return (process, err, log, pids)
    }

    /// A process that exists and is not a zombie (an orphan's zombie waits for a reaper).
    func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// SIGKILL of an elastic `launch` (its coordinator with it): no worker is left behind to
    /// wait for a coordinator that cannot return. SIGTERM of a `launch` ends the whole tree
    /// promptly, with 128 + 15.
    func testWorkersDieWithTheirLaunchAndSIGTERMIsPrompt() throws {
        let (config, run) = try setUpRun(epochs: 1000)
        let (elastic, _, log, pids) = try startLaunch(["--nproc", "3", "--min-workers", "2", "--config", config, "--run-dir", run],
                                                      workers: 3, run: run)
        XCTAssertEqual(pids.count, 3, log)
        kill(elastic.processIdentifier, SIGKILL)
        elastic.waitUntilExit()
        let killed = Date()
        while pids.contains(where: alive) && Date().timeIntervalSince(killed) < 10 { usleep(20_000) }
        XCTAssertFalse(pids.contains(where: alive), "orphaned workers: \(pids.filter(alive))")
        XCTAssertLessThan(Date().timeIntervalSince(killed), 3)
        for pid in pids where alive(pid) { kill(pid, SIGKILL) }

        let (config2, run2) = try setUpRun(epochs: 1000)
        let (plain, _, log2, pids2) = try startLaunch(["--nproc", "2", "--config", config2, "--run-dir", run2], workers: 2, run: run2)
        XCTAssertEqual(pids2.count, 2, log2)
        let termAt = Date()
        kill(plain.processIdentifier, SIGTERM)
        plain.waitUntilExit()
        XCTAssertEqual(plain.terminationStatus, 128 + 15)
        XCTAssertFalse(pids2.contains(where: alive), "workers left: \(pids2.filter(alive))")
        XCTAssertLessThan(Date().timeIntervalSince(termAt), 2, "no 5 s grace period spent on workers that ignore SIGTERM")
    }

    /// The documented files and fields, a falling loss, and checkpoints that verify (the
    /// coordinator only writes one when every rank's weights hash agrees).
    func assertRunDirectoryIsComplete(_ run: String, world: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/summary.json"))) as! [String: Any]
        for key in ["final_step", "test_top1", "test_top5", "images_per_sec", "wall_seconds", "world_size", "compression_ratio",
                    "compute_seconds", "communication_wait_seconds", "bytes_sent", "bytes_raw"] {
            XCTAssertNotNil(summary[key], "summary.json lacks \(key)", file: file, line: line)
        }
        XCTAssertEqual(summary["world_size"] as? Int, world, file: file, line: line)
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let losses = records.compactMap { $0["loss"] as? Double }
        XCTAssertGreaterThanOrEqual(losses.count, 2, file: file, line: line)
        XCTAssertLessThan(losses.last!, losses.first!, "the loss falls", file: file, line: line)
        for r in records where r["loss"] != nil {
            for key in ["step", "epoch", "loss", "lr", "images_per_sec", "bytes_sent", "bytes_raw"] {
                XCTAssertNotNil(r[key], "metrics record lacks \(key)", file: file, line: line)
            }
        }
        XCTAssertTrue(records.contains { $0["val_loss"] != nil && $0["val_top1"] != nil && $0["val_top5"] != nil }, file: file, line: line)
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.hasSuffix(".safetensors") }
        XCTAssertFalse(checkpoints.isEmpty, file: file, line: line)
        for c in checkpoints {
            XCTAssertEqual(try BinaryRunner.run(["checkpoint", "verify", run + "/checkpoints/" + c]).status, 0, c, file: file, line: line)
        }
    }

    /// launch takes the coordinator's --stall-seconds, checked like it.
    func testLaunchTakesStallSeconds() throws {
        let r = try BinaryRunner.run(["launch", "--nproc", "2", "--stall-seconds", "0"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--stall-seconds must be a positive number"), r.stderr)
        XCTAssertTrue(try BinaryRunner.run(["launch", "--help"]).stdout.contains("--stall-seconds"))
    }

    /// Killing a worker mid-run ends the job with exit 3 (resumable) within the deadline, and
    /// no process of the job survives.
    func testLostWorkerEndsRunWithExitThreeAndNoStragglers() throws {
        let (config, run) = try setUpRun(epochs: 1000)
        // Wait for the ring, then for a checkpoint, reading worker pids from the coordinator's log.
        let (process, err, firstLog, pids) = try startLaunch(["--nproc", "2", "--config", config, "--run-dir", run], workers: 2, run: run)
        var log = firstLog
        XCTAssertEqual(pids.count, 2, log)
        guard pids.count == 2 else { process.terminate(); return }
        kill(pids[1], SIGKILL)
        let killedAt = Date()
        process.waitUntilExit()
        log += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 3, log)
        XCTAssertLessThan(Date().timeIntervalSince(killedAt), 60, "the loss is noticed quickly")
        XCTAssertTrue(log.contains("lost worker") || log.contains("failed"), log)
        usleep(200_000)
        XCTAssertNotEqual(kill(pids[0], 0), 0, "the surviving worker is gone too")
        let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try BinaryRunner.run(["checkpoint", "verify", run + "/checkpoints/" + latest]).status, 0, "the last checkpoint verifies")
    }
}
