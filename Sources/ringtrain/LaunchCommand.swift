import ArgumentParser
import Cluster
import Foundation
import Training
import Transport
#if canImport(Glibc)
import Glibc
#endif

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
        var config = try exitingOnBadInput { try options.resolve() }
        if config.threads == 0 {
            // One process per core share: N workers on C cores get C/N threads each.
            config.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / nproc)
        }
        let runDir = options.resolvedRunDirectory
        let token = ClusterToken.generate()
        let listener = try exitingOnBadInput { try TCPListener(host: "127.0.0.1", port: 0) }
        var coordinatorOptions = Coordinator.Options(worldSize: nproc, config: config, runDirectory: runDir)
        coordinatorOptions.resume = options.resume
        coordinatorOptions.rendezvousTimeout = rendezvousTimeout
        coordinatorOptions.heartbeatTimeout = heartbeatTimeout
        coordinatorOptions.minWorkers = minWorkers
        coordinatorOptions.stallSeconds = stallSeconds
        let coordinator = Coordinator(listener: listener, token: Array(token.utf8), options: coordinatorOptions)

        let launcher = LocalLauncher()
        printError("[launch] coordinator on \(coordinator.address); starting \(nproc) workers, \(config.threads) threads each; run directory \(runDir)")
        let trap = SignalTrap { sig in
            printError("[launch] signal \(sig): stopping every worker")
            launcher.terminateAll()
            Foundation.exit(128 + sig)
        }
        do {
            for i in 0..<nproc {
                try launcher.spawn(arguments: ["worker", "--coordinator", coordinator.address],
                                   environment: [ClusterToken.environmentVariable: token], prefix: "[worker \(i)] ")
            }
        } catch {
            launcher.terminateAll()
            printError("error: cannot start workers: \(error)")
            throw ExitCode(1)
        }
        let summary: TrainingSummary
        do {
            summary = try coordinator.run()
        } catch let e as ClusterError {
            // A signal's stop makes workers vanish: the handler ends the process, with 128 + sig.
            trap.waitIfFired()
            launcher.terminateAll()
            printError("error: \(e.message)")
            throw ExitCode(e.exitCode)
        }
        let codes = launcher.waitAll(timeout: 60)
        launcher.terminateAll()
        if codes.contains(where: { $0 != 0 }) {
            printError("[launch] worker exit codes: \(codes.map { $0.map(String.init) ?? "running" })")
        }
        try printRunSummary(summary, runDirectory: runDir, json: options.json)
    }
}
