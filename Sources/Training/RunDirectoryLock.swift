import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per run directory: an exclusive `flock` on `RUN_DIR/lock`, held by the process
/// that writes the directory (the coordinator, or a single-process trainer) for as long as it
/// writes it. A second writer, on this host or another one sharing the file system through
/// NFSv4 or Lustre, is refused with the holder's pid and host (the file's one line). The
/// kernel drops the lock when the holder exits, however it exits: a crashed run leaves no
/// stale lock behind.
///
/// Within one process the lock is shared (counted): the trainer and the coordinator of one
/// `launch`, or a test that resumes a run in the process that interrupted it, are one writer.
final class RunDirectoryLock {
    private static let tableLock = NSLock()
    nonisolated(unsafe) private static var held: [String: (fd: Int32, users: Int)] = [:]

    let path: String
    private var released = false

    /// Takes the lock of `directory` or throws naming its holder.
    init(directory: String) throws {
        path = (directory as NSString).appendingPathComponent("lock")
        Self.tableLock.lock()
        defer { Self.tableLock.unlock() }
        if let entry = Self.held[path] {
            Self.held[path] = (entry.fd, entry.users + 1)
            return
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigurationError(key: "run_dir", "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let why = errno
            let holder = Self.readHolder(fd)
            close(fd)
            if why == EWOULDBLOCK {
                throw ConfigurationError(key: "run_dir", "\(directory) is being written by \(holder.isEmpty ? "another process" : holder) (it holds \(path)); wait for that run to end, stop it, or give another --run-dir")
            }
            throw ConfigurationError(key: "run_dir", "cannot lock \(path): \(String(cString: strerror(why)))")
        }
        let line = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
        Self.held[path] = (fd, 1)
    }

    /// Gives up this user's share; the last one closes the file, which drops the lock.
    func release() {
        Self.tableLock.lock()
        defer { Self.tableLock.unlock() }
        guard !released, let entry = Self.held[path] else { return }
        released = true
        if entry.users > 1 {
            Self.held[path] = (entry.fd, entry.users - 1)
        } else {
            Self.held[path] = nil
            close(entry.fd)
        }
    }

    deinit { release() }

    private static func readHolder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 255, 0) }
        guard n > 0 else { return "" }
        return String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
