import ArgumentParser

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model in one process."
    )

    func run() throws {
        try notBuiltYet("train", issue: 4)
    }
}
