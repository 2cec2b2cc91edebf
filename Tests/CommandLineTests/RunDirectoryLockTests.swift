import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import XCTest

/// One writer per run directory: while a run writes RUN_DIR, a second `train` or `launch` with
/// the same `--run-dir` exits 2 naming the holder; a writer killed with SIGKILL leaves no stale
/// lock behind.
final class RunDirectoryLockTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "ringtrain-cli-lock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: temp)
    }

    func testASecondWriterIsRefusedAndAKilledOneLeavesNoLock() throws {
        let data = try SyntheticDataset.writeIDX()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = temp + "/config.json", run = temp + "/run"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 5000).utf8).write(to: URL(fileURLWithPath: config))

        let first = Process()
        first.executableURL = URL(fileURLWithPath: BinaryRunner.binaryPath)
        first.arguments = ["train", "--config", config, "--run-dir", run]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL); first.waitUntilExit() } }
        // Wait until it holds the lock and has written a checkpoint (so --resume has one).
        let deadline = Date().addingTimeInterval(60)
        let holder = "pid \(first.processIdentifier) on "
        while Date() < deadline {
            let line = (try? String(contentsOfFile: run + "/lock", encoding: .utf8)) ?? ""
            if line.hasPrefix(holder) && FileManager.default.fileExists(atPath: run + "/checkpoints/latest") { break }
            usleep(20_000)
        }
        XCTAssertTrue(first.isRunning, "the first run is still training")

        for arguments in [["train", "--config", config, "--run-dir", run, "--resume"],
                          ["launch", "--nproc", "2", "--config", config, "--run-dir", run, "--resume"]] {
            let second = try BinaryRunner.run(arguments, timeout: 60)
            XCTAssertEqual(second.status, 2, "\(arguments[0]): \(second.stderr)")
            XCTAssertTrue(second.stderr.contains("\(run) is being written by \(holder)"), second.stderr)
            XCTAssertTrue(second.stderr.contains("give another --run-dir"), second.stderr)
        }
        XCTAssertTrue(first.isRunning, "a refused writer does not disturb the one writing")

        // SIGKILL: no chance to clean up, yet the kernel drops the lock with the process.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let resumed = try BinaryRunner.run(["train", "--config", config, "--run-dir", run, "--resume", "--stop-at-epoch", "1"], timeout: 60)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertFalse(resumed.stderr.contains("is being written by"), resumed.stderr)
    }
}
