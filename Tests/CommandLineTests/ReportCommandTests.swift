import Foundation
import TestSupport
import XCTest

/// `ringtrain report` on a real (tiny) run, then the page in a real browser:
/// scripts/check-report.sh screenshots it with headless Chromium and checks it is not blank.
final class ReportCommandTests: XCTestCase {
    var cleanup: [String] = []

    override func tearDown() {
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func makeTemporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "ringtrain-report-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append(dir)
        return dir
    }

    /// `chromium` on PATH, as scripts/check-report.sh looks for it.
    static var chromiumInstalled: Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/chromium") }
    }

    func testTinyRunReportRendersInABrowser() throws {
        // Not skipped: a missing browser is a broken test setup, not a reason to pass.
        guard Self.chromiumInstalled else {
            XCTFail("chromium is not on PATH: this test renders the report in headless Chromium; scripts/test.sh installs it (apt-get install chromium)")
            return
        }
        let data = try SyntheticDataset.writeIDX()
        cleanup.append(data)
        let dir = try makeTemporaryDirectory()
        let config = dir + "/config.json", run = dir + "/run"
        // One process with a cyclic schedule: a triangle every 6 steps, which a rate sampled
        // once per train line would alias away.
        try Data(SyntheticDataset.configJSON(data: data, epochs: 2, extra: """
            , "schedule": {"type": "cyclic", "base_lr": 0.001, "max_lr": 0.05, "step_size_up": 3}
            """).utf8).write(to: URL(fileURLWithPath: config))
        let train = try BinaryRunner.run(["train", "--config", config, "--run-dir", run], timeout: 120)
        XCTAssertEqual(train.status, 0, train.stderr)

        let report = try BinaryRunner.run(["report", run])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertEqual(report.stdout.trimmingCharacters(in: .whitespacesAndNewlines), run + "/report.html")
        let html = try String(contentsOfFile: run + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains(">Loss<") && html.contains(">Learning rate<"), "charts of the run")
        XCTAssertFalse(html.contains("run in progress"), "the run finished: summary.json exists")
        XCTAssertFalse(html.contains("http://") || html.contains("https://"))
        // Every peak of the 24-step run (steps 4, 10, 16, 22) is drawn.
        for peak in [4, 10, 16, 22] { XCTAssertTrue(html.contains("learning rate at step \(peak): 0.05<"), "peak at step \(peak)") }
        // No communication charts for one process; one line says why.
        XCTAssertFalse(html.contains(">Compression ratio<") || html.contains(">All-reduce bytes per step (rank 0)<"))
        XCTAssertTrue(html.contains("No all-reduce traffic (a single process)"))
        XCTAssertFalse(html.contains(">compression ratio<"), "no compression card for one process")
        XCTAssertFalse(html.contains(">no data yet<"), "every chart shown has data")

        let check = try ScriptRunner.run("scripts/check-report.sh", [run + "/report.html", dir + "/report.png"], timeout: 180)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("report.png OK"), check.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/report.png"))
    }

    func testOutOptionAndMissingInputs() throws {
        let dir = try makeTemporaryDirectory()
        let missing = try BinaryRunner.run(["report", dir + "/no-such-run"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains(dir + "/no-such-run"), missing.stderr)

        let noMetrics = try BinaryRunner.run(["report", dir])
        XCTAssertEqual(noMetrics.status, 2)
        XCTAssertTrue(noMetrics.stderr.contains(dir + "/metrics.jsonl"), noMetrics.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/report.html"))

        // A run in progress with a broken line: the page is written where --out says, the
        // warning goes to stderr.
        let lines = #"{"epoch":0,"loss":1.5,"lr":0.1,"step":50,"train_top1":0.4}"# + "\n" + "{not json\n"
            + #"{"epoch":0,"loss":1.2,"lr":0.1,"step":100,"train_top1":0.5}"# + "\n"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: dir + "/metrics.jsonl"))
        let out = dir + "/elsewhere.html"
        let r = try BinaryRunner.run(["report", dir, "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), out)
        XCTAssertTrue(r.stderr.contains("metrics.jsonl line 2"), r.stderr)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(html.contains("run in progress (no summary.json yet): step 100, epoch 1"))
    }
}
