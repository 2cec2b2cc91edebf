import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `ringtrain tune` with the real binary on a synthetic dataset: successive halving, the
/// table, the best config, and continuing after an interruption.
final class TuneCommandTests: XCTestCase {
    var cleanup: [String] = []
    override func tearDown() { for p in cleanup { try? FileManager.default.removeItem(atPath: p) } }

    func testHalvingSearchIsInterruptedAndContinues() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-tune-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        try Data(SyntheticDataset.configJSON(data: data, epochs: 4).utf8).write(to: URL(fileURLWithPath: dir + "/base.json"))
        try Data(#"{"lr": {"log_uniform": [0.005, 0.3]}, "momentum": {"choice": [0.0, 0.9]}}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/space.json"))
        let arguments = ["tune", "--config", dir + "/base.json", "--space", dir + "/space.json", "--trials", "4",
                         "--method", "halving", "--eta", "2", "--dir", dir + "/tune"]

        // Start, and interrupt once two trial stages are recorded.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binaryPath)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        var done = 0
        while Date() < deadline && process.isRunning {
            done = stagesDone(dir + "/tune/tune.json")
            if done >= 2 { break }
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "the search ended before it could be interrupted")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        let before = stagesDone(dir + "/tune/tune.json")
        XCTAssertGreaterThanOrEqual(before, 2)
        XCTAssertLessThan(before, 7, "4 + 2 + 1 stages in all")

        // The same command continues: only the missing stages run.
        let r = try BinaryRunner.run(arguments, timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("continuing the search"), r.stderr)
        let stagesRun = r.stderr.split(separator: "\n").filter { $0.hasPrefix("[tune] trial-") && $0.contains(" to epoch ") }.count
        XCTAssertEqual(stagesRun, 7 - before, r.stderr)
        XCTAssertEqual(stagesDone(dir + "/tune/tune.json"), 7)

        // The table: every trial, best first with all 4 epochs; rung epochs 1, 2, 4.
        let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| rank") }
        XCTAssertEqual(rows.count, 4, r.stdout)
        XCTAssertTrue(rows[0].hasPrefix("| 1 | trial-") && rows[0].contains(" | 4 | "), r.stdout)
        XCTAssertTrue(r.stdout.contains("rung 3 (4 ep)"), r.stdout)
        XCTAssertEqual(try String(contentsOfFile: dir + "/tune/trials.md", encoding: .utf8), r.stdout)
        let best = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tune/best-config.json"))) as! [String: Any]
        XCTAssertEqual(best["stop_at_epoch"] as? Int, 0)
        XCTAssertEqual(best["epochs"] as? Int, 4)
        // Each trial is an ordinary run directory; the winner's has trained all 4 epochs.
        let winner = String(rows[0].split(separator: "|")[1].trimmingCharacters(in: .whitespaces))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tune/\(winner)/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["epochs_completed"] as? Int, 4)
    }

    /// `--metric val_macro_f1`: each trial's result is the macro-F1 of its last validation line.
    func testTrialsAreRankedByTheChosenMetric() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-tune-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        try Data(SyntheticDataset.configJSON(data: data, epochs: 1).utf8).write(to: URL(fileURLWithPath: dir + "/base.json"))
        try Data(#"{"lr": {"choice": [0.0001, 0.0003]}}"#.utf8).write(to: URL(fileURLWithPath: dir + "/space.json"))
        let r = try BinaryRunner.run(["tune", "--config", dir + "/base.json", "--space", dir + "/space.json", "--trials", "2",
                                      "--method", "grid", "--metric", "val_macro_f1", "--dir", dir + "/tune"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("val macro-F1 (1 ep)"), r.stdout)
        XCTAssertTrue(r.stderr.contains("[tune] best: trial-") && r.stderr.contains("with val macro-F1 "), r.stderr)
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/tune/tune.json"))) as! [String: Any]
        XCTAssertEqual(state["metric"] as? String, "val_macro_f1")
        for trial in state["trials"] as! [[String: Any]] {
            let name = String(format: "trial-%03d", trial["id"] as! Int)
            let lines = try String(contentsOfFile: dir + "/tune/\(name)/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            let last = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
                .last { $0["event"] as? String == "validation" }!
            XCTAssertEqual((trial["results"] as? [Double])?.first, last["val_macro_f1"] as? Double, name)
            XCTAssertNotEqual(last["val_macro_f1"] as? Double, last["val_top1"] as? Double, "a different figure than top-1")
        }
        let bad = try BinaryRunner.run(["tune", "--space", dir + "/space.json", "--metric", "f1", "--dir", dir + "/t2"], timeout: 60)
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("The value 'f1' is invalid for '--metric <metric>'. Please provide one of 'val_top1'"), bad.stderr)
    }

    func testBadSpaceIsRefusedWithExit2() throws {
        let dir = NSTemporaryDirectory() + "ringtrain-tune-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append(dir)
        try Data(#"{"learning_rate": {"choice": [0.1]}}"#.utf8).write(to: URL(fileURLWithPath: dir + "/space.json"))
        let r = try BinaryRunner.run(["tune", "--space", dir + "/space.json", "--dir", dir + "/t"], timeout: 60)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("learning_rate") && r.stderr.contains("space.json"), r.stderr)
    }

    func stagesDone(_ path: String) -> Int {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let trials = object["trials"] as? [[String: Any]] else { return 0 }
        return trials.reduce(0) { $0 + (($1["results"] as? [Any])?.count ?? 0) }
    }
}
