import ArgumentParser

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one worker (data plane)."
    )

    func run() throws {
        try notBuiltYet("worker", issue: 6)
    }
}
