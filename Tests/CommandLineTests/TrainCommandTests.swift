import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import XCTest

final class TrainCommandTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "ringtrain-cli-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: temp)
    }

    /// A short real-data run through the binary: Fashion-MNIST, 10% of the training split
    /// (47 steps), then evaluate and checkpoint verify on what it wrote.
    func testShortRealFashionMNISTRunThenEvaluateAndVerify() throws {
        let run = temp + "/run"
        let r = try BinaryRunner.run(["train", "--json", "--run-dir", run, "--epochs", "1", "--validation-fraction", "0.9",
                                      "--threads", "2", "--seed", "7"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let top1 = try XCTUnwrap(summary["test_top1"] as? Double)
        XCTAssertGreaterThan(top1, 0.70, "47 steps of SGD reach well over 70% on Fashion-MNIST")
        XCTAssertTrue(r.stderr.contains("epoch 1/1"), "progress line: \(r.stderr)")

        let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let checkpoint = run + "/checkpoints/" + latest
        // last_checkpoint is relative to the run directory, as the checkpoints list is.
        XCTAssertEqual(summary["last_checkpoint"] as? String, "checkpoints/" + latest)
        XCTAssertEqual((summary["checkpoints"] as? [String])?.last, "checkpoints/" + latest)
        let e = try BinaryRunner.run(["evaluate", "--checkpoint", checkpoint, "--json"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(try XCTUnwrap(report["top1"] as? Double), top1, accuracy: 1e-9, "evaluate agrees with training's test pass")
        XCTAssertEqual((report["confusion_matrix"] as? [[Int]])?.count, 10)

        XCTAssertEqual(try BinaryRunner.run(["checkpoint", "verify", checkpoint]).status, 0)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        bytes[bytes.count / 2] ^= 1
        let corrupt = temp + "/corrupt.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: corrupt))
        let v = try BinaryRunner.run(["checkpoint", "verify", corrupt])
        XCTAssertEqual(v.status, 1)
        XCTAssertTrue(v.stderr.contains("corrupt.safetensors"), v.stderr)
    }

    func testBadConfigAndResumeWithoutCheckpointExitTwo() throws {
        let config = temp + "/bad.json"
        try Data(#"{"epochs": 2, "learning_rate": 0.1}"#.utf8).write(to: URL(fileURLWithPath: config))
        let r = try BinaryRunner.run(["train", "--config", config, "--run-dir", temp + "/never"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("learning_rate"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp + "/never/config.json"))

        let resume = try BinaryRunner.run(["train", "--run-dir", temp + "/empty", "--resume"])
        XCTAssertEqual(resume.status, 2)
        XCTAssertTrue(resume.stderr.contains("no valid checkpoint"), resume.stderr)

        let range = try BinaryRunner.run(["train", "--lr=-3", "--run-dir", temp + "/never"])
        XCTAssertEqual(range.status, 2)
        XCTAssertTrue(range.stderr.contains("'lr'"), range.stderr)

        // A config from a pipe (what `--config <(...)` gives) is read to its end: the error
        // is about its content, not "cannot read".
        let fifo = temp + "/config.fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let writer = Thread {
            if let h = FileHandle(forWritingAtPath: fifo) { h.write(Data(#"{"epochs": 0}"#.utf8)); h.closeFile() }
        }
        writer.start()
        let piped = try BinaryRunner.run(["train", "--config", fifo, "--run-dir", temp + "/never"])
        XCTAssertEqual(piped.status, 2)
        XCTAssertTrue(piped.stderr.contains("'epochs'") && !piped.stderr.contains("cannot read"), piped.stderr)
    }

    /// The most-changed settings as flags land in the resolved config (config.json).
    func testCommonSettingsAsFlags() throws {
        let data = try SyntheticDataset.writeIDX()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = temp + "/flags.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 2).utf8).write(to: URL(fileURLWithPath: config))
        let run = temp + "/flags"
        let classes = SyntheticDataset.classes
        let r = try BinaryRunner.run(["train", "--config", config, "--run-dir", run,
                                      "--class-weights", (0..<classes).map { _ in "1" }.joined(separator: ","),
                                      "--sampler", "balanced", "--eval-every", "3", "--stop-at-epoch", "1",
                                      "--warmup-steps", "2", "--min-lr", "0.001", "--early-stopping", "4",
                                      "--flip", "--crop-padding", "1", "--mixup", "0.2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let resolved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/config.json"))) as! [String: Any]
        XCTAssertEqual((resolved["class_weights"] as? [Double])?.count, classes)
        XCTAssertEqual(resolved["sampler"] as? String, "balanced")
        XCTAssertEqual(resolved["eval_every"] as? Int, 3)
        XCTAssertEqual(resolved["stop_at_epoch"] as? Int, 1)
        let schedule = try XCTUnwrap(resolved["schedule"] as? [String: Any])
        XCTAssertEqual(schedule["warmup_steps"] as? Int, 2)
        XCTAssertNil(schedule["warmup_fraction"])
        XCTAssertEqual(schedule["min_lr"] as? Double, 0.001)
        XCTAssertEqual((schedule["early_stopping"] as? [String: Any])?["patience"] as? Int, 4)
        let augmentation = try XCTUnwrap(resolved["augmentation"] as? [String: Any])
        XCTAssertEqual(augmentation["horizontal_flip"] as? Bool, true)
        XCTAssertEqual(augmentation["crop_padding"] as? Int, 1)
        XCTAssertEqual(augmentation["mixup"] as? Double, 0.2)
        // Checked like the keys: dropout needs a dropout layer, warm-up a cosine schedule.
        let dropout = try BinaryRunner.run(["train", "--config", config, "--run-dir", temp + "/never", "--dropout", "0.3"])
        XCTAssertEqual(dropout.status, 2)
        XCTAssertTrue(dropout.stderr.contains("no dropout layer"), dropout.stderr)
        let warmup = try BinaryRunner.run(["train", "--config", config, "--run-dir", temp + "/never", "--schedule", "constant", "--warmup-steps", "3"])
        XCTAssertEqual(warmup.status, 2)
        XCTAssertTrue(warmup.stderr.contains("option --warmup-steps: is a setting of the cosine schedule"), warmup.stderr)
    }

    /// A learning rate that blows the loss up ends the run with a message that says so and
    /// what to change (not a JSON error about writing NaN), and exit 1.
    func testDivergingRunSaysSo() throws {
        let data = try SyntheticDataset.writeIDX()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = temp + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 3, extra: #", "schedule": {"type": "constant"}"#).utf8)
            .write(to: URL(fileURLWithPath: config))
        let r = try BinaryRunner.run(["train", "--config", config, "--lr", "90", "--run-dir", temp + "/run"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("training diverged: the loss is"), r.stderr)
        XCTAssertTrue(r.stderr.contains("lower lr"), r.stderr)
        // Every metrics line written before is still valid JSON.
        let lines = (try? String(contentsOfFile: temp + "/run/metrics.jsonl", encoding: .utf8))?.split(separator: "\n") ?? []
        for line in lines { XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line.utf8)), String(line)) }
    }

    /// A checkpoint of another model dropped into the run as the newest file is skipped on
    /// resume with a warning naming it, in favour of the previous good checkpoint.
    func testResumeSkipsACheckpointOfAnotherModel() throws {
        let data = try SyntheticDataset.writeIDX()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let config = temp + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 1).utf8).write(to: URL(fileURLWithPath: config))
        let run = temp + "/run"
        let first = try BinaryRunner.run(["train", "--config", config, "--run-dir", run])
        XCTAssertEqual(first.status, 0, first.stderr)
        // Without --json the end of a run is a few lines a person reads; the JSON stays in summary.json.
        let lines = first.stdout.split(separator: "\n")
        XCTAssertLessThanOrEqual(lines.count, 5, first.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("test: top-1 ") }, first.stdout)
        XCTAssertTrue(lines.contains { $0 == "summary: \(run)/summary.json (--json prints it here)" }, first.stdout)
        XCTAssertNotNil(FileManager.default.contents(atPath: run + "/summary.json"))
        let other = temp + "/other"
        XCTAssertEqual(try BinaryRunner.run(["train", "--config", config, "--run-dir", other, "--model", "fashion-cnn",
                                             "--epochs", "1"]).status, 0)
        let foreign = try FileManager.default.contentsOfDirectory(atPath: other + "/checkpoints").first { $0.hasSuffix(".safetensors") }!
        let planted = run + "/checkpoints/step-00099999.safetensors"
        try FileManager.default.copyItem(atPath: other + "/checkpoints/" + foreign, toPath: planted)

        let r = try BinaryRunner.run(["train", "--config", config, "--run-dir", run, "--resume", "--epochs", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("skipping checkpoint \(planted): it is a checkpoint of another model (fashion-cnn)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("resumed from \(run)/checkpoints/step-00000012.safetensors"), r.stderr)
    }

    /// Choices are enums: `--help` lists their values, and a typo is bad usage (exit 2) that
    /// names the valid ones, before any config or data is read.
    func testChoicesAreListedAndATypoNamesTheValidOnes() throws {
        let help = try BinaryRunner.run(["train", "--help"])
        // The help wraps at the terminal width: compare with the line breaks folded into spaces.
        let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for listed in ["(values: sgd, adamw)", "(values: none, zstd, bf16-zstd, auto)", "(values: shuffled, balanced, undersample)",
                       "(values: imagenet, cifar)"] {
            XCTAssertTrue(flat.contains(listed), "\(listed): \(help.stdout)")
        }
        for (flag, typo, valid) in [("--optimizer", "adam", "'sgd' and 'adamw'"), ("--codec", "zstd1", "'bf16-zstd'"),
                                    ("--schedule", "cosin", "- cosine"), ("--sampler", "balance", "'balanced'")] {
            let r = try BinaryRunner.run(["train", flag, typo, "--data", temp + "/not-read"])
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains("The value '\(typo)' is invalid for '\(flag)"), r.stderr)
            XCTAssertTrue(r.stderr.contains(valid), r.stderr)
            XCTAssertFalse(r.stderr.contains("not-read"), "refused before the data is looked at: \(r.stderr)")
        }
    }
}
