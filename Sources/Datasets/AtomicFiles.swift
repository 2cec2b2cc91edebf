import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Files that appear whole or not at all: written to a temporary name in the same directory,
/// fsynced, renamed over the final name, and the directory fsynced, so a crash or a full disk
/// leaves either the old file or the new one.
enum AtomicFiles {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = temporaryName(for: path)
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, "create", errno) }
        do {
            try writeAll(fd: fd, bytes, path: temporary)
            guard fsync(fd) == 0 else { throw failure(temporary, "fsync", errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        try publish(temporary, as: path)
    }

    static func write(_ data: Data, to path: String) throws { try write([UInt8](data), to: path) }

    /// Renames a finished temporary file over `path` and makes the rename durable.
    static func publish(_ temporary: String, as path: String) throws {
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw failure(path, "rename", e)
        }
        syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func temporaryName(for path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
        return dir + "/." + name + ".tmp-\(getpid())"
    }

    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(path, "write", errno)
            }
            done += n
        }
    }

    static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd: fd, $0, path: path) }
    }

    static func syncDirectory(_ dir: String) {
        let fd = Glibc.open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    static func failure(_ path: String, _ call: String, _ code: Int32) -> DatasetError {
        DatasetError(file: path, field: call, String(cString: strerror(code)))
    }
}

/// An exclusive advisory lock on `DIR/lock` (flock) for as long as the value lives: one
/// `prepare` per output directory, and processes that would prepare the same cache wait for
/// the one that does.
final class DirectoryLock {
    private let fd: Int32

    /// Blocks until the lock is free (`wait`), or throws naming the directory if it is held.
    init(directory: String, wait: Bool) throws {
        let path = directory + "/lock"
        fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFiles.failure(path, "open", errno) }
        if flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let e = errno
            close(fd)
            if e == EWOULDBLOCK {
                throw DatasetError(file: directory, field: "lock", "another ringtrain process is preparing this directory")
            }
            throw AtomicFiles.failure(path, "flock", e)
        }
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
