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
    @Option(name: .customLong("world-size"), help: "Number of workers.") var worldSize: Int
    @Option(name: .customLong("min-workers"), help: "Elastic minimum (not built yet; must equal --world-size).") var minWorkers: Int?
    @Option(name: .customLong("token-file"), help: "Cluster token file (else $RINGTRAIN_TOKEN).") var tokenFile: String?
    @Option(name: .customLong("rendezvous-timeout"), help: "Seconds to wait for all workers.") var rendezvousTimeout: Double = 300
    @Option(name: .customLong("heartbeat-timeout"), help: "Seconds of silence after which a worker is declared lost (the job ends with exit 3).")
    var heartbeatTimeout: Double = 30
    @OptionGroup var options: TrainingOptions

    func validate() throws {
        guard worldSize >= 1 else { throw ValidationError("--world-size must be at least 1") }
        if let m = minWorkers, m != worldSize { throw ValidationError("--min-workers below --world-size is not built yet (issue #8)") }
    }

    func run() throws {
        let config = try exitingOnBadInput { try options.resolve() }
        let token = try exitingOnClusterError { try ClusterToken.load(file: tokenFile) }
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else {
            printError("error: --listen must be HOST:PORT, got \(listen)")
            throw ExitCode(2)
        }
        let listener = try exitingOnBadInput { try TCPListener(host: String(parts[0]), port: port) }
        var o = Coordinator.Options(worldSize: worldSize, config: config, runDirectory: options.resolvedRunDirectory)
        o.resume = options.resume
        o.rendezvousTimeout = rendezvousTimeout
        o.heartbeatTimeout = heartbeatTimeout
        printError("[coordinator] listening on \(listener.address) for \(worldSize) workers")
        let summary = try exitingOnClusterError { try Coordinator(listener: listener, token: token, options: o).run() }
        print(try jsonString(summary))
    }
}
