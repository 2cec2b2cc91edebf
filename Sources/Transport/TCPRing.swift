// The ring over TCP: each rank connects to its right neighbour and accepts its left one.
import Codecs
import Collectives
import Foundation

/// A RingLink over two authenticated TCP connections.
public final class TCPRingLink: RingLink, @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    public let options: TCPOptions
    let right: TCPConnection?
    let left: TCPConnection?

    init(rank: Int, worldSize: Int, right: TCPConnection?, left: TCPConnection?, options: TCPOptions) {
        self.rank = rank; self.worldSize = worldSize; self.right = right; self.left = left; self.options = options
        right?.localRank = rank
        left?.localRank = rank
    }

    deinit { close() }

    public var leftPeer: String { "rank \((rank + worldSize - 1) % worldSize) (\(left?.peer ?? "none"))" }
    public var rightPeer: String { "rank \((rank + 1) % worldSize) (\(right?.peer ?? "none"))" }

    public func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws {
        guard let c = right else { throw RingError("rank \(rank): no right neighbour in a world of \(worldSize)") }
        try c.sendFrame(head: head, body: body, timeout: options.ioTimeout, maxFrameBytes: options.maxFrameBytes)
    }

    public func receive(into buffer: FrameBuffer) throws {
        guard let c = left else { throw RingError("rank \(rank): no left neighbour in a world of \(worldSize)") }
        try c.receiveFrame(into: buffer, timeout: options.ioTimeout, maxFrameBytes: options.maxFrameBytes)
    }

    public func receive(into buffer: FrameBuffer, headBytes: Int,
                        placement: (UnsafeRawBufferPointer, Int) throws -> UnsafeMutableRawBufferPointer?) throws -> Bool {
        guard let c = left else { throw RingError("rank \(rank): no left neighbour in a world of \(worldSize)") }
        return try c.receiveFrame(into: buffer, headBytes: headBytes, timeout: options.ioTimeout,
                                  maxFrameBytes: options.maxFrameBytes, placement: placement)
    }

    public func shutdown() {
        right?.shutdown()
        left?.shutdown()
    }

    public func close() {
        right?.close()
        left?.close()
    }
}

public enum TCPRing {
    /// Forms this rank's place in the ring: `addresses[i]` is rank i's "host:port"; this rank
    /// listens on `listener` (or binds `addresses[rank]`), connects to `addresses[rank + 1]`
    /// and accepts rank - 1. Accepted connections are authenticated concurrently (bounded, see
    /// `HandshakeSlots`); those that fail (wrong token, garbage, silence, a wrong rank) are
    /// logged, rate-limited, and dropped; the first valid left neighbour wins. Accepting goes
    /// on until `connectTimeout`, or stops at once when the right-hand connection fails.
    /// `rightDeadline` bounds the connection to the right neighbour (default `connectTimeout`):
    /// a caller that knows the neighbour already listens gives up on an unreachable one sooner.
    /// Errors name the hop: this rank and address, the neighbour's rank and address.
    /// `cancel` ends a formation in progress (the ring it would form has lost a member).
    public static func connect(rank: Int, addresses: [String], token: [UInt8], listener: TCPListener? = nil,
                               options: TCPOptions = TCPOptions(), rightDeadline: Double? = nil,
                               cancel: FormationCancel? = nil) throws -> TCPRingLink {
        let n = addresses.count
        guard rank >= 0 && rank < n else { throw RingError("rank \(rank) outside world of size \(n)") }
        guard !token.isEmpty else { throw RingError("rank \(rank): empty cluster token") }
        if n == 1 { return TCPRingLink(rank: 0, worldSize: 1, right: nil, left: nil, options: options) }
        let own: TCPListener
        if let l = listener { own = l } else {
            let (h, p) = try splitHostPort(addresses[rank])
            own = try TCPListener(host: h, port: p, options: options)
        }
        defer { if listener == nil { own.close() } }
        let leftRank = (rank + n - 1) % n, rightRank = (rank + 1) % n
        // Accept the left neighbour (strangers' handshakes run beside its own) while we
        // connect to the right one, retrying within the deadline if its listener drops us.
        let acceptor = RingAcceptor(listener: own, rank: rank, worldSize: n, token: token,
                                    handshakeTimeout: options.handshakeTimeout, deadline: Deadline(seconds: options.connectTimeout))
        acceptor.start()
        cancel?.onCancel { acceptor.cancel() }
        let cancelled = RingError("rank \(rank): ring formation cancelled (a member of the ring is gone)")
        let rightConn: TCPConnection
        do {
            let (c, got) = try Handshake.connect(addresses[rightRank], rank: rank, worldSize: n, token: token, options: options,
                                                 deadline: rightDeadline ?? options.connectTimeout, cancel: cancel)
            c.localRank = rank
            c.peerRank = rightRank
            guard got == rightRank else {
                c.close()
                throw c.error(.protocolError("peer at \(addresses[rightRank]) is rank \(got), expected \(rightRank)"))
            }
            rightConn = c
        } catch {
            // No ring without the right-hand link: stop waiting for the left neighbour now.
            acceptor.cancel()
            _ = try? acceptor.wait()
            if cancel?.isCancelled == true { throw cancelled }
            throw RingError("ring hop rank \(rank) (\(own.address)) -> rank \(rightRank) (\(addresses[rightRank])): \(error)")
        }
        let leftConn: TCPConnection
        do {
            leftConn = try acceptor.wait()
        } catch {
            rightConn.close()
            if cancel?.isCancelled == true { throw cancelled }
            throw RingError("ring hop rank \(leftRank) (\(addresses[leftRank])) -> rank \(rank) (\(own.address)): the left neighbour never connected: \(error)")
        }
        if cancel?.isCancelled == true {
            rightConn.close()
            leftConn.close()
            throw cancelled
        }
        return TCPRingLink(rank: rank, worldSize: n, right: rightConn, left: leftConn, options: options)
    }

    /// A communicator over a freshly formed TCP ring (see `connect`).
    public static func communicator(rank: Int, addresses: [String], token: [UInt8], listener: TCPListener? = nil,
                                    codec: CodecConfig = CodecConfig(), options: TCPOptions = TCPOptions(),
                                    rightDeadline: Double? = nil, cancel: FormationCancel? = nil,
                                    segmentElements: Int = defaultSegmentElements) throws -> RingCommunicator {
        let link = try connect(rank: rank, addresses: addresses, token: token, listener: listener, options: options,
                               rightDeadline: rightDeadline, cancel: cancel)
        return RingCommunicator(link: link, codec: codec, segmentElements: segmentElements)
    }
}
