import Datasets
import Foundation
import Layers
import TestSupport
import Training
import XCTest

/// A small generated IDX dataset whose classes are learnable (a bright square at a
/// class-dependent place plus noise), and a small model, so a whole run takes a second.
enum TrainingFixtures {
    static func makeDataset() throws -> String { try SyntheticDataset.writeIDX() }

    /// conv(4) -> relu -> maxpool -> dropout -> flatten -> linear: every kind of state a
    /// resume must restore (weights, momentum, dropout randomness, the sampler's cursor).
    static var layers: [LayerSpec] {
        [LayerSpec(type: "conv", out: 4, kernel: 3, pad: 1), LayerSpec(type: "relu"), LayerSpec(type: "maxpool", size: 2),
         LayerSpec(type: "dropout", p: 0.25), LayerSpec(type: "flatten"), LayerSpec(type: "linear")]
    }

    static func config(data: String) -> TrainingConfig {
        var c = TrainingConfig()
        c.layers = layers
        c.data = data
        c.epochs = 2
        c.batchSize = 16
        c.lr = 0.05
        c.threads = 1
        c.validationFraction = 0.2
        c.checkpointEvery = 4
        c.keepCheckpoints = 10
        // No flip: a mirrored square would be another class here.
        c.augmentation = AugmentationConfig(cropPadding: 1, rotationDegrees: 5)
        return c
    }

    static func tempRunDirectory() -> String {
        NSTemporaryDirectory() + "ringtrain-run-\(UUID().uuidString)"
    }
}

/// A test class with a generated dataset (`data`) and run directories (`runDir()`) that are
/// removed after each test.
class TrainingTestCase: XCTestCase {
    var data = ""
    var cleanup: [String] = []

    override func setUpWithError() throws {
        data = try TrainingFixtures.makeDataset()
        cleanup = [data]
    }

    override func tearDown() {
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func runDir() -> String {
        let d = TrainingFixtures.tempRunDirectory()
        cleanup.append(d)
        return d
    }
}
