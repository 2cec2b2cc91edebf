import Foundation
import TestSupport
import XCTest

/// L1, accumulation, the weight average and undersampling in a 2-worker `launch`, then the
/// checkpoints through evaluate (EMA weights, weighted and voting ensembles, test-time
/// augmentation), predict and export.
final class ToolkitCommandTests: XCTestCase {
    var cleanup: [String] = []

    override func tearDown() {
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    func testTwoWorkerToolkitRunThenEnsemblesEMAAndTTA() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-toolkit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 3, extra: """
            , "l1": 1e-4, "accumulate_steps": 2, "ema_decay": 0.9, "sampler": "undersample", "samples_per_class": 40,
            "augmentation": {"crop_padding": 1}
            """).utf8).write(to: URL(fileURLWithPath: config))
        let run = dir + "/run"
        let r = try BinaryRunner.run(["launch", "--json", "--nproc", "2", "--config", config, "--run-dir", run], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try json(r.stdout)
        // 160 samples an epoch, 2 workers x 2 micro-batches of 16 per step: 3 steps an epoch.
        XCTAssertEqual(summary["final_step"] as? Int, 9)
        let emaTop1 = try XCTUnwrap(summary["ema_test_top1"] as? Double)
        XCTAssertTrue(r.stderr.contains("(EMA: loss "), r.stderr)
        XCTAssertTrue(r.stderr.contains("(incl. l1 "), r.stderr)
        let records = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { try json(String($0)) }
        XCTAssertNotNil(records.first { $0["event"] as? String == "train" }?["l1_penalty"] as? Double)

        let checkpoints = (summary["checkpoints"] as? [String] ?? []).map { run + "/" + $0 }
        XCTAssertGreaterThanOrEqual(checkpoints.count, 2)
        let last = checkpoints.last!, earlier = checkpoints[checkpoints.count - 2]

        let ema = try BinaryRunner.run(["evaluate", "--checkpoint", last, "--weights", "ema", "--json"])
        XCTAssertEqual(ema.status, 0, ema.stderr)
        XCTAssertEqual(try XCTUnwrap(try json(ema.stdout)["top1"] as? Double), emaTop1, accuracy: 1e-9, "the EMA figures of training and of evaluate agree")

        let vote = try BinaryRunner.run(["evaluate", "--checkpoint", last, earlier, "--combine", "vote", "--weights", "0.7,0.3",
                                         "--tta", "flip,crops", "--json"])
        XCTAssertEqual(vote.status, 0, vote.stderr)
        let report = try json(vote.stdout)
        XCTAssertEqual(report["combine"] as? String, "vote")
        let members = try XCTUnwrap(report["members"] as? [[String: Any]])
        XCTAssertEqual(members.map { $0["weight"] as? Double }, [0.7, 0.3])
        XCTAssertNotNil((members[0]["tta"] as? [String: Any])?["top1"] as? Double)
        XCTAssertNotNil((report["tta_figures"] as? [String: Any])?["top1"] as? Double)
        // Two voters weighted 0.7 / 0.3: the first always wins, so the vote's top-1 is its own.
        XCTAssertEqual(try XCTUnwrap(report["top1"] as? Double), try XCTUnwrap((members[0]["plain"] as? [String: Any])?["top1"] as? Double))

        let text = try BinaryRunner.run(["evaluate", "--checkpoint", last, earlier, "--weights", "validation", "--tta", "flip"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("member 1 ") && text.stdout.contains("member 2 ") && text.stdout.contains("with tta flip (2 views)"), text.stdout)
        XCTAssertTrue(text.stderr.contains("trained without augmentation.horizontal_flip"), text.stderr)

        let bad = try BinaryRunner.run(["evaluate", "--checkpoint", last, earlier, "--weights", "0.5"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("1 weights for 2 checkpoints"), bad.stderr)

        let predict = try BinaryRunner.run(["predict", "--checkpoint", last, "--checkpoint", earlier, "--combine", "vote", "--weights", "ema",
                                            "--top-k", "1", "--json", data])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        XCTAssertEqual(predict.stdout.split(separator: "\n").count, 60, "one line per test image")

        let onnx = dir + "/ema.onnx"
        let export = try BinaryRunner.run(["export", last, "--weights", "ema", "--out", onnx])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.contains("its weight average"), export.stdout)
    }
}

/// `ringtrain lr-find` writes its curve and `ringtrain report` draws it.
final class LearningRateFinderCommandTests: XCTestCase {
    func testLRFindThenReport() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-lrfind-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data).utf8).write(to: URL(fileURLWithPath: config))
        let run = dir + "/sweep"
        let r = try BinaryRunner.run(["lr-find", "--config", config, "--run-dir", run, "--start-lr", "1e-4", "--end-lr", "20", "--steps", "40"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("suggested lr "), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/lr_find.json"))
        let page = dir + "/report.html"
        let report = try BinaryRunner.run(["report", run, "--out", page])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("Learning-rate finder") && html.contains("suggested learning rate"), html)
        let bad = try BinaryRunner.run(["lr-find", "--config", config, "--run-dir", run, "--start-lr", "1", "--end-lr", "0.1"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--start-lr"), bad.stderr)
    }

    /// `lr-find --nproc 2`: the sweep runs on a 2-worker ring, the coordinator writes the
    /// curve, and the ring's curve is reproducible from the seed (a second sweep writes the
    /// same file).
    func testTwoWorkerLRFindIsReproducible() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-lrfind2-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data).utf8).write(to: URL(fileURLWithPath: config))
        var curves: [Data] = []
        for name in ["first", "second"] {
            let run = dir + "/" + name
            let r = try BinaryRunner.run(["lr-find", "--nproc", "2", "--config", config, "--run-dir", run,
                                          "--start-lr", "1e-4", "--end-lr", "20", "--steps", "30"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasPrefix("suggested lr "), r.stdout)
            XCTAssertTrue(r.stderr.contains("starting 2 workers") && r.stderr.contains("[coordinator] ring: rank 0"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/summary.json"))
            curves.append(try Data(contentsOf: URL(fileURLWithPath: run + "/lr_find.json")))
        }
        XCTAssertEqual(curves[0], curves[1])
        let curve = try JSONSerialization.jsonObject(with: curves[0]) as! [String: Any]
        let losses = try XCTUnwrap(curve["losses"] as? [Double])
        XCTAssertGreaterThan(losses.count, 10)
        XCTAssertNotNil(curve["suggested_lr"] as? Double)
        let resumed = try BinaryRunner.run(["lr-find", "--nproc", "2", "--config", config, "--run-dir", dir + "/first", "--resume"])
        XCTAssertEqual(resumed.status, 2)
        XCTAssertTrue(resumed.stderr.contains("--resume"), resumed.stderr)
    }
}

/// `ringtrain cv`: three stratified folds through `launch --nproc 2`, a stopped cv continued
/// by the same command to the figures of an uninterrupted one, and the report's cv view.
final class CrossValidationCommandTests: XCTestCase {
    func testStoppedCVContinuesToTheUninterruptedFigures() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-cv-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 6, checkpointEvery: 2).utf8).write(to: URL(fileURLWithPath: config))
        let arguments = ["cv", "--config", config, "--folds", "3", "--stratified", "--nproc", "2", "--json"]

        let straight = try BinaryRunner.run(arguments + ["--dir", dir + "/straight"], timeout: 300)
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let expected = try JSONSerialization.jsonObject(with: Data(straight.stdout.utf8)) as! [String: Any]
        let folds = try XCTUnwrap(expected["per_fold"] as? [[String: Any]])
        XCTAssertEqual(folds.count, 3)
        XCTAssertNotNil(expected["ensemble_test_top1"] as? Double)
        XCTAssertNotNil((expected["val_top1"] as? [String: Any])?["std"] as? Double)

        // Stop the cv once fold 1 has a checkpoint, then continue it.
        let stopped = dir + "/stopped"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryRunner.binaryPath)
        process.arguments = arguments + ["--dir", stopped]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: stopped + "/fold-1/checkpoints")) ?? []
            if names.contains(where: { $0.hasPrefix("step-") }) { break }
            usleep(20_000)
        }
        process.terminate()
        process.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: stopped + "/cv.json"), "stopped before the end")
        let continued = try BinaryRunner.run(arguments + ["--dir", stopped], timeout: 300)
        XCTAssertEqual(continued.status, 0, continued.stderr)
        XCTAssertTrue(continued.stderr.contains("[cv] fold-0: finished earlier"), continued.stderr)
        XCTAssertTrue(continued.stderr.contains("[cv] fold-1 of 3 (resuming)") || continued.stderr.contains("[cv] fold-1: finished earlier"), continued.stderr)
        let got = try JSONSerialization.jsonObject(with: Data(continued.stdout.utf8)) as! [String: Any]
        for key in ["val_top1", "val_loss"] {
            XCTAssertEqual((got[key] as? [String: Any])?["mean"] as? Double, (expected[key] as? [String: Any])?["mean"] as? Double, key)
        }
        XCTAssertEqual(got["ensemble_test_top1"] as? Double, expected["ensemble_test_top1"] as? Double)

        let page = dir + "/cv.html"
        let report = try BinaryRunner.run(["report", stopped, "--out", page])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("Cross-validation") && html.contains("fold-2"), html)
    }
}
