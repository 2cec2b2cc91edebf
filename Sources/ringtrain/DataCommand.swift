import ArgumentParser
import Datasets
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect, prepare and export datasets.",
        subcommands: [DataInfoCommand.self, DataPrepareCommand.self, DataExportImagesCommand.self]
    )
}

/// `ringtrain data info DIR [--json]`: format, counts per split, shape, classes, statistics.
struct DataInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a dataset directory: format, splits, shape, classes, mean and std.")

    @Argument(help: "Dataset directory: IDX, CIFAR-10 binary, a prepared dataset, or an image folder.")
    var dir: String = "/usr/share/datasets/fashion-mnist"

    @Flag(help: "Print one JSON object.")
    var json = false

    struct SplitInfo: Encodable {
        let count: Int
        let class_counts: [Int]
        let imbalance_ratio: Double
        let mean: [Double]
        let std: [Double]
    }

    struct Info: Encodable {
        let directory: String
        let format: String
        let image_shape: [Int]
        let classes: [String]
        let train: SplitInfo
        let test: SplitInfo
        let fingerprint: String
    }

    func run() throws {
        if Dataset.detectFormat(directory: dir) == .imageFolder {
            try FolderInfo.show(root: dir, json: json)
            return
        }
        let dataset = try exitingOnBadInput { try Dataset.load(directory: dir) }
        if dataset.format == .prepared, let prepared = dataset.preparedDirectory {
            try PreparedInfo.show(directory: prepared, dataset: dataset, json: json)
            return
        }
        func split(_ images: LabeledImages) -> SplitInfo {
            let s = DatasetStatistics(images)
            return SplitInfo(count: s.count, class_counts: s.classCounts, imbalance_ratio: s.imbalanceRatio,
                             mean: s.mean, std: s.std)
        }
        let t = dataset.train
        let info = Info(directory: dir, format: dataset.format.rawValue, image_shape: [t.height, t.width, t.channels],
                        classes: dataset.classNames, train: split(dataset.train), test: split(dataset.test),
                        fingerprint: t.fingerprint)
        if json {
            print(try jsonString(info))
            return
        }
        print("dataset     \(dir)")
        print("format      \(info.format)")
        print("image       \(t.height)x\(t.width)x\(t.channels) (height x width x channels)")
        for (name, s) in [("train", info.train), ("test", info.test)] {
            let means = s.mean.map { String(format: "%.4f", $0) }.joined(separator: ", ")
            let stds = s.std.map { String(format: "%.4f", $0) }.joined(separator: ", ")
            print("\(name.padding(toLength: 6, withPad: " ", startingAt: 0))      \(s.count) images, mean [\(means)], std [\(stds)], imbalance ratio \(String(format: "%.2f", s.imbalance_ratio))")
        }
        print("classes     \(dataset.classNames.count)")
        for (i, name) in dataset.classNames.enumerated() {
            let padded = name.padding(toLength: 12, withPad: " ", startingAt: 0)
            print(String(format: "  %2d  ", i) + padded + String(format: " train %6d  test %6d", info.train.class_counts[i], info.test.class_counts[i]))
        }
    }
}
