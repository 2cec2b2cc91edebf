import ArgumentParser

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Hyperparameter search."
    )

    func run() throws {
        try notBuiltYet("tune", issue: 9)
    }
}
