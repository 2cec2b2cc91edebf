import ArgumentParser

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Inspect or verify a checkpoint file.",
        subcommands: [Inspect.self, Verify.self]
    )

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tensors, shapes and metadata.")
        @Argument(help: "The checkpoint file.") var file: String
        func run() throws { try notBuiltYet("checkpoint inspect", issue: 4) }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the data hash; exit 1 on a mismatch.")
        @Argument(help: "The checkpoint file.") var file: String
        func run() throws { try notBuiltYet("checkpoint verify", issue: 4) }
    }
}
