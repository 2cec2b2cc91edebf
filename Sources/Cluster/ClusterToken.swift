import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The cluster token: a shared secret every connection proves with HMAC-SHA256. From
/// `--token-file` (mode 0600 or stricter, else refused), else `RINGTRAIN_TOKEN`; at least 32
/// characters. `launch` makes a fresh one per run and hands it to its children in the
/// environment (never on a command line visible in `ps`).
public enum ClusterToken {
    public static let environmentVariable = "RINGTRAIN_TOKEN"

    /// The shortest token accepted: 32 characters, 128 bits as hex (`openssl rand -hex 16`);
    /// a shorter one can be guessed offline from one recorded handshake.
    public static let minimumLength = 32
    static let advice = "make one with: openssl rand -hex 32 > token && chmod 600 token"

    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [UInt8] {
        let token: [UInt8]
        let source: String
        if let file {
            token = try read(file: file)
            source = "the token file \(file)"
        } else if let value = environment[environmentVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            // Trimmed as the file is: a Kubernetes secret made from a file ends in a newline.
            token = Array(value.utf8)
            source = environmentVariable
        } else {
            throw ClusterError("no cluster token: give --token-file FILE or set \(environmentVariable) (the same on every host)", exitCode: 2)
        }
        guard token.count >= minimumLength else {
            throw ClusterError("\(source) holds a token of \(token.count) characters, fewer than the \(minimumLength) (128 bits as hex) a token needs; \(advice)", exitCode: 2)
        }
        return token
    }

    /// Opens the file once and checks the very file it reads (fstat on the open descriptor):
    /// a check of the path followed by a read of the path could read another file swapped in
    /// between.
    static func read(file: String) throws -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            throw ClusterError("cannot read the token file \(file): \(String(cString: strerror(errno)))", exitCode: 2)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ClusterError("cannot read the token file \(file): \(String(cString: strerror(errno)))", exitCode: 2)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ClusterError("the token file \(file) is not a regular file", exitCode: 2)
        }
        // Like ssh with a private key: a secret others can read is no longer one.
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ClusterError("the token file \(file) is readable or writable by others (mode \(String(mode, radix: 8))); run chmod 600 \(file)", exitCode: 2)
        }
        guard info.st_size <= 4096 else {
            throw ClusterError("the token file \(file) is \(info.st_size) bytes; a token is one line", exitCode: 2)
        }
        var bytes = [UInt8](repeating: 0, count: 4096)
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, $0.count - got) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                throw ClusterError("cannot read the token file \(file): \(String(cString: strerror(errno)))", exitCode: 2)
            }
            if n == 0 { break }
            got += n
        }
        let text = String(decoding: bytes[0..<got], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ClusterError("the token file \(file) is empty; \(advice)", exitCode: 2) }
        return Array(text.utf8)
    }

    /// 32 random bytes as hex.
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }.map { String(format: "%02x", $0) }.joined()
    }
}
