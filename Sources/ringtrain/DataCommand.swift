import ArgumentParser

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect datasets.",
        subcommands: [DataInfoCommand.self]
    )
}

struct DataInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Describe a dataset directory.")
    @Argument(help: "Dataset directory.") var dir: String = "/usr/share/datasets/fashion-mnist"
    @Flag(help: "Print one JSON object.") var json = false
    func run() throws { try notBuiltYet("data info", issue: 2) }
}
