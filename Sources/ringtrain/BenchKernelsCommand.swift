import ArgumentParser

struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels", abstract: "Benchmark: kernels.")

    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        try notBuiltYet("bench kernels", issue: 3)
    }
}
