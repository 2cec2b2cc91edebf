import ArgumentParser
import Foundation
import Training
import Tuning

/// `ringtrain cv --config FILE --folds K`: k-fold cross-validation, one ordinary run
/// directory per fold, trained by this binary as `train` (or `launch --nproc N`).
struct CVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "Cross-validate a config: one run per fold, then mean ± std and the folds' ensemble on the test split.",
        discussion: """
        The training split is cut into K folds (stratified by class with --stratified, \
        deterministic from the config's seed); fold N trains on the others and validates on \
        fold N in DIR/fold-N. DIR/cv.json has each fold's last validation, their mean and \
        standard deviation, and the K final models' ensemble on the test split. The same \
        command continues a stopped cv: finished folds are kept, a fold stopped half-way \
        resumes from its checkpoint.
        """)

    @Option(help: "Config file (JSON).") var config: String?
    @Option(help: "Number of folds (2...100).") var folds: Int = 5
    @Flag(help: "Keep every class's share equal across the folds (scikit-learn's StratifiedKFold).") var stratified = false
    @Option(help: "Workers per fold: 1 trains in one process, N > 1 through `ringtrain launch --nproc N`.") var nproc: Int = 1
    @Option(help: "cv directory (default runs/cv-CONFIG; the same directory continues the cv).") var dir: String?
    @Option(help: "Dataset directory (overrides the config).") var data: String?
    @Option(help: "Epochs per fold (overrides the config).") var epochs: Int?
    @Flag(help: "Print cv.json on stdout.") var json = false

    func run() throws {
        let (cv, directory) = try exitingOnBadInput { () -> (CrossValidation, String) in
            guard nproc >= 1 && nproc <= 256 else { throw TuneError("--nproc must be in 1...256") }
            let base = try baseConfig(path: config, data: data, epochs: epochs)
            let name = ((config ?? "default") as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "")
            let directory = dir ?? "runs/cv-\(name)"
            return (try CrossValidation(directory: directory, base: base, folds: folds, stratified: stratified), directory)
        }
        let binary = Bundle.main.executablePath ?? CommandLine.arguments[0]
        ChildRuns.stopChildOnSignals()
        let summary: CrossValidation.Summary
        do {
            summary = try cv.run { fold in
                var arguments = nproc > 1 ? ["launch", "--nproc", "\(nproc)"] : ["train"]
                arguments += ["--config", fold.configPath, "--run-dir", fold.runDirectory]
                if fold.resume { arguments.append("--resume") }
                let name = CrossValidation.foldName(fold.index)
                let outcome = try ChildRuns.run(binary, arguments, prefix: name)
                guard outcome.status == 0, !outcome.signalled else {
                    throw TuneError("\(name): ringtrain \(arguments.joined(separator: " ")) \(outcome.signalled ? "was stopped by signal" : "exited with") \(outcome.status)\(outcome.tail.isEmpty ? "" : ": " + outcome.tail.suffix(3).joined(separator: " / ")); run the same command to continue")
                }
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        print("fold  val loss  val top-1  val top-5")
        for f in summary.perFold {
            print(String(format: "%4d  %8.4f  %8.2f%%  %8.2f%%", f.fold, f.valLoss, f.valTop1 * 100, f.valTop5 * 100))
        }
        print(String(format: "mean  %8.4f  %8.2f%%  %8.2f%%   (± %.4f, %.2f%%, %.2f%% std)", summary.valLoss.mean, summary.valTop1.mean * 100,
                     summary.valTop5.mean * 100, summary.valLoss.std, summary.valTop1.std * 100, summary.valTop5.std * 100))
        if let top1 = summary.ensembleTestTop1 {
            print(String(format: "ensemble of the %d folds on the test split: loss %.4f  top-1 %.2f%%  top-5 %.2f%%",
                         summary.folds, summary.ensembleTestLoss ?? .nan, top1 * 100, (summary.ensembleTestTop5 ?? .nan) * 100))
        }
        printError("[cv] \(directory)/\(CrossValidation.summaryFile)")
    }
}
