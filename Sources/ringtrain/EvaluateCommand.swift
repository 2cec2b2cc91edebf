import ArgumentParser

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate checkpoints (several files: an ensemble)."
    )

    func run() throws {
        try notBuiltYet("evaluate", issue: 4)
    }
}
