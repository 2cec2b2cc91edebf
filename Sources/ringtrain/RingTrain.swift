import ArgumentParser
import Foundation

/// The `ringtrain` command: every entry point of DESIGN.md §7.
@main
struct RingTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringtrain",
        abstract: "Data-parallel CNN training over a TCP ring all-reduce.",
        discussion: """
        Exit codes: 0 done, 1 training failed, 2 bad usage or input, \
        3 a peer was lost and the run is resumable.
        """,
        version: "0.1.0",
        subcommands: [
            TrainCommand.self, LaunchCommand.self, CoordinatorCommand.self, WorkerCommand.self,
            EvaluateCommand.self, CheckpointCommand.self, BenchCommand.self, ReportCommand.self,
            TuneCommand.self, DataCommand.self, ExportCommand.self, PredictCommand.self, LRFindCommand.self, CVCommand.self, FuzzCommand.self, RingBenchWorkerCommand.self,
        ]
    )

    /// Bad usage exits 2 as DESIGN.md §7 says, not with ArgumentParser's EX_USAGE (64).
    static func main() {
        if let message = unknownSubcommand(Array(CommandLine.arguments.dropFirst()), of: RingTrain.self, path: "ringtrain") {
            FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error).rawValue == 64 {
                FileHandle.standardError.write((fullMessage(for: error) + "\n").data(using: .utf8)!)
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// "unknown subcommand 'X' of ringtrain (one of: ...)" when the first word after a command
/// that has subcommands names none of them (ArgumentParser would say "2 unexpected
/// arguments"); nil when the words are fine or are left to the parser.
func unknownSubcommand(_ words: [String], of command: ParsableCommand.Type, path: String) -> String? {
    let subcommands = command.configuration.subcommands
    guard !subcommands.isEmpty, let first = words.first, !first.hasPrefix("-") else { return nil }
    let names = subcommands.map { $0._commandName }
    guard let index = names.firstIndex(of: first) else {
        if first == "help" { return nil }
        let visible = zip(names, subcommands).filter { $0.1.configuration.shouldDisplay }.map(\.0)
        return "error: unknown subcommand '\(first)' of \(path) (one of: \(visible.joined(separator: ", ")); see \(path) --help)"
    }
    return unknownSubcommand(Array(words.dropFirst()), of: subcommands[index], path: path + " " + first)
}
