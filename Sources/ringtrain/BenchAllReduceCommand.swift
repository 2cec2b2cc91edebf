import ArgumentParser

struct BenchAllReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allreduce", abstract: "Benchmark: allreduce.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try notBuiltYet("bench allreduce", issue: 5)
    }
}
