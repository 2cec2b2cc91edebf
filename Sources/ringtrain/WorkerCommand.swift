import ArgumentParser
import Cluster
import Foundation
import Transport

/// `ringtrain worker --coordinator HOST:PORT`: one data-plane process.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one worker (data plane).")

    @Option(help: "The coordinator's HOST:PORT (default: from MASTER_ADDR/MASTER_PORT, or the first host of SLURM_JOB_NODELIST).")
    var coordinator: String?
    @Option(help: "Dataset directory on this host (default: the coordinator's config).") var data: String?
    @Option(help: "Address to advertise to ring neighbours (default: the route to the coordinator).") var advertise: String?
    @Option(help: "Network interface whose address to advertise, e.g. eth1.") var interface: String?
    @Option(help: "Advertise this host's address inside this subnet, e.g. 10.20.0.0/16.") var subnet: String?
    @Option(name: .customLong("token-file"), help: "Cluster token file (else $RINGTRAIN_TOKEN).") var tokenFile: String?

    func run() throws {
        LocalLauncher.bindToLauncher()
        if [advertise != nil, interface != nil, subnet != nil].filter({ $0 }).count > 1 {
            printError("error: give at most one of --advertise, --interface, --subnet")
            throw ExitCode(2)
        }
        var advertised = advertise
        do {
            if let name = interface { advertised = try InterfaceAddresses.address(ofInterface: name) }
            if let cidr = subnet { advertised = try InterfaceAddresses.address(inSubnet: cidr) }
        } catch {
            // Before any connection: this host cannot offer its ring neighbours an address.
            printError("error: worker on host \(ProcessInfo.processInfo.hostName) cannot choose the address its ring neighbours connect to: \(error)")
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
        o.advertise = advertised
        try exitingOnClusterError { try Worker(token: token, options: o).run() }
    }
}
