import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls of the atomic-write protocol, each retried on EINTR and failing with an
/// error that names the call, the file and errno's text.
enum FileIO {
    static func error(_ call: String, _ path: String, _ code: Int32 = errno) -> CheckpointError {
        let text = String(cString: strerror(code))
        var hint = ""
        if code == ENOSPC { hint = " (the disk is full)" }
        if code == EFBIG { hint = " (over the file-size limit)" }
        if code == EDQUOT { hint = " (over the disk quota)" }
        return CheckpointError(.io, file: path, "\(call) failed: \(text) (errno \(code))\(hint)")
    }

    static func readAll(path: String) throws -> [UInt8] {
        let fd = retry { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw error("open", path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw error("fstat", path) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var at = 0
        while at < out.count {
            let n = out.withUnsafeMutableBytes { raw in retry { read(fd, raw.baseAddress! + at, raw.count - at) } }
            if n < 0 { throw error("read", path) }
            if n == 0 { break }
            at += n
        }
        if at < out.count { out.removeSubrange(at...) }
        return out
    }

    /// Creates `path` (which must not exist), writes all of `bytes`, fsyncs and closes it. On
    /// any failure the partial file is removed before the error is thrown.
    static func writeNewFileDurably(path: String, bytes: [UInt8]) throws {
        let fd = retry { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw error("open", path) }
        var failure: CheckpointError?
        var at = 0
        bytes.withUnsafeBytes { raw in
            while at < raw.count {
                let n = retry { write(fd, raw.baseAddress! + at, raw.count - at) }
                if n < 0 { failure = error("write", path); return }
                if n == 0 { failure = error("write", path, EIO); return }
                at += n
            }
        }
        if failure == nil, retry({ fsync(fd) }) != 0 { failure = error("fsync", path) }
        if close(fd) != 0, failure == nil { failure = error("close", path) }
        if let failure = failure {
            unlink(path)
            throw failure
        }
    }

    static func rename(_ from: String, to: String) throws {
        #if canImport(Glibc)
        let r = retry { Glibc.rename(from, to) }
        #else
        let r = retry { Darwin.rename(from, to) }
        #endif
        if r != 0 { throw error("rename to \(to)", from) }
    }

    /// fsync of a directory, so a rename inside it survives a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = retry { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw error("open directory", path) }
        defer { close(fd) }
        if retry({ fsync(fd) }) != 0 { throw error("fsync directory", path) }
    }

    static func makeDirectories(_ path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { return }
            throw CheckpointError(.io, file: path, "exists and is not a directory")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.io, file: path, "cannot create the directory: \(error.localizedDescription)")
        }
    }

    @inline(__always) static func retry<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let r = call()
            if r < 0 && errno == EINTR { continue }
            return r
        }
    }
}
