import Checkpoints
import Foundation
import Training
import XCTest

final class BadInputTests: XCTestCase {
    func parse(_ json: String) throws -> TrainingConfig {
        try TrainingConfig.parse(json: Data(json.utf8), source: "test.json")
    }

    func assertRejected(_ json: String, key: String, line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), line: line) { error in
            let e = error as? ConfigurationError
            XCTAssertEqual(e?.key, key, "\(error)", line: line)
            XCTAssertTrue("\(error)".contains("test.json"), line: line)
        }
    }

    func testUnknownKeyWrongTypeAndOutOfRangeNameTheKey() throws {
        XCTAssertEqual(try parse("{}"), TrainingConfig())
        assertRejected(#"{"epochz": 3}"#, key: "epochz")
        assertRejected(#"{"augmentation": {"flip": true}}"#, key: "augmentation.flip")
        assertRejected(#"{"epochs": "three"}"#, key: "epochs")
        assertRejected(#"{"lr": -1}"#, key: "lr")
        assertRejected(#"{"batch_size": 0}"#, key: "batch_size")
        assertRejected(#"{"codec": "gzip"}"#, key: "codec")
        assertRejected(#"{"model": "vgg"}"#, key: "model")
        assertRejected(#"{"schedule": {"type": "cosine", "gamma": 0.5}}"#, key: "schedule.gamma")
        assertRejected(#"{"schedule": {"type": "sawtooth"}}"#, key: "schedule.type")
        assertRejected(#"{"augmentation": {"zoom": 2}}"#, key: "augmentation.zoom")
        assertRejected("[1, 2]", key: "(file)")
        assertRejected("{not json", key: "(file)")
    }

    /// Errors speak JSON, not Swift: "expected a number", and options are options.
    func testMessagesNameJSONTypesAndOptions() throws {
        XCTAssertThrowsError(try parse(#"{"lr": "fast"}"#)) { XCTAssertTrue("\($0)".contains("expected a number"), "\($0)") }
        XCTAssertThrowsError(try parse(#"{"epochs": 2.5}"#)) { XCTAssertTrue("\($0)".contains("config key 'epochs': wrong type: expected a whole number"), "\($0)") }
        XCTAssertThrowsError(try parse(#"{"freeze": "conv1"}"#)) { XCTAssertTrue("\($0)".contains("expected a list"), "\($0)") }
        XCTAssertEqual("\(ConfigurationError(key: "--checkpoint", "not one ensemble"))", "option --checkpoint: not one ensemble")
        XCTAssertEqual("\(ConfigurationError(key: "lr", "must be > 0"))", "config key 'lr': must be > 0")
    }

    /// class_weights: none, balanced, or one weight per class; monitors include balanced
    /// accuracy and macro-F1.
    func testClassWeightListsAndTheNewMonitors() throws {
        XCTAssertEqual(try parse(#"{"class_weights": [1, 2.5, 0]}"#).classWeights, .list([1, 2.5, 0]))
        XCTAssertEqual(try parse(#"{"class_weights": "balanced"}"#).classWeights, .balanced)
        XCTAssertEqual(try parse("{}").classWeights, ClassWeighting.none)
        assertRejected(#"{"class_weights": "heavy"}"#, key: "class_weights")
        assertRejected(#"{"class_weights": [1, -1]}"#, key: "class_weights")
        assertRejected(#"{"class_weights": [0, 0]}"#, key: "class_weights")
        for monitor in ["val_balanced_accuracy", "val_macro_f1"] {
            let config = try parse(#"{"schedule": {"type": "plateau", "monitor": "\#(monitor)", "early_stopping": {"patience": 2}}}"#)
            XCTAssertEqual(config.schedule.monitor, monitor)
            XCTAssertEqual(config.schedule.monitorMode, .max)
        }
        assertRejected(#"{"schedule": {"type": "cosine", "monitor": "val_f1"}}"#, key: "schedule.monitor")
    }

    /// A key given twice is an error naming it (JSON parsers silently keep one of the two).
    func testRepeatedKeysAreRefused() throws {
        assertRejected(#"{"lr": 0.1, "epochs": 2, "lr": 0.2}"#, key: "lr")
        assertRejected(#"{"schedule": {"type": "cosine", "warmup_steps": 5, "warmup_steps": 6}}"#, key: "schedule.warmup_steps")
        assertRejected(#"{"layers": [{"type": "conv", "out": 4}, {"type": "relu", "type": "elu"}]}"#, key: "layers.type")
        // The same key in different objects, and a key-like string value, are fine.
        XCTAssertNoThrow(try parse(#"{"augmentation": {"shift": 0.1}, "layers": [{"type": "conv", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "flatten"}, {"type": "linear"}], "data": "\"lr\": {\"lr\"", "schedule": {"type": "constant"}}"#))
    }

    func testResumeWithoutCheckpointSaysSo() throws {
        let data = try TrainingFixtures.makeDataset()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let dir = TrainingFixtures.tempRunDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try Trainer(config: TrainingFixtures.config(data: data), options: .init(runDirectory: dir, resume: true))) {
            XCTAssertTrue("\($0)".contains("no valid checkpoint"), "\($0)")
        }
    }

    /// A checkpoint of another model, with a missing tensor, or a failing hash is refused
    /// with the tensor's (or file's) name, and no checkpoint file is changed.
    func testMismatchedOrCorruptCheckpointsAreRefusedAndNeverOverwritten() throws {
        let data = try TrainingFixtures.makeDataset()
        let dir = TrainingFixtures.tempRunDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: data)
            try? FileManager.default.removeItem(atPath: dir)
        }
        var config = TrainingFixtures.config(data: data)
        config.epochs = 1
        _ = try Trainer(config: config, options: .init(runDirectory: dir)).run()
        let store = CheckpointStore(runDirectory: dir)
        let files = store.checkpoints().map(\.path)
        let before = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }

        // Another model: the conv layer has 8 channels instead of 4.
        var other = config
        other.layers![0].out = 8
        XCTAssertThrowsError(try Trainer(config: other, options: .init(runDirectory: dir, resume: true))) {
            XCTAssertTrue("\($0)".contains("model"), "\($0)")
        }
        // Evaluate with a tensor missing from the file.
        let latest = try XCTUnwrap(store.latestValid())
        let kept = latest.file.tensors.filter { $0.name != "5.weight" }
        let broken = dir + "/missing-tensor.safetensors"
        let bytes = try SafeTensorsFile.encode(tensors: kept, metadata: latest.file.metadata.filter { !$0.key.hasSuffix("sha256") })
        try Data(bytes).write(to: URL(fileURLWithPath: broken))
        XCTAssertThrowsError(try CheckpointModel(path: broken)) { error in
            XCTAssertTrue("\(error)".contains("5.weight") || "\(error)".contains("sha256"), "\(error)")
        }
        // A flipped byte in the data fails the hash, naming the file.
        var flipped = try [UInt8](Data(contentsOf: URL(fileURLWithPath: latest.path)))
        flipped[flipped.count - 10] ^= 0x40
        let corrupt = dir + "/corrupt.safetensors"
        try Data(flipped).write(to: URL(fileURLWithPath: corrupt))
        XCTAssertThrowsError(try CheckpointModel(path: corrupt)) { XCTAssertTrue("\($0)".contains("corrupt.safetensors"), "\($0)") }

        let after = try files.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        XCTAssertEqual(before, after, "no checkpoint was touched")
    }

    /// The example configs users start from must parse and validate.
    func testExampleConfigsAreValid() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 2)
        for f in files {
            let data = try Data(contentsOf: examples.appendingPathComponent(f))
            XCTAssertNoThrow(try TrainingConfig.parse(json: data, source: f), f)
        }
    }
}
