import ArgumentParser
import Cluster
import Foundation
import Training
import Transport

/// `ringtrain coordinator --listen HOST:PORT --world-size N`: the control plane alone, for
/// multi-host runs where workers are started elsewhere (deploy/launch.sh, Slurm).
struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator (control plane).")

    @Option(help: "Address to listen on, HOST:PORT.") var listen: String = "0.0.0.0:29500"
    @Option(name: .customLong("world-size"), help: "Number of workers (default: WORLD_SIZE or SLURM_NTASKS).") var worldSize: Int?
    @Option(name: .customLong("min-workers"), help: "Keep training while at least this many workers remain: a lost worker's ring is re-formed from the survivors (default: --world-size, any loss ends the run with exit 3).") var minWorkers: Int?
    @Option(name: .customLong("token-file"), help: "Cluster token file (else $RINGTRAIN_TOKEN).") var tokenFile: String?
    @Option(name: .customLong("rendezvous-timeout"), help: "Seconds to wait for all workers.") var rendezvousTimeout: Double = 300
    @Option(name: .customLong("heartbeat-timeout"), help: "Seconds of silence after which a worker is declared lost (the job ends with exit 3).")
    var heartbeatTimeout: Double = 30
    @Option(name: .customLong("stall-seconds"), help: "Report which rank is where when no step completes for this long (or 20 median steps).")
    var stallSeconds: Double = 10
    @OptionGroup var options: TrainingOptions

    func validate() throws {
        if let w = worldSize, w < 1 { throw ValidationError("--world-size must be at least 1") }
        if let m = minWorkers, m < 1 || m > (worldSize ?? Int.max) {
            throw ValidationError("--min-workers must be between 1 and --world-size")
        }
    }

    func run() throws {
        let config = try exitingOnBadInput { try options.resolve() }
        let environment = try exitingOnClusterError { try LaunchEnvironment(ProcessInfo.processInfo.environment) }
        guard let worldSize = worldSize ?? environment.worldSize else {
            printError("error: give --world-size N (or run under Slurm / set WORLD_SIZE)")
            throw ExitCode(2)
        }
        let token = try exitingOnClusterError { try ClusterToken.load(file: tokenFile) }
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            printError("error: --listen must be HOST:PORT, got \(listen)")
            throw ExitCode(2)
        }
        let listener = try exitingOnBadInput { try TCPListener(host: String(parts[0]), port: port) }
        // Under Slurm the job id keys the run directory, so resubmitting the job script resumes.
        let runDirectory = options.runDir ?? environment.jobID.map { "runs/slurm-\($0)" } ?? options.resolvedRunDirectory
        var o = Coordinator.Options(worldSize: worldSize, config: config, runDirectory: runDirectory)
        o.resume = options.resume
        o.rendezvousTimeout = rendezvousTimeout
        o.heartbeatTimeout = heartbeatTimeout
        o.stallSeconds = stallSeconds
        o.minWorkers = minWorkers
        printError("[coordinator] listening on \(listener.address) for \(worldSize) workers")
        let summary = try exitingOnClusterError { try Coordinator(listener: listener, token: token, options: o).run() }
        try printRunSummary(summary, runDirectory: runDirectory, json: options.json)
    }
}
