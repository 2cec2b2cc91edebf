// A TCP connection with deadlines: non-blocking fd + poll, EINTR retried in sysCall,
// end-of-stream mid-message is an error, length-prefixed frames with a hard maximum.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Collectives

/// Socket tuning. Defaults are documented here; tests shorten the timeouts.
public struct TCPOptions: Sendable {
    /// Total time to reach a neighbour (connect retries, accept) when forming the ring.
    public var connectTimeout: Double = 60
    /// Time for the whole handshake of one connection.
    public var handshakeTimeout: Double = 10
    /// Time for one frame to be sent or received; a silent peer fails after this.
    public var ioTimeout: Double = 120
    /// Hard maximum frame length (bytes after the length prefix).
    public var maxFrameBytes: Int = 64 << 20
    /// SO_SNDBUF / SO_RCVBUF (the kernel doubles the value).
    public var socketBufferBytes: Int32 = 4 << 20
    public init() {
        if let v = ProcessInfo.processInfo.environment["RINGTRAIN_SOCKET_BUFFER"], let b = Int32(v) { socketBufferBytes = b }
    }
}

public final class TCPConnection: @unchecked Sendable {
    let fd: Int32
    /// "host:port" of the other side.
    public let peer: String
    public var peerRank: Int?
    public var localRank: Int?
    private let closeLock = NSLock()
    private var isClosed = false
    private var blocking = false

    init(fd: Int32, peer: String) {
        self.fd = fd
        self.peer = peer
    }

    deinit { close() }

    func error(_ k: TransportError.Kind) -> TransportError {
        TransportError(k, peer: peer, peerRank: peerRank, localRank: localRank)
    }

    func rethrow<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as TransportError { throw e.with(peerRank: peerRank, localRank: localRank) }
    }

    static func configure(_ fd: Int32, options: TCPOptions, peer: String) throws {
        var one: Int32 = 1
        _ = try sysCall("setsockopt(TCP_NODELAY)", peer: peer) {
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var size = options.socketBufferBytes
        if size <= 0 { try setNonBlocking(fd, peer: peer); return }   // 0: leave the kernel's autotuning on
        _ = try sysCall("setsockopt(SO_SNDBUF)", peer: peer) {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = try sysCall("setsockopt(SO_RCVBUF)", peer: peer) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        try setNonBlocking(fd, peer: peer)
    }

    /// Timeout slice of blocking calls: a blocking recv/send returns EAGAIN after this long
    /// without progress, and the caller checks its own deadline. Short enough that deadlines
    /// are honoured to within a quarter second.
    static let sliceMicros = 250_000

    /// Switches a connected socket to blocking mode with SO_RCVTIMEO/SO_SNDTIMEO slices:
    /// one recv(MSG_WAITALL) per frame instead of recv/poll rounds.
    func makeBlocking() throws {
        let flags = try sysCall("fcntl(F_GETFL)", peer: peer) { fcntl(fd, F_GETFL) }
        _ = try sysCall("fcntl(F_SETFL)", peer: peer) { fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        var tv = timeval(tv_sec: 0, tv_usec: Int(TCPConnection.sliceMicros))
        _ = try sysCall("setsockopt(SO_RCVTIMEO)", peer: peer) { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) }
        _ = try sysCall("setsockopt(SO_SNDTIMEO)", peer: peer) { setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size)) }
        blocking = true
    }

    static func setNonBlocking(_ fd: Int32, peer: String) throws {
        let flags = try sysCall("fcntl(F_GETFL)", peer: peer) { fcntl(fd, F_GETFL) }
        _ = try sysCall("fcntl(F_SETFL)", peer: peer) { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
    }

    /// Waits until the socket is readable (POLLIN) or writable (POLLOUT) or the deadline passes.
    func wait(_ events: Int16, deadline: Deadline, operation: String) throws {
        var p = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ms = deadline.remainingMillis
            let r = try sysCall("poll", peer: peer) { poll(&p, 1, ms) }
            if r > 0 { return }          // readable/writable/error: the next call reports which
            if ms == 0 || deadline.passed {
                throw error(.timedOut(operation: operation, seconds: deadline.seconds))
            }
        }
    }

    /// Reads exactly `n` bytes by `deadline`: a total, not an idle timeout, so a peer that
    /// trickles a byte now and then is cut off at the deadline like a silent one.
    func readExactly(_ p: UnsafeMutableRawPointer, _ n: Int, deadline: Deadline, operation: String) throws {
        var got = 0
        while got < n {
            let flags = blocking ? Int32(MSG_WAITALL) : 0
            let r = try rethrow { try sysCall("recv", peer: peer) { recv(fd, p + got, n - got, flags) } }
            if r > 0 {
                got += r
                if got < n && deadline.passed { throw error(.timedOut(operation: operation, seconds: deadline.seconds)) }
                continue
            }
            if r == 0 { throw error(.closed(operation: operation, expected: n, got: got)) }
            if blocking {
                if deadline.passed { throw error(.timedOut(operation: operation, seconds: deadline.seconds)) }
            } else {
                try wait(Int16(POLLIN), deadline: deadline, operation: operation)
            }
        }
    }

    /// Writes every byte of `parts` (gathered, one syscall when the kernel takes it all) by
    /// `deadline`, a total: a peer that reads a byte now and then is cut off at it.
    func writeAll(_ parts: [UnsafeRawBufferPointer], deadline: Deadline, operation: String) throws {
        var iov = parts.filter { $0.count > 0 }.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        var first = 0
        while first < iov.count {
            let r: Int = try rethrow {
                try iov.withUnsafeMutableBufferPointer { v in
                    var msg = msghdr()
                    msg.msg_iov = v.baseAddress! + first
                    msg.msg_iovlen = v.count - first
                    return try sysCall("sendmsg", peer: peer) { sendmsg(fd, &msg, Int32(MSG_NOSIGNAL)) }
                }
            }
            if r < 0 {
                if blocking {
                    if deadline.passed { throw error(.timedOut(operation: operation, seconds: deadline.seconds)) }
                } else {
                    try wait(Int16(POLLOUT), deadline: deadline, operation: operation)
                }
                continue
            }
            var left = r
            while first < iov.count && left >= iov[first].iov_len { left -= iov[first].iov_len; first += 1 }
            if left > 0 {
                iov[first].iov_base = iov[first].iov_base! + left
                iov[first].iov_len -= left
            }
            if first < iov.count && deadline.passed { throw error(.timedOut(operation: operation, seconds: deadline.seconds)) }
        }
    }

    /// Sends one frame: u32 little-endian length, then `head` and `body`.
    public func sendFrame(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, timeout: Double, maxFrameBytes: Int) throws {
        let n = head.count + body.count
        guard n <= maxFrameBytes else { throw error(.frameTooLarge(length: n, maximum: maxFrameBytes)) }
        var prefix = UInt32(n).littleEndian
        try withUnsafeBytes(of: &prefix) { pre in
            try writeAll([pre, head, body], deadline: Deadline(seconds: timeout), operation: "send frame of \(n) bytes")
        }
    }

    /// Receives one frame into `buffer`; over `maxFrameBytes` closes the connection with an error.
    public func receiveFrame(into buffer: FrameBuffer, timeout: Double, maxFrameBytes: Int) throws {
        let deadline = Deadline(seconds: timeout)
        var prefix: UInt32 = 0
        try withUnsafeMutableBytes(of: &prefix) { try readExactly($0.baseAddress!, 4, deadline: deadline, operation: "receive frame length") }
        let n = Int(UInt32(littleEndian: prefix))
        guard n <= maxFrameBytes else {
            shutdown()
            throw error(.frameTooLarge(length: n, maximum: maxFrameBytes))
        }
        buffer.reserve(n)
        try readExactly(buffer.pointer, n, deadline: deadline, operation: "receive frame of \(n) bytes")
        buffer.count = n
    }

    /// Writes raw bytes (no frame prefix): for tests and diagnostics.
    public func sendRaw(_ bytes: UnsafeRawBufferPointer, timeout: Double) throws {
        try writeAll([bytes], deadline: Deadline(seconds: timeout), operation: "send \(bytes.count) raw bytes")
    }

    /// Reads exactly `bytes.count` raw bytes: for tests and diagnostics.
    public func receiveRaw(_ bytes: UnsafeMutableRawBufferPointer, timeout: Double) throws {
        try readExactly(bytes.baseAddress!, bytes.count, deadline: Deadline(seconds: timeout), operation: "receive \(bytes.count) raw bytes")
    }

    /// Receives one frame whose tail may go straight to a caller-chosen destination
    /// (see `RingLink.receive(into:headBytes:placement:)`).
    public func receiveFrame(into buffer: FrameBuffer, headBytes: Int, timeout: Double, maxFrameBytes: Int,
                             placement: (UnsafeRawBufferPointer, Int) throws -> UnsafeMutableRawBufferPointer?) throws -> Bool {
        let deadline = Deadline(seconds: timeout)
        var prefix: UInt32 = 0
        try withUnsafeMutableBytes(of: &prefix) { try readExactly($0.baseAddress!, 4, deadline: deadline, operation: "receive frame length") }
        let n = Int(UInt32(littleEndian: prefix))
        guard n <= maxFrameBytes else {
            shutdown()
            throw error(.frameTooLarge(length: n, maximum: maxFrameBytes))
        }
        let h = min(headBytes, n)
        buffer.reserve(n)
        try readExactly(buffer.pointer, h, deadline: deadline, operation: "receive frame head of \(h) bytes")
        if let dst = try placement(UnsafeRawBufferPointer(start: buffer.pointer, count: h), n - h) {
            guard dst.count == n - h else { throw error(.protocolError("placement of \(dst.count) bytes for a \(n - h)-byte tail")) }
            if n > h { try readExactly(dst.baseAddress!, n - h, deadline: deadline, operation: "receive frame of \(n) bytes") }
            buffer.count = h
            return true
        }
        if n > h { try readExactly(buffer.pointer + h, n - h, deadline: deadline, operation: "receive frame of \(n) bytes") }
        buffer.count = n
        return false
    }

    /// Unblocks any thread waiting on this connection (its next call fails); keeps the fd.
    public func shutdown() {
        closeLock.lock(); defer { closeLock.unlock() }
        if !isClosed { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    public func close() {
        closeLock.lock(); defer { closeLock.unlock() }
        if !isClosed { isClosed = true; _ = Glibc.close(fd) }
    }
}

// MARK: addresses

/// Splits "host:port" (IPv4 literal or name).
func splitHostPort(_ s: String) throws -> (String, UInt16) {
    guard let i = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: i)...]) else {
        throw TransportError(.protocolError("address '\(s)' is not host:port"), peer: s)
    }
    return (String(s[..<i]), port)
}

/// Resolves an IPv4 address.
func resolve(_ host: String, _ port: UInt16) throws -> sockaddr_in {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    if inet_pton(AF_INET, host, &addr.sin_addr) == 1 { return addr }
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var res: UnsafeMutablePointer<addrinfo>? = nil
    let rc = getaddrinfo(host, nil, &hints, &res)
    guard rc == 0, let r = res, let sa = r.pointee.ai_addr else {
        throw TransportError(.protocolError("cannot resolve host '\(host)': \(String(cString: gai_strerror(rc)))"), peer: "\(host):\(port)")
    }
    defer { freeaddrinfo(res) }
    sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { addr.sin_addr = $0.pointee.sin_addr }
    return addr
}

func describe(_ a: sockaddr_in) -> String {
    var a = a
    var buf = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
    inet_ntop(AF_INET, &a.sin_addr, &buf, socklen_t(buf.count))
    return "\(String(cString: buf)):\(UInt16(bigEndian: a.sin_port))"
}

/// Connects to host:port, retrying refused/unreachable attempts until the deadline (or until
/// `cancel` is cancelled).
public func tcpConnect(_ address: String, options: TCPOptions, deadline seconds: Double? = nil,
                       cancel: FormationCancel? = nil) throws -> TCPConnection {
    let (host, port) = try splitHostPort(address)
    let deadline = Deadline(seconds: seconds ?? options.connectTimeout)
    var addr = try resolve(host, port)
    var lastError: TransportError? = nil
    while true {
        let fd = try sysCall("socket", peer: address) { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let conn = TCPConnection(fd: fd, peer: address)
        try TCPConnection.configure(fd, options: options, peer: address)
        do {
            let r = try sysCall("connect", peer: address) {
                withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            if r < 0 {   // EINPROGRESS: wait, then read SO_ERROR
                try conn.wait(Int16(POLLOUT), deadline: deadline, operation: "connect")
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                _ = try sysCall("getsockopt(SO_ERROR)", peer: address) { getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) }
                if err != 0 { throw TransportError(.system(call: "connect", errno: err), peer: address) }
            }
            try conn.makeBlocking()
            return conn
        } catch let e as TransportError {
            conn.close()
            switch e.kind {
            case .system(_, let code) where [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT, ECONNRESET].contains(code):
                lastError = e
            case .timedOut:
                throw lastError ?? e
            default:
                throw e
            }
        }
        if deadline.passed {
            throw lastError.map { TransportError(.timedOut(operation: "connect (last: \($0))", seconds: deadline.seconds), peer: address) }
                ?? TransportError(.timedOut(operation: "connect", seconds: deadline.seconds), peer: address)
        }
        if cancel?.isCancelled == true { throw TransportError(.protocolError("connect cancelled"), peer: address) }
        usleep(20_000)
    }
}

/// A listening socket (IPv4). Port 0 picks an ephemeral port; read it from `port`.
public final class TCPListener: @unchecked Sendable {
    let fd: Int32
    public let host: String
    public let port: UInt16
    public var address: String { "\(host):\(port)" }
    private let options: TCPOptions
    private let lock = NSLock()
    private var closed = false

    public init(host: String = "127.0.0.1", port: UInt16 = 0, options: TCPOptions = TCPOptions()) throws {
        let name = "\(host):\(port)"
        var addr = try resolve(host, port)
        let fd = try sysCall("socket", peer: name) { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do {
            _ = try sysCall("bind", peer: name) {
                withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            _ = try sysCall("listen", peer: name) { listen(fd, 128) }
            try TCPConnection.setNonBlocking(fd, peer: name)
            var bound = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = try sysCall("getsockname", peer: name) {
                withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            }
            self.port = UInt16(bigEndian: bound.sin_port)
            self.fd = fd
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.host = host
        self.options = options
    }

    deinit { close() }

    /// Accepts one connection before the deadline.
    public func accept(timeout: Double) throws -> TCPConnection {
        let deadline = Deadline(seconds: timeout)
        while true {
            var addr = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let c: Int32
            do {
                c = try sysCall("accept", peer: address) {
                    withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &len) } }
                }
            } catch let e as TransportError {
                // Out of descriptors or memory: the connection stays queued and poll would say
                // so at once; back off instead of spinning until something is freed.
                guard case .system(_, let code) = e.kind, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(code) else { throw e }
                if deadline.passed { throw TransportError(.timedOut(operation: "accept on \(address) (\(e))", seconds: timeout), peer: address) }
                usleep(UInt32(min(100, max(1, deadline.remainingMillis))) * 1000)
                continue
            }
            if c >= 0 {
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                let conn = TCPConnection(fd: c, peer: describe(addr))
                try TCPConnection.configure(c, options: options, peer: conn.peer)
                try conn.makeBlocking()
                return conn
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = deadline.remainingMillis
            _ = try sysCall("poll", peer: address) { poll(&p, 1, min(ms, 200)) }
            lock.lock(); let isClosed = closed; lock.unlock()
            if isClosed { throw TransportError(.protocolError("listener closed"), peer: address) }
            if deadline.passed { throw TransportError(.timedOut(operation: "accept on \(address)", seconds: timeout), peer: address) }
        }
    }

    public func close() {
        lock.lock(); defer { lock.unlock() }
        if !closed { closed = true; Glibc.close(fd) }
    }
}
