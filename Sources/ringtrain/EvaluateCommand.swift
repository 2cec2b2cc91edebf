import ArgumentParser
import Checkpoints
import Datasets
import Foundation
import Kernels
import Training

/// `ringtrain evaluate --checkpoint FILE...`: top-1, top-5, per-class table and confusion
/// matrix on the test split; several checkpoints are an ensemble (a weighted mean of their
/// softmax outputs or a vote), each member's figures printed beside the ensemble's; `--tta`
/// adds the figures over test-time views.
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
    @Option(help: "raw (the trained weights), ema (the weight average), validation (members weighted by their validation top-1) or one weight per checkpoint, e.g. 0.5,0.3,0.2.")
    var weights: String = "raw"
    @Option(help: "How an ensemble's members are combined: mean (of the softmax outputs) or vote (of the top-1 classes).")
    var combine: EnsembleCombineChoice = .mean
    @Option(help: "Test-time augmentation: flip, crops (the four corner crops of the training crop padding and the image), or flip,crops.")
    var tta: String?

    func validate() throws {
        if checkpoints.isEmpty { throw ValidationError("give at least one --checkpoint FILE") }
        if topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if let tta, TTAChoice(tta) == nil { throw ValidationError("--tta must be flip, crops or flip,crops, got '\(tta)'") }
    }

    struct ClassRow: Encodable { let name: String; let precision: Double; let recall: Double; let f1: Double; let support: Int }
    struct Figures: Encodable {
        let loss: Double, top1: Double, top_k: Double
        init(_ m: ClassificationMetrics) { loss = m.loss; top1 = m.top1; top_k = m.topK }
    }
    struct Member: Encodable { let checkpoint: String; let weight: Double; let plain: Figures; let tta: Figures? }
    struct Report: Encodable {
        let checkpoints: [String]
        let weights: String
        let combine: String
        let members: [Member]
        let tta: String?
        let tta_figures: Figures?
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
        let (models, dataset, memberWeights, views) = try exitingOnBadInput { () -> ([CheckpointModel], Dataset, [Double]?, [TestTimeView]) in
            let choice = try EnsembleWeights.parse(weights)
            let models = try checkpoints.map { try CheckpointModel(path: try resolveCheckpointPath($0, onWarning: { printError("warning: \($0)") }),
                                                                  weights: choice.tensors) }
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
            return (models, dataset, try choice.memberWeights(models), try tta.map { try TTAChoice($0)!.views(first.config) } ?? [.identity])
        }
        KernelThreads.count = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        let first = models[0].state
        let result = Evaluator.evaluateEnsemble(networks: models.map(\.network), images: dataset.test,
                                                indices: Array(0..<dataset.test.count),
                                                mean: first.normalizationMean, std: first.normalizationStd, batchSize: 256, k: topK,
                                                weights: memberWeights, combine: combine.rule, views: views)
        let counts = result.ensemble
        let members = models.indices.map { m in
            Member(checkpoint: checkpoints[m], weight: memberWeights?[m] ?? 1, plain: Figures(result.members[m]),
                   tta: result.augmentedMembers.map { Figures($0[m]) })
        }
        let names = first.classNames.count == first.classes ? first.classNames : (0..<first.classes).map(String.init)
        let rows = counts.perClass().map { r in
            ClassRow(name: names[r.index], precision: r.precision, recall: r.recall, f1: r.f1, support: r.support)
        }
        let report = Report(checkpoints: checkpoints, weights: weights, combine: combine.rawValue, members: members,
                            tta: tta, tta_figures: result.augmentedEnsemble.map(Figures.init), data: dataset.directory, samples: counts.count, loss: counts.loss,
                            top1: counts.top1, top_k: counts.topK, k: topK, per_class: rows,
                            confusion_matrix: counts.confusionMatrix)
        if json {
            print(try jsonString(report))
            return
        }
        printFigures(report, counts: counts)
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

    func printFigures(_ report: Report, counts: ClassificationMetrics) {
        let weightsNote = weights == "raw" ? "" : " (weights: \(weights))"
        func line(_ f: Figures) -> String {
            String(format: "loss %.4f  top-1 %.2f%%  top-%d %.2f%%", f.loss, f.top1 * 100, topK, f.top_k * 100)
        }
        if report.members.count > 1 {
            print("ensemble of \(report.members.count) checkpoints, \(combine == .vote ? "majority vote" : "mean of probabilities")\(weightsNote)")
            for (i, m) in report.members.enumerated() {
                print("  member \(i + 1) \(m.checkpoint)" + (memberWeightsShown ? String(format: " (weight %.4g)", m.weight) : "") + ":  " + line(m.plain)
                      + (m.tta.map { "   with tta: " + line($0) } ?? ""))
            }
        } else {
            print("checkpoint \(checkpoints[0])\(weightsNote)")
        }
        print(String(format: "test samples %d  ", counts.count) + line(Figures(counts)))
        if let t = report.tta_figures { print("with tta \(tta!) (\(viewsCount) views):  " + line(t)) }
    }

    var memberWeightsShown: Bool { !["raw", "ema"].contains(weights) }
    var viewsCount: Int { tta.flatMap { TTAChoice($0) }.map { $0.flip ? ($0.crops ? 10 : 2) : 5 } ?? 1 }
}

/// `--combine`.
enum EnsembleCombineChoice: String, CaseIterable, ExpressibleByArgument {
    case mean, vote
    var rule: EnsembleCombine { self == .vote ? .vote : .mean }
}

/// `--tta flip|crops|flip,crops`.
struct TTAChoice {
    let flip: Bool, crops: Bool

    init?(_ text: String) {
        let parts = Set(text.split(separator: ",").map(String.init))
        guard !parts.isEmpty, parts.isSubset(of: ["flip", "crops"]) else { return nil }
        flip = parts.contains("flip")
        crops = parts.contains("crops")
    }

    /// The views for a model trained with `config`: crops need its crop padding.
    func views(_ config: TrainingConfig) throws -> [TestTimeView] {
        let padding = config.augmentation.cropPadding
        if crops && padding == 0 {
            throw ConfigurationError(key: "--tta", "crops: the model was trained without augmentation.crop_padding, so there are no crops it learned to see; use --tta flip")
        }
        if flip && !config.augmentation.horizontalFlip {
            printError("warning: --tta flip: the model was trained without augmentation.horizontal_flip; mirrored images may be new to it")
        }
        return TestTimeView.views(flip: flip, cropPadding: crops ? padding : 0)
    }
}
