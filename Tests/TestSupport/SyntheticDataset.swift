import Foundation

/// A small generated dataset in the real IDX format whose 4 classes are learnable (a bright
/// square in one quadrant, plus noise), so a whole training run takes well under a second.
public enum SyntheticDataset {
    public static let side = 8
    public static let classes = 4

    /// Writes train-/t10k- image and label files to a new temporary directory; returns it.
    public static func writeIDX(train: Int = 240, test: Int = 60, seed: UInt64 = 3) throws -> String {
        try writeIDX(train: train, test: test, seed: seed, side: side, noisy: true)
    }

    /// The same classes on `side` x `side` images; `noisy: false` leaves every pixel outside
    /// the square 0 (sparse inputs, so a linear layer on them has mostly zero gradients).
    public static func writeIDX(train: Int, test: Int, seed: UInt64, side: Int, noisy: Bool) throws -> String {
        let dir = NSTemporaryDirectory() + "ringtrain-data-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var state = seed
        func noise() -> UInt8 { state = state &* 6364136223846793005 &+ 1442695040888963407; return UInt8(state >> 58) }
        func images(_ n: Int) -> ([UInt8], [UInt8]) {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<n {
                let label = i % classes
                labels.append(UInt8(label))
                for y in 0..<side {
                    for x in 0..<side {
                        let inSquare = (x / 4 == label % 2) && (y / 4 == label / 2)
                        pixels.append(inSquare ? 180 + noise() : noisy ? noise() * 2 : 0)
                    }
                }
            }
            return (pixels, labels)
        }
        let (trp, trl) = images(train), (tep, tel) = images(test)
        try write(dir + "/train-images-idx3-ubyte", idxHeader([train, side, side]) + trp)
        try write(dir + "/train-labels-idx1-ubyte", idxHeader([train]) + trl)
        try write(dir + "/t10k-images-idx3-ubyte", idxHeader([test, side, side]) + tep)
        try write(dir + "/t10k-labels-idx1-ubyte", idxHeader([test]) + tel)
        return dir
    }

    /// The IDX header for unsigned bytes of the given dimensions.
    public static func idxHeader(_ dims: [Int]) -> [UInt8] {
        var h: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims {
            let be: [UInt8] = [UInt8((d >> 24) & 255), UInt8((d >> 16) & 255), UInt8((d >> 8) & 255), UInt8(d & 255)]
            h.append(contentsOf: be)
        }
        return h
    }

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A config file (JSON) for a tiny model on that data, as the command line reads it.
    public static func configJSON(data: String, epochs: Int = 2, checkpointEvery: Int = 4, extra: String = "") -> String {
        """
        {"layers": [{"type": "conv", "out": 4, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
                    {"type": "flatten"}, {"type": "linear"}],
         "data": "\(data)", "epochs": \(epochs), "batch_size": 16, "lr": 0.05, "threads": 1,
         "validation_fraction": 0.2, "checkpoint_every": \(checkpointEvery), "keep_checkpoints": 10\(extra)}
        """
    }
}
