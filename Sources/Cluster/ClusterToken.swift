import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The cluster token: a shared secret every connection proves with HMAC-SHA256. From
/// `--token-file` (mode 0600 or stricter, else refused), else `RINGTRAIN_TOKEN`; `launch` makes a fresh one per run and hands it
/// to its children in the environment (never on a command line visible in `ps`).
public enum ClusterToken {
    public static let environmentVariable = "RINGTRAIN_TOKEN"

    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [UInt8] {
        if let file {
            // Like ssh with a private key: a secret others can read is no longer one.
            var info = stat()
            guard stat(file, &info) == 0 else {
                throw ClusterError("cannot read the token file \(file): \(String(cString: strerror(errno)))", exitCode: 2)
            }
            let mode = info.st_mode & 0o777
            guard mode & 0o077 == 0 else {
                throw ClusterError("the token file \(file) is readable or writable by others (mode \(String(mode, radix: 8))); run chmod 600 \(file)", exitCode: 2)
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ClusterError("cannot read the token file \(file)", exitCode: 2)
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw ClusterError("the token file \(file) is empty", exitCode: 2) }
            return Array(text.utf8)
        }
        if let value = environment[environmentVariable], !value.isEmpty {
            return Array(value.utf8)
        }
        throw ClusterError("no cluster token: give --token-file FILE or set \(environmentVariable) (the same on every host)", exitCode: 2)
    }

    /// 32 random bytes as hex.
    public static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }.map { String(format: "%02x", $0) }.joined()
    }
}
