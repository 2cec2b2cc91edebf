import Datasets
import Foundation

/// `data info` on a raw image folder: what the scan finds (classes, files per split and class,
/// what is not an image), header-only; the decoding checks are `prepare`'s (its report is shown
/// when the folder's default cache holds one).
enum FolderInfo {
    struct Info: Encodable {
        let directory: String
        let format = "image-folder"
        let split_folders: Bool
        let classes: [String]
        let counts: [String: Int]
        let class_counts: [String: [Int]]
        let imbalance_ratio: Double
        let hidden_files: Int
        let non_image_files: [String]
        let empty_class_folders: [String]
    }

    static func show(root: String, json: Bool) throws {
        let folder = try exitingOnBadInput { try ImageFolder.scan(root: root) }
        var counts: [String: Int] = [:], classCounts: [String: [Int]] = [:]
        for split in folder.splits {
            var c = [Int](repeating: 0, count: folder.classNames.count)
            for f in folder.files(of: split) { c[Int(f.label)] += 1 }
            counts[split.rawValue] = c.reduce(0, +)
            classCounts[split.rawValue] = c
        }
        let train = classCounts["train"] ?? []
        let ratio = (train.min() ?? 0) == 0 ? Double.infinity : Double(train.max()!) / Double(train.min()!)
        let info = Info(directory: root, split_folders: folder.hasSplitFolders, classes: folder.classNames, counts: counts,
                        class_counts: classCounts, imbalance_ratio: ratio, hidden_files: folder.hiddenCount,
                        non_image_files: folder.nonImageFiles, empty_class_folders: folder.emptyClassFolders)
        if json {
            print(try jsonString(info))
            return
        }
        print("dataset     \(root)")
        print("format      image folder (\(folder.hasSplitFolders ? "split folders: " + folder.splits.map(\.rawValue).joined(separator: ", ") : "class folders; a test split is held out when prepared"))")
        print("files       \(folder.files.count) images; \(folder.nonImageFiles.count) non-image files and \(folder.hiddenCount) hidden files ignored")
        if !folder.emptyClassFolders.isEmpty { print("empty       \(folder.emptyClassFolders.joined(separator: ", "))") }
        print("imbalance   \(ratio.isFinite ? String(format: "%.2f", ratio) : "inf") (largest class over smallest, training split)")
        printClassTable(folder.classNames, classCounts, splits: folder.splits.map(\.rawValue))
        print("checks      decoding, duplicates, sizes and sharpness are checked by `ringtrain data prepare \(root) --out DIR`")
    }
}

/// `data info` on a prepared dataset: the manifest and the data checks' report.
enum PreparedInfo {
    struct Info: Encodable {
        let directory: String
        let format = "prepared"
        let image_shape: [Int]
        let classes: [String]
        let counts: [String: Int]
        let class_counts: [String: [Int]]
        let imbalance_ratio: Double
        let mean: [Double]
        let std: [Double]
        let source: String
        let skipped: [String: Int]
        let duplicates_across_splits: Int
        let fingerprint: String
    }

    static func show(directory: String, dataset: Dataset, json: Bool) throws {
        let manifest = try exitingOnBadInput { try PreparedDataset.open(directory: directory, verifyHashes: false).manifest }
        let report = (FileManager.default.contents(atPath: directory + "/report.json"))
            .flatMap { try? JSONDecoder().decode(PrepareReport.self, from: $0) }
        let counts = manifest.splits.mapValues(\.count), classCounts = manifest.splits.mapValues(\.classCounts)
        let train = classCounts["train"] ?? []
        let ratio = (train.min() ?? 0) == 0 ? Double.infinity : Double(train.max()!) / Double(train.min()!)
        let skipped = Dictionary(uniqueKeysWithValues: PrepareReport.SkipKind.allCases.map { ($0.rawValue, report?.count(of: $0) ?? 0) })
        let info = Info(directory: directory, image_shape: [manifest.image.height, manifest.image.width, manifest.image.channels],
                        classes: manifest.classes, counts: counts, class_counts: classCounts, imbalance_ratio: ratio,
                        mean: manifest.normalization.mean, std: manifest.normalization.std,
                        source: manifest.preparation.source, skipped: skipped,
                        duplicates_across_splits: report?.leakage.count ?? 0, fingerprint: dataset.train.fingerprint)
        if json {
            print(try jsonString(info))
            return
        }
        let p = manifest.preparation
        print("dataset     \(directory)")
        print("format      prepared (from \(p.source): \(p.width)x\(p.height)x\(p.channels), \(p.resize.rawValue), \(p.interpolation.rawValue))")
        print("normalise   mean [\(manifest.normalization.mean.map { String(format: "%.4f", $0) }.joined(separator: ", "))], std [\(manifest.normalization.std.map { String(format: "%.4f", $0) }.joined(separator: ", "))]")
        if let report { print("checks      \(report.summaryLine)") }
        print("imbalance   \(ratio.isFinite ? String(format: "%.2f", ratio) : "inf") (largest class over smallest, training split)")
        printClassTable(manifest.classes, classCounts, splits: DatasetSplit.allCases.map(\.rawValue).filter { classCounts[$0] != nil })
    }
}

/// "  0  cat          train    500  val     50  test     50"
func printClassTable(_ names: [String], _ counts: [String: [Int]], splits: [String]) {
    print("classes     \(names.count)")
    let width = min(max(names.map(\.count).max() ?? 4, 4), 32)
    for (i, name) in names.enumerated() {
        let columns = splits.map { s in "\(s) \(String(format: "%6d", counts[s]?[i] ?? 0))" }.joined(separator: "  ")
        print(String(format: "  %3d  ", i) + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + columns)
    }
}
