import Foundation

/// One row of summary.json's `per_class`.
public struct ClassFigures: Equatable {
    public var name: String
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var support: Int

    public init(name: String, precision: Double, recall: Double, f1: Double, support: Int) {
        self.name = name
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
    }
}

/// `summary.json`, written once at the end of a run. Every key is optional: summaries of
/// older versions lack `class_names`, `config`, `test_confusion`, `per_class`, `checkpoints`.
public struct RunSummary {
    public var finalStep: Int?
    public var epochsCompleted: Int?
    public var testLoss: Double?
    public var testTop1: Double?
    public var testTop5: Double?
    public var imagesPerSec: Double?
    public var wallSeconds: Double?
    public var worldSize: Int?
    public var compressionRatio: Double?
    public var stoppedEarly: Bool?
    public var bestValTop1: Double?
    public var lastCheckpoint: String?
    public var model: String?
    public var classNames: [String]?
    public var config: [String: Any]?
    public var testConfusion: [Int]?
    /// `per_class` rows. A row whose `class` is an index rather than a name gets the name
    /// `#index` here; `named(_:)` replaces it once class names are known.
    public var perClass: [ClassFigures]?
    /// For each `per_class` row, the class index if `class` was written as a number.
    public var perClassIndices: [Int?] = []
    public var checkpoints: [String]?

    /// Reads `summary.json`; nil if there is none (a run in progress). A file that is there
    /// but not a JSON object gives a warning and counts as absent; one that cannot be read
    /// at all throws.
    public static func load(path: String, warnings: inout [String]) throws -> RunSummary? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError.unreadableFile(path: path) }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            warnings.append("\(path): not a JSON object; the report treats the run as in progress")
            return nil
        }
        return RunSummary(object)
    }

    /// `perClass` with rows given by index named from `classNames`.
    public func namedPerClass(_ classNames: [String]) -> [ClassFigures]? {
        perClass.map { rows in
            zip(rows, perClassIndices).map { row, index in
                var row = row
                if let index, classNames.indices.contains(index) { row.name = classNames[index] }
                return row
            }
        }
    }

    public init(_ o: [String: Any]) {
        finalStep = JSONValues.int(o["final_step"])
        epochsCompleted = JSONValues.int(o["epochs_completed"])
        testLoss = JSONValues.double(o["test_loss"])
        testTop1 = JSONValues.double(o["test_top1"])
        testTop5 = JSONValues.double(o["test_top5"])
        imagesPerSec = JSONValues.double(o["images_per_sec"])
        wallSeconds = JSONValues.double(o["wall_seconds"])
        worldSize = JSONValues.int(o["world_size"])
        compressionRatio = JSONValues.double(o["compression_ratio"])
        stoppedEarly = JSONValues.bool(o["stopped_early"])
        bestValTop1 = JSONValues.double(o["best_val_top1"])
        lastCheckpoint = JSONValues.string(o["last_checkpoint"])
        model = JSONValues.string(o["model"])
        classNames = JSONValues.strings(o["class_names"])
        config = o["config"] as? [String: Any]
        testConfusion = JSONValues.ints(o["test_confusion"])
        checkpoints = JSONValues.strings(o["checkpoints"])
        if let rows = o["per_class"] as? [Any] {
            var figures: [ClassFigures] = []
            for (i, row) in rows.enumerated() {
                guard let row = row as? [String: Any] else { continue }
                let name = JSONValues.string(row["class"]) ?? JSONValues.string(row["name"])
                let index = name == nil ? (JSONValues.int(row["class"]) ?? i) : nil
                perClassIndices.append(index)
                figures.append(ClassFigures(name: name ?? "#\(index ?? i)", precision: JSONValues.double(row["precision"]) ?? 0,
                                            recall: JSONValues.double(row["recall"]) ?? 0, f1: JSONValues.double(row["f1"]) ?? 0,
                                            support: JSONValues.int(row["support"]) ?? 0))
            }
            perClass = figures
        }
    }
}
