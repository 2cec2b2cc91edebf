// Errors of the transport: every one names the system call or protocol step, errno where
// there is one, and the peer (address and rank).
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public struct TransportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A system call failed.
        case system(call: String, errno: Int32)
        /// No progress before the deadline.
        case timedOut(operation: String, seconds: Double)
        /// End of stream in the middle of a message.
        case closed(operation: String, expected: Int, got: Int)
        /// A frame longer than the hard maximum.
        case frameTooLarge(length: Int, maximum: Int)
        /// The peer did not speak this protocol (magic) or this version.
        case badMagic(UInt32)
        case badVersion(UInt16)
        /// The peer failed the HMAC challenge, or refused ours.
        case authenticationFailed(String)
        /// Anything else the peer got wrong (wrong rank, bad role).
        case protocolError(String)
    }

    public let kind: Kind
    /// "127.0.0.1:40123" (or the address we tried to reach).
    public let peer: String
    public let peerRank: Int?
    public let localRank: Int?

    public init(_ kind: Kind, peer: String, peerRank: Int? = nil, localRank: Int? = nil) {
        self.kind = kind; self.peer = peer; self.peerRank = peerRank; self.localRank = localRank
    }

    func with(peerRank: Int?, localRank: Int?) -> TransportError {
        TransportError(kind, peer: peer, peerRank: self.peerRank ?? peerRank, localRank: self.localRank ?? localRank)
    }

    public var description: String {
        var who = "[transport]"
        if let l = localRank { who += " rank \(l)" }
        who += " peer \(peer)"
        if let r = peerRank { who += " (rank \(r))" }
        switch kind {
        case let .system(call, e):
            return "\(who): \(call) failed: \(String(cString: strerror(e))) (errno \(e))"
        case let .timedOut(op, s):
            return "\(who): \(op) timed out after \(s) s (peer silent)"
        case let .closed(op, expected, got):
            return "\(who): \(op): connection closed by peer after \(got) of \(expected) bytes"
        case let .frameTooLarge(len, max):
            return "\(who): frame of \(len) bytes exceeds the maximum of \(max) bytes; connection closed"
        case let .badMagic(m):
            return "\(who): bad magic 0x\(String(m, radix: 16)) (not a ringtrain peer); connection closed"
        case let .badVersion(v):
            return "\(who): unsupported protocol version \(v); connection closed"
        case let .authenticationFailed(why):
            return "\(who): authentication failed: \(why)"
        case let .protocolError(why):
            return "\(who): protocol error: \(why)"
        }
    }
}

/// Where transport events (refused peers, retries) are reported. Defaults to stderr.
public enum TransportLog {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var handler: (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    public static func setHandler(_ h: @escaping (String) -> Void) { lock.lock(); handler = h; lock.unlock() }

    static func log(_ line: String) {
        lock.lock(); let h = handler; lock.unlock()
        h(line)
    }
}

/// Runs a system call, retrying on EINTR (the one place that does); returns its result or
/// throws a TransportError naming the call. EAGAIN is returned to the caller as -1 with errno set.
@inline(__always)
func sysCall<T: BinaryInteger>(_ name: String, peer: String, _ body: () -> T) throws -> T {
    while true {
        let r = body()
        if r >= 0 { return r }
        let e = errno
        if e == EINTR { continue }
        if e == EAGAIN || e == EWOULDBLOCK || e == EINPROGRESS { return r }
        throw TransportError(.system(call: name, errno: e), peer: peer)
    }
}

/// A point in monotonic time.
struct Deadline {
    let nanos: UInt64
    let seconds: Double
    init(seconds: Double) {
        self.seconds = seconds
        nanos = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, seconds) * 1e9)
    }
    /// Milliseconds left, at least 0, for poll.
    var remainingMillis: Int32 {
        let now = DispatchTime.now().uptimeNanoseconds
        if now >= nanos { return 0 }
        return Int32(min(UInt64(Int32.max), (nanos - now + 999_999) / 1_000_000))
    }
    var passed: Bool { DispatchTime.now().uptimeNanoseconds >= nanos }
}
