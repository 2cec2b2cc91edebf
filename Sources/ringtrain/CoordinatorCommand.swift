import ArgumentParser

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator (control plane)."
    )

    func run() throws {
        try notBuiltYet("coordinator", issue: 6)
    }
}
