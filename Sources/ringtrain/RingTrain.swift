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
            TuneCommand.self, DataCommand.self, ExportCommand.self, PredictCommand.self, FuzzCommand.self, RingBenchWorkerCommand.self,
        ]
    )

    /// Bad usage exits 2 as DESIGN.md §7 says, not with ArgumentParser's EX_USAGE (64).
    static func main() {
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
