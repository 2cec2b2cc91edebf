import ArgumentParser
import Checkpoints
import Datasets
import Foundation
import Kernels
import Training

/// `ringtrain evaluate --checkpoint FILE...`: top-1, top-5, per-class table and confusion
/// matrix on the test split; several checkpoints are an ensemble (mean of softmax outputs).
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate checkpoints on the test split (several files: an ensemble).")

    @Option(name: .customLong("checkpoint"), parsing: .upToNextOption, help: "Checkpoint file(s).")
    var checkpoints: [String]
    @Option(help: "Dataset directory (default: the one the first checkpoint was trained on).") var data: String?
    @Option(name: .customLong("top-k"), help: "Also report top-k accuracy for this k.") var topK: Int = 5
    @Flag(name: .customLong("confusion-matrix"), help: "Print the confusion matrix.") var confusionMatrix = false
    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Compute threads (0: all cores).") var threads: Int = 0

    func validate() throws {
        if checkpoints.isEmpty { throw ValidationError("give at least one --checkpoint FILE") }
        if topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    struct ClassRow: Encodable { let name: String; let precision: Double; let recall: Double; let f1: Double; let support: Int }
    struct Report: Encodable {
        let checkpoints: [String]
        let data: String
        let samples: Int
        let loss: Double
        let top1: Double
        let top_k: Double
        let k: Int
        let per_class: [ClassRow]
        let confusion_matrix: [[Int]]
    }

    func run() throws {
        let (models, dataset) = try exitingOnBadInput { () -> ([CheckpointModel], Dataset) in
            let models = try checkpoints.map { try CheckpointModel(path: try resolveCheckpointPath($0, onWarning: { printError("warning: \($0)") })) }
            let first = models[0].state
            for m in models.dropFirst() {
                guard m.state.inputShape == first.inputShape, m.state.classes == first.classes else {
                    throw ConfigurationError(key: "--checkpoint", "\(m.path) has input \(m.state.inputShape) and \(m.state.classes) classes; \(models[0].path) has \(first.inputShape) and \(first.classes): not one ensemble")
                }
                guard m.state.normalizationMean == first.normalizationMean, m.state.normalizationStd == first.normalizationStd else {
                    throw ConfigurationError(key: "--checkpoint", "\(m.path) was trained with another input normalisation than \(models[0].path)")
                }
            }
            let dataset = try first.config.loadDataset(directory: data)
            let t = dataset.test
            guard [t.channels, t.height, t.width] == first.inputShape, t.classCount == first.classes else {
                throw ConfigurationError(key: "--data", "test images are \([t.channels, t.height, t.width]) in \(t.classCount) classes; the model expects \(first.inputShape) in \(first.classes)")
            }
            return (models, dataset)
        }
        KernelThreads.count = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        let first = models[0].state
        let counts = Evaluator.evaluate(networks: models.map(\.network), images: dataset.test,
                                        indices: Array(0..<dataset.test.count),
                                        mean: first.normalizationMean, std: first.normalizationStd, batchSize: 256, k: topK)
        let names = first.classNames.count == first.classes ? first.classNames : (0..<first.classes).map(String.init)
        let rows = counts.perClass().map { r in
            ClassRow(name: names[r.index], precision: r.precision, recall: r.recall, f1: r.f1, support: r.support)
        }
        let report = Report(checkpoints: checkpoints, data: dataset.directory, samples: counts.count, loss: counts.loss,
                            top1: counts.top1, top_k: counts.topK, k: topK, per_class: rows,
                            confusion_matrix: counts.confusionMatrix)
        if json {
            print(try jsonString(report))
            return
        }
        print(models.count > 1 ? "ensemble of \(models.count) checkpoints" : "checkpoint \(checkpoints[0])")
        print(String(format: "test samples %d  loss %.4f  top-1 %.2f%%  top-%d %.2f%%", counts.count, counts.loss,
                     counts.top1 * 100, topK, counts.topK * 100))
        print("")
        print("class          precision  recall     f1  support")
        for r in rows {
            print(r.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                  + String(format: "%9.4f %7.4f %6.4f %8d", r.precision, r.recall, r.f1, r.support))
        }
        if confusionMatrix {
            print("\nconfusion matrix (rows: true class, columns: predicted)")
            print("      " + (0..<first.classes).map { String(format: "%6d", $0) }.joined())
            for (i, row) in counts.confusionMatrix.enumerated() {
                print(String(format: "%4d  ", i) + row.map { String(format: "%6d", $0) }.joined())
            }
        }
    }
}
