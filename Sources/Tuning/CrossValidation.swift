import Foundation
import Training

/// `ringtrain cv`: K ordinary run directories `<dir>/fold-N`, fold N validating on the N-th
/// of K folds of the training split (`cv_folds`, `cv_fold`), then the per-fold validation
/// figures, their mean and standard deviation, and the K final models as an ensemble on the
/// test split, in `<dir>/cv.json`. A finished fold (it has summary.json) is not trained again;
/// a fold stopped half-way resumes from its checkpoint; so the same command continues a
/// stopped cv. How a fold trains (this process, `train`, `launch`) is `runFold`'s business.
public final class CrossValidation {
    public struct Fold {
        public var index: Int
        public var config: TrainingConfig
        public var configPath: String
        public var runDirectory: String
        public var resume: Bool
    }

    /// One fold's last validation, as cv.json records it.
    public struct FoldFigures: Codable, Equatable, Sendable {
        public var fold: Int
        public var runDirectory: String
        public var valLoss: Double
        public var valTop1: Double
        public var valTop5: Double
        public var valBalancedAccuracy: Double?
        public var valMacroF1: Double?
        public var testTop1: Double?

        enum CodingKeys: String, CodingKey {
            case fold, runDirectory = "run_directory", valLoss = "val_loss", valTop1 = "val_top1", valTop5 = "val_top5"
            case valBalancedAccuracy = "val_balanced_accuracy", valMacroF1 = "val_macro_f1", testTop1 = "test_top1"
        }
    }

    public struct MeanStd: Codable, Equatable, Sendable {
        public var mean: Double
        /// The population standard deviation (divided by n): numpy's default, which
        /// scikit-learn's `cross_validate` summaries and `std_test_score` use.
        public var std: Double

        public init(_ values: [Double]) {
            let n = Double(max(values.count, 1))
            let m = values.reduce(0, +) / n
            mean = m
            std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n).squareRoot()
        }
    }

    /// `cv.json`.
    public struct Summary: Codable, Equatable, Sendable {
        public var folds: Int
        public var stratified: Bool
        public var perFold: [FoldFigures]
        public var valLoss: MeanStd
        public var valTop1: MeanStd
        public var valTop5: MeanStd
        /// The K final models as one ensemble (mean of probabilities) on the test split.
        public var ensembleTestLoss: Double?
        public var ensembleTestTop1: Double?
        public var ensembleTestTop5: Double?

        enum CodingKeys: String, CodingKey {
            case folds, stratified, perFold = "per_fold", valLoss = "val_loss", valTop1 = "val_top1", valTop5 = "val_top5"
            case ensembleTestLoss = "ensemble_test_loss", ensembleTestTop1 = "ensemble_test_top1", ensembleTestTop5 = "ensemble_test_top5"
        }
    }

    public let directory: String
    public let base: TrainingConfig
    public let folds: Int
    public let stratified: Bool
    public var log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }

    public static let summaryFile = "cv.json"
    static let settingsFile = "cv-settings.json"

    public init(directory: String, base: TrainingConfig, folds: Int, stratified: Bool) throws {
        guard (2...100).contains(folds) else { throw TuneError("--folds must be in 2...100, got \(folds)") }
        self.directory = directory
        self.base = base
        self.folds = folds
        self.stratified = stratified
    }

    /// The config of fold `index`: the base with the fold set.
    public func config(fold index: Int) -> TrainingConfig {
        var c = base
        c.cvFolds = folds
        c.cvFold = index
        c.cvStratified = stratified
        return c
    }

    /// Trains the folds not yet finished, then writes and returns cv.json's summary.
    public func run(runFold: (Fold) throws -> Void) throws -> Summary {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try checkSettings()
        for index in 0..<folds {
            let runDirectory = directory + "/" + Self.foldName(index)
            if FileManager.default.fileExists(atPath: runDirectory + "/summary.json") {
                log("[cv] \(Self.foldName(index)): finished earlier")
                continue
            }
            let config = config(fold: index)
            try config.validate()
            let configPath = runDirectory + ".json"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(config).write(to: URL(fileURLWithPath: configPath), options: .atomic)
            let resume = Tuner.hasCheckpoint(runDirectory)
            log("[cv] \(Self.foldName(index)) of \(folds)\(resume ? " (resuming)" : "")")
            try runFold(Fold(index: index, config: config, configPath: configPath, runDirectory: runDirectory, resume: resume))
        }
        var summary = try summarise()
        let ensemble = try ensembleTest(summary)
        summary.ensembleTestLoss = ensemble?.loss
        summary.ensembleTestTop1 = ensemble?.top1
        summary.ensembleTestTop5 = ensemble?.topK
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: directory + "/" + Self.summaryFile), options: .atomic)
        return summary
    }

    public static func foldName(_ index: Int) -> String { "fold-\(index)" }

    /// A directory holds one cv: another config or fold count there is refused.
    func checkSettings() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let settings = String(decoding: try encoder.encode(config(fold: 0)), as: UTF8.self)
        let path = directory + "/" + Self.settingsFile
        if let existing = FileManager.default.contents(atPath: path) {
            guard String(decoding: existing, as: UTF8.self) == settings else {
                throw TuneError("\(path): this directory holds a cv with another config, fold count or stratification; use another --dir or remove it")
            }
            return
        }
        try Data(settings.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// Each fold's last validation (metrics.jsonl) and test top-1 (summary.json).
    func summarise() throws -> Summary {
        let perFold = try (0..<folds).map { index -> FoldFigures in
            let run = directory + "/" + Self.foldName(index)
            guard let text = try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8),
                  let last = text.split(separator: "\n").reversed().compactMap({
                      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
                  }).first(where: { $0["event"] as? String == "validation" }) else {
                throw TuneError("\(run)/metrics.jsonl: no validation record (did the fold train?)")
            }
            let summary = FileManager.default.contents(atPath: run + "/summary.json")
                .flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
            return FoldFigures(fold: index, runDirectory: Self.foldName(index), valLoss: last["val_loss"] as? Double ?? .nan,
                               valTop1: last["val_top1"] as? Double ?? .nan, valTop5: last["val_top5"] as? Double ?? .nan,
                               valBalancedAccuracy: last["val_balanced_accuracy"] as? Double, valMacroF1: last["val_macro_f1"] as? Double,
                               testTop1: summary?["test_top1"] as? Double)
        }
        return Summary(folds: folds, stratified: stratified, perFold: perFold, valLoss: MeanStd(perFold.map(\.valLoss)),
                       valTop1: MeanStd(perFold.map(\.valTop1)), valTop5: MeanStd(perFold.map(\.valTop5)))
    }

    /// The folds' newest checkpoints as one ensemble on the test split (nil: the data has none).
    func ensembleTest(_ summary: Summary) throws -> ClassificationMetrics? {
        let models = try (0..<folds).map { index -> CheckpointModel in
            let run = directory + "/" + Self.foldName(index)
            let latest = try String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            return try CheckpointModel(path: run + "/checkpoints/" + latest)
        }
        let dataset = try base.loadDataset()
        guard dataset.test.count > 0 else { return nil }
        let first = models[0].state
        return Evaluator.evaluate(networks: models.map(\.network), images: dataset.test, indices: Array(0..<dataset.test.count),
                                  mean: first.normalizationMean, std: first.normalizationStd, batchSize: 256)
    }
}
