import Datasets
import Foundation
import Layers
import Training
import XCTest

/// A small generated IDX dataset whose classes are learnable (a bright square at a
/// class-dependent place plus noise), and a small model, so a whole run takes a second.
enum TrainingFixtures {
    static let side = 8

    static func makeDataset(train: Int = 240, test: Int = 60, seed: UInt64 = 3) throws -> String {
        let dir = NSTemporaryDirectory() + "ringtrain-train-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var state = seed
        func next() -> UInt8 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(state >> 58) }
        func images(_ n: Int) -> ([UInt8], [UInt8]) {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<n {
                let label = i % 4
                labels.append(UInt8(label))
                for y in 0..<side {
                    for x in 0..<side {
                        let inSquare = (x / 4 == label % 2) && (y / 4 == label / 2)
                        pixels.append(inSquare ? 180 + next() : next() * 2)
                    }
                }
            }
            return (pixels, labels)
        }
        func header(_ dims: [Int]) -> [UInt8] {
            var h: [UInt8] = [0, 0, 8, UInt8(dims.count)]
            for d in dims { h += [UInt8((d >> 24) & 255), UInt8((d >> 16) & 255), UInt8((d >> 8) & 255), UInt8(d & 255)] }
            return h
        }
        let (trp, trl) = images(train), (tep, tel) = images(test)
        try Data(header([train, side, side]) + trp).write(to: URL(fileURLWithPath: dir + "/train-images-idx3-ubyte"))
        try Data(header([train]) + trl).write(to: URL(fileURLWithPath: dir + "/train-labels-idx1-ubyte"))
        try Data(header([test, side, side]) + tep).write(to: URL(fileURLWithPath: dir + "/t10k-images-idx3-ubyte"))
        try Data(header([test]) + tel).write(to: URL(fileURLWithPath: dir + "/t10k-labels-idx1-ubyte"))
        return dir
    }

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
