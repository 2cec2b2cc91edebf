import ArgumentParser

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Benchmark: train.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try notBuiltYet("bench train", issue: 6)
    }
}
