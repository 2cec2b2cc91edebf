import Collectives
import Foundation

/// Accepts a rank's left neighbour while strangers may be connecting too: every accepted
/// connection is authenticated on its own thread, bounded by `HandshakeSlots`, and the first
/// that proves the token and claims the expected rank wins; the others are cut off. A silent
/// or trickling stranger therefore delays nobody. Accepting stops at the deadline, at the
/// first winner, or at `cancel()` (the right-hand connection failed: the ring cannot form).
final class RingAcceptor: @unchecked Sendable {
    let listener: TCPListener
    let rank: Int, worldSize: Int, leftRank: Int
    let token: [UInt8]
    let handshakeTimeout: Double
    let deadline: Deadline
    let slots = HandshakeSlots(capacity: 32, perSource: 16)
    lazy var pool = HandshakePool(slots: slots, name: "ring-handshake", idleSeconds: 1)
    let refusals = RefusalLog()
    private let condition = NSCondition()
    private var winner: TCPConnection?
    private var failure: Error?
    private var cancelled = false
    private var running = 0

    init(listener: TCPListener, rank: Int, worldSize: Int, token: [UInt8], handshakeTimeout: Double, deadline: Deadline) {
        self.listener = listener
        self.rank = rank
        self.worldSize = worldSize
        self.leftRank = (rank + worldSize - 1) % worldSize
        self.token = token
        self.handshakeTimeout = handshakeTimeout
        self.deadline = deadline
    }

    private var settled: Bool { winner != nil || failure != nil || cancelled }

    /// Starts accepting on a thread of its own.
    func start() {
        condition.lock(); running += 1; condition.unlock()
        let t = Thread { [self] in acceptLoop() }
        t.name = "ring-acceptor"
        t.start()
    }

    /// Waits for the left neighbour; throws when the deadline passes, the listener fails or
    /// `cancel()` was called. Every other pending handshake is cut off either way.
    func wait() throws -> TCPConnection {
        condition.lock()
        while !settled || running > 0 { condition.wait() }
        let (won, error) = (winner, failure)
        condition.unlock()
        for line in refusals.flush(prefix: "[transport] rank \(rank): ") { TransportLog.log(line) }
        if let won { return won }
        throw error ?? RingError("stopped waiting: this rank's own connection to the right failed")
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private func acceptLoop() {
        defer {
            // Cancelled: handshakes in flight get a moment to end on their own (a refused
            // stranger is then logged as such), then the rest are cut off.
            let grace = Date().addingTimeInterval(0.5)
            condition.lock()
            while cancelled && winner == nil && running > 1 && condition.wait(until: grace) {}
            condition.unlock()
            slots.shutdownAll()
            condition.lock(); running -= 1; condition.broadcast(); condition.unlock()
        }
        while true {
            condition.lock()
            let stop = settled
            condition.unlock()
            if stop { return }
            if deadline.passed {
                settle(failure: RingError("not within \(Int(deadline.seconds)) s"))
                return
            }
            guard slots.makeRoom(timeout: 0.2) else { continue }
            let connection: TCPConnection
            do {
                // Short slices, so a winner, a cancel or the deadline is seen within 200 ms.
                connection = try listener.accept(timeout: min(0.2, Double(deadline.remainingMillis) / 1000))
            } catch let e as TransportError {
                if case .timedOut = e.kind { continue }
                settle(failure: RingError("accepting on \(listener.address) failed: \(e)"))
                return
            } catch {
                settle(failure: error)
                return
            }
            connection.localRank = rank
            condition.lock(); running += 1; condition.unlock()
            pool.submit(connection) { [self] c, ticket in
                defer { condition.lock(); running -= 1; condition.broadcast(); condition.unlock() }
                authenticate(c, ticket: ticket)
            }
        }
    }

    private func authenticate(_ c: TCPConnection, ticket: HandshakeSlots.Ticket) {
        let left = Double(deadline.remainingMillis) / 1000
        let result = Result {
            try Handshake.server(c, rank: rank, worldSize: worldSize, token: token, timeout: min(handshakeTimeout, max(0.05, left)))
        }
        // Out of the pending set before anything else: the winner must not be cut off with it.
        let ownFailure = slots.release(ticket)
        switch result {
        case .success(let peerRank) where peerRank == leftRank:
            c.peerRank = peerRank
            condition.lock()
            let first = !settled
            if first { winner = c }
            condition.broadcast()
            condition.unlock()
            if first { slots.shutdownAll() } else { c.close() }
        case .success(let peerRank):
            refuse(c, "claims rank \(peerRank), expected the left neighbour \(leftRank)")
            c.close()
        case .failure(let error):
            // Evicted by newcomers or cut off (the neighbour arrived, the ring gave up): not
            // the peer's failure, so not logged as a refusal.
            if ownFailure { refuse(c, "\(error)") }
        }
    }

    private func refuse(_ c: TCPConnection, _ why: String) {
        let source = HandshakeSlots.source(of: c.peer)
        if let line = refusals.line(source: source, "[transport] rank \(rank): refused connection from \(c.peer): \(why)") {
            TransportLog.log(line)
        }
    }

    private func settle(failure error: Error) {
        condition.lock()
        if !settled { failure = error }
        condition.broadcast()
        condition.unlock()
    }
}
