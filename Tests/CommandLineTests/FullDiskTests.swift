import Foundation
import TestSupport
import XCTest

/// A run directory on a small tmpfs that fills up: the checkpoint that does not fit fails
/// with a warning naming it, training goes on to the end, and the last checkpoint that did
/// fit stays valid and resumable.
final class FullDiskTests: XCTestCase {
    var cleanup: [String] = []
    var mountPoint: String?

    override func tearDown() {
        if let mountPoint { _ = try? LocalProcesses.run("/bin/umount", [mountPoint]) }
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    /// A config and a run directory on a tmpfs with room for `checkpoints` checkpoints and
    /// `spareKiB` more, not for the nine a 3-epoch run writes (sized from a run on the
    /// ordinary disk).
    func smallDisk(roomFor checkpoints: Double = 2.5, spareKiB: Int = 48) throws -> (dir: String, config: String, run: String) {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-fulldisk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/small", withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 3).utf8).write(to: URL(fileURLWithPath: config))
        let probe = try BinaryRunner.run(["train", "--config", config, "--run-dir", dir + "/probe", "--epochs", "1"])
        XCTAssertEqual(probe.status, 0, probe.stderr)
        let checkpoint = try FileManager.default.contentsOfDirectory(atPath: dir + "/probe/checkpoints")
            .first { $0.hasSuffix(".safetensors") }!
        let size = try FileManager.default.attributesOfItem(atPath: dir + "/probe/checkpoints/" + checkpoint)[.size] as! Int
        let kib = (Int(checkpoints * Double(size)) + spareKiB * 1024) / 1024
        let mount = try LocalProcesses.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kib)k", "ringtrain-test", dir + "/small"])
        try XCTSkipIf(mount.status != 0, "mounting a tmpfs needs root (scripts/test.sh runs as root): \(mount.output)")
        mountPoint = dir + "/small"
        return (dir, config, dir + "/small/run")
    }

    /// Two workers on the full disk: the run still ends with exit 0 and its summary on stdout;
    /// a summary.json that does not fit is a warning.
    func testAFullDiskEndsADistributedRunWithItsSummary() throws {
        // Room for one checkpoint and a few KiB: by the end not even summary.json fits.
        let (_, config, run) = try smallDisk(roomFor: 1.2, spareKiB: 8)
        let r = try BinaryRunner.run(["launch", "--nproc", "2", "--json", "--config", config, "--run-dir", run], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("checkpoint at step") && r.stderr.contains("failed (the previous one stays valid)"), r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(summary?["test_top1"] as? Double, r.stdout)
        XCTAssertTrue(r.stderr.contains("warning: cannot write \(run)/summary.json (the summary is printed on stdout instead)"), r.stderr)
    }

    func testAFullDiskCostsTheCheckpointNotTheRun() throws {
        let (dir, config, run) = try smallDisk()
        let r = try BinaryRunner.run(["train", "--json", "--config", config, "--run-dir", run])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: checkpoint at step"), r.stderr)
        XCTAssertTrue(r.stderr.contains("failed (the previous one stays valid; training goes on)"), r.stderr)
        // The run went to the end: the summary is printed on stdout; summary.json is written if it still fits, and if
        // not, a warning says so (the disk is full by then, by design of this test).
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(summary?["test_top1"] as? Double, r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/summary.json")
                      || r.stderr.contains("warning: cannot write \(run)/summary.json"), r.stderr)

        // The resume point is intact: `latest` names a checkpoint that verifies, and resuming
        // (elsewhere, with room) from it works.
        let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try BinaryRunner.run(["checkpoint", "verify", run + "/checkpoints/" + latest]).status, 0, latest)
        let saved = try FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints").filter { $0.hasSuffix(".safetensors") }
        XCTAssertLessThan(saved.count, 9, "some checkpoints did not fit: \(saved)")
        XCTAssertGreaterThanOrEqual(saved.count, 1)
        let copy = dir + "/resumed"
        XCTAssertEqual(try LocalProcesses.run("/bin/cp", ["-r", run, copy]).status, 0)
        let resumed = try BinaryRunner.run(["train", "--config", config, "--run-dir", copy, "--resume", "--epochs", "4"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resumed from"), resumed.stderr)
    }
}
