import ArgumentParser
import Foundation
import Training
import Tuning
#if canImport(Glibc)
import Glibc
#endif

/// `ringtrain tune`: hyperparameter search; every trial is an ordinary run directory, trained
/// by this same binary as `ringtrain train` (or `ringtrain launch --nproc N`).
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Hyperparameter search: random, grid, or successive halving.",
        discussion: """
            Every trial is a run directory DIR/trial-NNN. Trials are ranked by a validation metric \
            (--metric, default val_top1; the config needs validation_fraction > 0). The table goes to stdout and DIR/trials.md, \
            the best config to DIR/best-config.json. Run the same command again to continue an \
            interrupted search. The space file is described in docs/tuning.md.
            """)

    @Option(help: "Base config file (JSON); the space's values are set on it.") var config: String?
    @Option(help: "Search space file (JSON): config key -> choice / uniform / log_uniform / int_uniform.") var space: String
    @Option(help: "Number of trials.") var trials: Int = 8
    @Option(help: "random, grid, halving (successive halving), tpe (Tree-structured Parzen Estimator) or tpe-halving (TPE proposals, successive halving promotions).") var method: Tuner.Method = .random
    @Option(help: "Tune directory (default runs/tune-CONFIG-SPACE; the same directory continues the search).") var dir: String?
    @Option(help: "Seed of the trial sampling.") var seed: UInt64 = 1
    @Option(help: "Successive halving: keep the best 1/eta at each rung.") var eta: Int = 3
    @Option(help: "Workers per trial: 1 trains in one process, N > 1 through `ringtrain launch --nproc N`.") var nproc: Int = 1
    @Option(help: "Dataset directory (overrides the config).") var data: String?
    @Option(help: "Epochs of a full trial (overrides the config).") var epochs: Int?
    @Option(help: "Rank trials by this validation metric: val_loss ranks lowest first, the others highest first.")
    var metric: TuneMetric = .valTop1

    func run() throws {
        let (tuner, directory, prepared) = try exitingOnBadInput { () -> (Tuner, String, TuneState) in
            guard nproc >= 1 && nproc <= 256 else { throw TuneError("--nproc must be in 1...256") }
            let base = try baseConfig(path: config, data: data, epochs: epochs)
            guard let spaceBytes = FileManager.default.contents(atPath: space) else { throw TuneError("--space: cannot read \(space)") }
            let parsed = try SearchSpace.parse(spaceBytes, source: space)
            let name = { (p: String?) in ((p ?? "default") as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "") }
            let directory = dir ?? "runs/tune-\(name(config))-\(name(space))"
            let tuner = try Tuner(directory: directory, base: base, space: parsed, method: method, trials: trials, seed: seed, eta: eta,
                                  metric: metric)
            return (tuner, directory, try tuner.prepareState())
        }
        let binary = Bundle.main.executablePath ?? CommandLine.arguments[0]
        ChildRuns.stopChildOnSignals()
        let state: TuneState
        do {
            state = try tuner.run(from: prepared) { stage in try runTrialStage(stage, binary: binary) }
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        let table = TrialTable.markdown(state)
        try Data(table.utf8).write(to: URL(fileURLWithPath: directory + "/trials.md"), options: .atomic)
        print(table, terminator: "")
        if let (best, bestConfig) = try tuner.bestConfig(state) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(bestConfig).write(to: URL(fileURLWithPath: directory + "/best-config.json"), options: .atomic)
            printError("[tune] best: \(best.name) with \(tuner.metric.label) \(tuner.metric.format(best.latest ?? 0)) after \(best.epochs) epochs; config in \(directory)/best-config.json")
        } else {
            printError("[tune] every trial failed; see the trials' logs in \(directory)")
            throw ExitCode(1)
        }
    }

    /// Trains one stage as a child process of this binary; its log lines are prefixed with
    /// the trial's name. Returns the ranking metric of the last validation in the trial's
    /// metrics.jsonl.
    func runTrialStage(_ stage: Tuner.Stage, binary: String) throws -> Double {
        var arguments = nproc > 1 ? ["launch", "--nproc", "\(nproc)"] : ["train"]
        arguments += ["--config", stage.configPath, "--run-dir", stage.runDirectory]
        if stage.resume { arguments.append("--resume") }
        let outcome = try ChildRuns.run(binary, arguments, prefix: stage.trial.name)
        if outcome.signalled {
            // Interrupted (Ctrl-C, a kill): stop the search; the same command continues it.
            throw TuneError("\(stage.trial.name) was stopped by signal \(outcome.status); run the same command to continue")
        }
        guard outcome.status == 0 else {
            throw TrialFailed("ringtrain \(arguments.joined(separator: " ")) exited with \(outcome.status): \(outcome.tail.suffix(3).joined(separator: " / "))")
        }
        return try lastValidation(runDirectory: stage.runDirectory, metric: metric.rawValue)
    }

    func lastValidation(runDirectory: String, metric key: String) throws -> Double {
        let path = runDirectory + "/metrics.jsonl"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TuneError("\(path): missing") }
        for line in text.split(separator: "\n").reversed() {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
               object["event"] as? String ?? "validation" == "validation", object["val_loss"] != nil {
                // A NaN metric (a diverged loss) is written as null: the trial ranks last.
                return object[key] as? Double ?? -1
            }
        }
        throw TuneError("\(path): no validation result")
    }
}
