import Foundation
import TestSupport
import XCTest

/// `--timeline` and `--tensorboard` on a real 2-worker run, and the metrics.jsonl /
/// summary.json fields `ringtrain report` reads (docs/run-directory.md).
final class ObservabilityTests: XCTestCase {
    var cleanup: [String] = []

    override func tearDown() {
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func testTwoWorkerRunWritesTimelineTensorBoardAndReportFields() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-observe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 2, extra: #", "codec": "zstd""#).utf8)
            .write(to: URL(fileURLWithPath: config))
        let run = dir + "/run", timeline = dir + "/timeline.json", tensorboard = dir + "/tb"
        let r = try BinaryRunner.run(["launch", "--nproc", "2", "--config", config, "--run-dir", run,
                                      "--timeline", timeline, "--tensorboard", tensorboard], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)

        // The timeline: valid Chrome-trace JSON, both ranks, every phase named.
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: timeline))) as! [String: Any]
        let events = try XCTUnwrap(trace["traceEvents"] as? [[String: Any]])
        let spans = events.filter { $0["ph"] as? String == "X" }
        for e in spans {
            XCTAssertNotNil(e["ts"] as? Double, "\(e)")
            XCTAssertGreaterThanOrEqual(e["dur"] as? Double ?? -1, 0, "\(e)")
        }
        XCTAssertEqual(Set(spans.compactMap { $0["pid"] as? Int }), [0, 1])
        for rank in 0..<2 {
            let names = Set(spans.filter { $0["pid"] as? Int == rank }.compactMap { $0["name"] as? String })
            for phase in ["forward", "backward", "wait for all-reduce", "optimizer", "evaluate", "checkpoint",
                          "encode", "send", "receive", "reduce", "decode"] {
                XCTAssertTrue(names.contains(phase), "rank \(rank) has no '\(phase)' span: \(names.sorted())")
            }
            XCTAssertTrue(names.contains { $0.hasPrefix("all-reduce bucket ") }, "\(names.sorted())")
        }
        let processNames = events.filter { $0["name"] as? String == "process_name" }
        XCTAssertEqual(processNames.count, 2)

        // metrics.jsonl: the start line, per-worker train lines, confusion matrices, checkpoints.
        let records = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let start = try XCTUnwrap(records.first { $0["event"] as? String == "start" })
        XCTAssertEqual(start["world_size"] as? Int, 2)
        let classes = try XCTUnwrap(start["class_names"] as? [String]).count
        XCTAssertGreaterThanOrEqual(classes, 2)
        XCTAssertEqual((start["config"] as? [String: Any])?["codec"] as? String, "zstd")
        let train = records.filter { $0["event"] as? String == "train" }
        XCTAssertFalse(train.isEmpty)
        for t in train {
            let workers = try XCTUnwrap(t["workers"] as? [[String: Any]])
            XCTAssertEqual(workers.compactMap { $0["rank"] as? Int }, [0, 1])
            XCTAssertGreaterThan(workers.compactMap { $0["images_per_sec"] as? Double }.min() ?? 0, 0)
            XCTAssertGreaterThan(t["window_bytes_raw"] as? Int ?? 0, t["window_bytes_sent"] as? Int ?? .max, "zstd compresses")
            XCTAssertGreaterThan(t["step_compute_seconds"] as? Double ?? 0, 0)
        }
        let validation = records.filter { $0["event"] as? String == "validation" }
        XCTAssertEqual(validation.count, 2, "one per epoch")
        let valConfusion = try XCTUnwrap(validation.last?["val_confusion"] as? [Int])
        XCTAssertEqual(valConfusion.count, classes * classes)
        XCTAssertGreaterThan(valConfusion.reduce(0, +), 0)
        let checkpoints = records.filter { $0["event"] as? String == "checkpoint" }
        XCTAssertGreaterThanOrEqual(checkpoints.count, 2)
        for c in checkpoints {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + (c["path"] as? String ?? "?"))
                          || (c["path"] as? String ?? "").hasPrefix("checkpoints/step-"), "\(c)")
        }
        let test = try XCTUnwrap(records.first { $0["event"] as? String == "test" })
        XCTAssertEqual((test["test_confusion"] as? [Int])?.reduce(0, +), 60, "every test sample counted once")

        // summary.json: what the report shows without metrics.jsonl.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/summary.json"))) as! [String: Any]
        XCTAssertEqual((summary["class_names"] as? [String])?.count, classes)
        XCTAssertEqual((summary["test_confusion"] as? [Int])?.reduce(0, +), 60)
        let perClass = try XCTUnwrap(summary["per_class"] as? [[String: Any]])
        XCTAssertEqual(perClass.count, classes)
        XCTAssertEqual(perClass.compactMap { $0["support"] as? Int }.reduce(0, +), 60)
        let kept = try XCTUnwrap(summary["checkpoints"] as? [String])
        XCTAssertFalse(kept.isEmpty)
        for path in kept { XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + path), path) }
        XCTAssertNotNil(summary["config"] as? [String: Any])
        XCTAssertGreaterThan(summary["encode_seconds"] as? Double ?? 0, 0)

        // TensorBoard's own reader lists the scalars (scripts/check-tensorboard.sh installs it).
        let check = try ScriptRunner.run("scripts/check-tensorboard.sh",
                                         [tensorboard, "train/loss", "train/lr", "train/compression_ratio",
                                          "validation/val_top1", "test/test_top1",
                                          "workers/images_per_sec/rank0", "workers/images_per_sec/rank1"],
                                         timeout: 600)
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("scalar tags read by TensorBoard's EventAccumulator"), check.output)
    }

    func testBadTimelineStepsIsRefusedNamingTheKey() throws {
        let r = try BinaryRunner.run(["train", "--timeline", "/tmp/x.json", "--timeline-steps", "0", "--epochs", "1"], timeout: 60)
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("timeline_steps"), r.stderr)
    }
}
