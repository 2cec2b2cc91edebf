import ArgumentParser
import Cluster
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Maps a cluster failure to its exit code (DESIGN.md §7) after printing it.
func exitingOnClusterError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as ClusterError {
        printError("error: \(e.message)")
        throw ExitCode(e.exitCode)
    }
}

/// Runs `handler` once on SIGINT or SIGTERM (the signals are no longer fatal by default).
final class SignalTrap {
    private var sources: [DispatchSourceSignal] = []

    init(_ handler: @escaping (Int32) -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { handler(sig) }
            s.resume()
            sources.append(s)
        }
    }
}
