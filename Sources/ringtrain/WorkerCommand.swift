import ArgumentParser
import Cluster
import Foundation

/// `ringtrain worker --coordinator HOST:PORT`: one data-plane process.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one worker (data plane).")

    @Option(help: "The coordinator's HOST:PORT (default: from MASTER_ADDR/MASTER_PORT, or the first host of SLURM_JOB_NODELIST).")
    var coordinator: String?
    @Option(help: "Dataset directory on this host (default: the coordinator's config).") var data: String?
    @Option(help: "Address to advertise to ring neighbours (default: the route to the coordinator).") var advertise: String?
    @Option(help: "Network interface whose address to advertise (not built yet: use --advertise).") var interface: String?
    @Option(name: .customLong("token-file"), help: "Cluster token file (else $RINGTRAIN_TOKEN).") var tokenFile: String?

    func run() throws {
        if interface != nil {
            printError("error: --interface is not built yet (issue #7); use --advertise ADDRESS")
            throw ExitCode(2)
        }
        let token = try exitingOnClusterError { try ClusterToken.load(file: tokenFile) }
        let environment = try exitingOnClusterError { try LaunchEnvironment(ProcessInfo.processInfo.environment) }
        guard let address = coordinator ?? environment.coordinator else {
            printError("error: give --coordinator HOST:PORT, or run under Slurm or a torchrun-style launcher (MASTER_ADDR, MASTER_PORT)")
            throw ExitCode(2)
        }
        var o = Worker.Options(coordinator: address)
        o.data = data
        o.advertise = advertise
        try exitingOnClusterError { try Worker(token: token, options: o).run() }
    }
}
