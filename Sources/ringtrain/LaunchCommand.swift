import ArgumentParser

struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start a coordinator and N workers on this host."
    )

    func run() throws {
        try notBuiltYet("launch", issue: 6)
    }
}
