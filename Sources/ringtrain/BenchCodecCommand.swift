import ArgumentParser

struct BenchCodecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "codec", abstract: "Benchmark: codec.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try notBuiltYet("bench codec", issue: 5)
    }
}
