import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs of this binary as a child (`tune`'s trials, `cv`'s folds): their log lines go to
/// stderr with a prefix, and a Ctrl-C or kill of the parent stops the child too, so a re-run
/// never finds a leftover child still writing its run directory.
enum ChildRuns {
    /// The child running now (0: none).
    nonisolated(unsafe) static var running: pid_t = 0

    /// Stops the child on SIGINT, SIGTERM and SIGHUP, then exits.
    static func stopChildOnSignals() {
        for s in [SIGINT, SIGTERM, SIGHUP] { signal(s, stopChildAndExit) }
    }

    struct Outcome {
        var status: Int32
        var signalled: Bool
        /// The child's last log lines.
        var tail: [String]
    }

    /// Runs `binary arguments`, each stderr line printed as "[prefix] line"; stdout is dropped.
    static func run(_ binary: String, _ arguments: [String], prefix: String) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let pipe = Pipe()
        process.standardError = pipe
        try process.run()
        running = process.processIdentifier
        defer { running = 0 }
        var tail: [String] = []
        var pending = Data()
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                guard !line.isEmpty else { continue }
                printError("[\(prefix)] \(line)")
                tail.append(line)
                if tail.count > 20 { tail.removeFirst() }
            }
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal, tail: tail)
    }
}

private func stopChildAndExit(_ signal: Int32) {
    if ChildRuns.running > 0 { kill(ChildRuns.running, SIGTERM) }
    _exit(128 + signal)
}
