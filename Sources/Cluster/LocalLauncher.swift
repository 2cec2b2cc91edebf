import CProcessControl
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts worker processes on this host, prefixes and merges their output, and makes sure
/// none of them outlives the launcher: `terminateAll` sends SIGTERM, then SIGKILL after a
/// grace period, and a worker dies with a launcher that is killed outright (`bindToLauncher`).
public final class LocalLauncher: @unchecked Sendable {
    public static let gracePeriod: Double = 5

    let binary: String
    private var processes: [Process] = []
    private let outputLock = NSLock()

    public init(binary: String = LocalLauncher.currentExecutable) {
        self.binary = binary
    }

    /// Set in every worker's environment to the launcher's pid: `bindToLauncher()`.
    public static let parentVariable = "RINGTRAIN_LAUNCHER_PID"

    /// In a worker this launcher started: die with the launcher, however it dies (SIGKILL
    /// included, where nothing of the launcher runs), and take SIGINT and SIGTERM at their
    /// default again (the launcher ignores them to handle them itself, and children inherit
    /// ignored signals), so `terminateAll`'s SIGTERM ends a worker at once. A launcher gone
    /// before this runs (the race prctl cannot close) is seen as a changed parent pid.
    public static func bindToLauncher(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let text = environment[parentVariable], let launcher = Int32(text) else { return }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        _ = ringtrain_set_parent_death_signal(SIGKILL)
        if getppid() != launcher {
            FileHandle.standardError.write(Data("[worker] the launch that started this worker (pid \(launcher)) is gone; exiting\n".utf8))
            exit(3)
        }
    }

    /// This executable, for starting more of itself.
    public static var currentExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts `ringtrain ARGUMENTS` with `environment` added; its lines are printed with `prefix`.
    public func spawn(arguments: [String], environment: [String: String], prefix: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env[Self.parentVariable] = String(getpid())
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        forward(out.fileHandleForReading, prefix: prefix)
        try p.run()
        outputLock.lock()
        processes.append(p)
        outputLock.unlock()
    }

    private func forward(_ handle: FileHandle, prefix: String) {
        // The handler runs on FileHandle's queue, one call at a time: the partial line it
        // keeps between calls is its own (a box, since the handler is a concurrent closure).
        let pending = PartialLine()
        handle.readabilityHandler = { [weak self] h in
            let chunk = h.availableData
            if chunk.isEmpty {
                h.readabilityHandler = nil
                if !pending.data.isEmpty { self?.emit(prefix, pending.data) }
                return
            }
            pending.data.append(chunk)
            // Progress lines redraw with \r on a terminal; treat \r like \n for the merged log.
            while let i = pending.data.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                let line = pending.data[pending.data.startIndex..<i]
                if !line.isEmpty { self?.emit(prefix, Data(line)) }
                pending.data.removeSubrange(pending.data.startIndex...i)
            }
        }
    }

    private func emit(_ prefix: String, _ line: Data) {
        let text = prefix + String(decoding: line, as: UTF8.self).replacingOccurrences(of: "\u{1B}[2K", with: "") + "\n"
        outputLock.lock()
        FileHandle.standardError.write(text.data(using: .utf8)!)
        outputLock.unlock()
    }

    /// Waits up to `timeout` seconds for every worker to exit; returns their exit codes
    /// (nil for one still running).
    public func waitAll(timeout: Double) -> [Int32?] {
        let deadline = Date().addingTimeInterval(timeout)
        outputLock.lock()
        let all = processes
        outputLock.unlock()
        while all.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        return all.map { $0.isRunning ? nil : $0.terminationStatus }
    }

    /// SIGTERM to every live worker, SIGKILL to those still alive after the grace period.
    public func terminateAll() {
        outputLock.lock()
        let all = processes
        outputLock.unlock()
        for p in all where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(Self.gracePeriod)
        while all.contains(where: \.isRunning) && Date() < deadline { usleep(20_000) }
        for p in all where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in all { p.waitUntilExit() }
    }

    public var pids: [Int32] {
        outputLock.lock(); defer { outputLock.unlock() }
        return processes.map(\.processIdentifier)
    }
}

/// The bytes of a worker's output line not ended yet.
private final class PartialLine: @unchecked Sendable {
    var data = Data()
}
