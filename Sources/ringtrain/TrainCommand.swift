import ArgumentParser
import Foundation
import Training

/// `ringtrain train`: one process, the whole training loop, the run directory.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model in one process.",
        discussion: "Writes config.json, metrics.jsonl, summary.json and checkpoints/ to the run directory.")

    @OptionGroup var options: TrainingOptions

    func run() throws {
        let runDir = options.resolvedRunDirectory
        let trainer = try exitingOnBadInput { () -> Trainer in
            let config = try options.resolve()
            var o = Trainer.Options(runDirectory: runDir, resume: options.resume)
            o.progress = ProgressLine(interval: config.progressSeconds)
            o.announcesTest = false   // printRunSummary has the test figures
            return try Trainer(config: config, options: o)
        }
        printError("training \(trainer.modelName) on \(trainer.config.data) -> \(runDir) (\(trainer.network.parameterCount) parameters, \(trainer.state.stepsPerEpoch) steps/epoch)")
        do {
            let summary = try trainer.run()
            try printRunSummary(summary, runDirectory: runDir, json: options.json)
        } catch {
            printError("error: training failed: \(error)")
            throw ExitCode(1)
        }
    }
}
