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
final class SignalTrap: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var caught = false

    /// Whether a signal came: the handler is stopping the process, so an error the stop
    /// causes elsewhere (a worker gone) must not end it first with another exit code.
    var fired: Bool { lock.lock(); defer { lock.unlock() }; return caught }

    /// Called by a thread that would end the process while the handler stops it: waits for
    /// the handler's own exit.
    func waitIfFired() {
        guard fired else { return }
        while true { sleep(60) }
    }

    init(_ handler: @escaping (Int32) -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [unowned self] in
                self.lock.lock()
                self.caught = true
                self.lock.unlock()
                handler(sig)
            }
            s.resume()
            sources.append(s)
        }
    }
}
