// Two connected endpoints in one process, for feeding bytes to the receive path.
import Glibc

extension TCPConnection {
    /// A Unix-domain socket pair wrapped as two connections, with the same framing, deadlines
    /// and errors as TCP: `ringtrain fuzz frame|handshake` writes a mutated input into one end
    /// and runs the real frame decoder or handshake on the other.
    public static func pair() throws -> (TCPConnection, TCPConnection) {
        var fds: [Int32] = [-1, -1]
        let r = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        guard r == 0 else { throw TransportError(.system(call: "socketpair", errno: errno), peer: "socket pair") }
        let a = TCPConnection(fd: fds[0], peer: "pair end 0"), b = TCPConnection(fd: fds[1], peer: "pair end 1")
        try a.makeBlocking()
        try b.makeBlocking()
        return (a, b)
    }

    /// Ends this side's sending: the other side reads what was sent, then end-of-stream.
    public func finishSending() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }
}
