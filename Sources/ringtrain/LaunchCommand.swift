import ArgumentParser
import Cluster
import Foundation
import Training

/// `ringtrain launch --nproc N`: a coordinator in this process and N workers on loopback
/// (like `torchrun --standalone --nproc-per-node N`).
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start a coordinator and N workers on this host.")

    @Option(help: "Number of worker processes.") var nproc: Int = 2
    @Option(name: .customLong("min-workers"), help: "Keep training while at least this many workers remain: a lost worker's ring is re-formed from the survivors (default: --nproc).")
    var minWorkers: Int?
    @Option(name: .customLong("rendezvous-timeout"), help: "Seconds to wait for all workers to register.") var rendezvousTimeout: Double = 120
    @Option(name: .customLong("heartbeat-timeout"), help: "Seconds of silence after which a worker is declared lost (the job ends with exit 3).")
    var heartbeatTimeout: Double = 30
    @Option(name: .customLong("stall-seconds"), help: "Report which rank is where when no step completes for this long (or 20 median steps).")
    var stallSeconds: Double = 10
    @OptionGroup var options: TrainingOptions

    func validate() throws {
        guard nproc >= 1 && nproc <= 256 else { throw ValidationError("--nproc must be in 1...256") }
        guard stallSeconds > 0, stallSeconds.isFinite else { throw ValidationError("--stall-seconds must be a positive number of seconds") }
        if let m = minWorkers, m < 1 || m > nproc {
            throw ValidationError("--min-workers must be between 1 and --nproc (\(nproc))")
        }
    }

    func run() throws {
        let config = LocalCluster.sharingCores(try exitingOnBadInput { try options.resolve() }, nproc: nproc)
        let runDir = options.resolvedRunDirectory
        var coordinatorOptions = Coordinator.Options(worldSize: nproc, config: config, runDirectory: runDir)
        coordinatorOptions.resume = options.resume
        coordinatorOptions.rendezvousTimeout = rendezvousTimeout
        coordinatorOptions.heartbeatTimeout = heartbeatTimeout
        coordinatorOptions.minWorkers = minWorkers
        coordinatorOptions.stallSeconds = stallSeconds
        let summary = try LocalCluster.run(nproc: nproc, options: coordinatorOptions) { try $0.run() }
        try printRunSummary(summary, runDirectory: runDir, json: options.json)
    }
}
