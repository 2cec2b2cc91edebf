import ArgumentParser
import Cluster
import Foundation
import Training
import Transport

/// A coordinator in this process and N worker processes on loopback, as `launch` and
/// `lr-find --nproc N` start them: a fresh token, workers stopped on a signal or a failure,
/// their exit codes checked at the end.
enum LocalCluster {
    /// A config's `threads: 0` on N workers of one host: C cores give each worker C/N threads.
    static func sharingCores(_ config: TrainingConfig, nproc: Int) -> TrainingConfig {
        var config = config
        if config.threads == 0 { config.threads = max(1, ProcessInfo.processInfo.activeProcessorCount / nproc) }
        return config
    }

    /// Starts the workers and runs `job` on the coordinator; a `ClusterError` becomes the exit
    /// code it carries, a signal 128 + its number.
    static func run<T>(nproc: Int, options: Coordinator.Options, job: (Coordinator) throws -> T) throws -> T {
        let token = ClusterToken.generate()
        let listener = try exitingOnBadInput { try TCPListener(host: "127.0.0.1", port: 0) }
        let coordinator = Coordinator(listener: listener, token: Array(token.utf8), options: options)
        let launcher = LocalLauncher()
        printError("[launch] coordinator on \(coordinator.address); starting \(nproc) workers, \(options.config.threads) threads each; run directory \(options.runDirectory)")
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
        let result: T
        do {
            result = try job(coordinator)
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
        return result
    }
}
