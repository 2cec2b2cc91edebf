import Foundation

/// Bounds the connections that have not proven the token yet: at most `capacity` in their
/// handshake at once (each is a thread and a descriptor), at most `perSource` from one IP
/// address. Room for a newcomer is made by cutting off the oldest pending connection (of the
/// newcomer's own address when that address is over its bound): an honest handshake completes
/// in a few round trips, so a stranger who holds connections open loses its slots to
/// newcomers instead of locking them out, and what strangers cost stays bounded whatever
/// their number.
public final class HandshakeSlots: @unchecked Sendable {
    public struct Ticket: Hashable, Sendable {
        let id: UInt64
        public let source: String
    }

    public let capacity: Int
    public let perSource: Int
    private let condition = NSCondition()
    private var nextID: UInt64 = 0
    /// In their handshake and not cut off, oldest first.
    private var pending: [(ticket: Ticket, connection: TCPConnection)] = []
    /// Entered and not released yet (cut-off ones included: their threads are still ending).
    private var live = 0
    private var evictions = 0
    private var reported = 0

    public init(capacity: Int = 64, perSource: Int = 16) {
        precondition(capacity >= 1 && perSource >= 1)
        self.capacity = capacity
        self.perSource = perSource
    }

    /// The IP address part of a peer's "address:port".
    public static func source(of peer: String) -> String {
        guard let i = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<i])
    }

    /// Call before accepting: returns once fewer than `capacity` handshakes are live, cutting
    /// off the oldest pending ones to get there (their threads end at once). False if that
    /// took longer than `timeout` (threads slow to end): accept nothing yet.
    public func makeRoom(timeout: Double = 1) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while live >= capacity {
            // One cut-off at a time: wait for its thread to end before cutting another.
            if live == pending.count, !pending.isEmpty {
                let victim = pending.removeFirst().connection
                evictions += 1
                victim.shutdown()
            }
            if !condition.wait(until: deadline) { return live < capacity }
        }
        return true
    }

    /// Takes a slot for `connection`; when its address already has `perSource` pending, the
    /// oldest of them is cut off. Release the ticket when the handshake ends, however it ends.
    public func enter(_ connection: TCPConnection) -> Ticket {
        let source = Self.source(of: connection.peer)
        condition.lock()
        nextID &+= 1
        let ticket = Ticket(id: nextID, source: source)
        var victim: TCPConnection?
        if let oldest = pending.firstIndex(where: { $0.ticket.source == source }),
           pending.lazy.filter({ $0.ticket.source == source }).count >= perSource {
            victim = pending.remove(at: oldest).connection
            evictions += 1
        }
        pending.append((ticket, connection))
        live += 1
        condition.unlock()
        victim?.shutdown()
        return ticket
    }

    /// Ends the ticket's slot; false when its connection was cut off meanwhile (its failure
    /// is then ours, not the peer's).
    @discardableResult
    public func release(_ ticket: Ticket) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        live -= 1
        condition.broadcast()
        guard let i = pending.firstIndex(where: { $0.ticket == ticket }) else { return false }
        pending.remove(at: i)
        return true
    }

    /// Handshakes live now (threads between `enter` and `release`).
    public var count: Int { condition.lock(); defer { condition.unlock() }; return live }

    /// Pending connections cut off to make room so far.
    public var evicted: Int { condition.lock(); defer { condition.unlock() }; return evictions + reported }

    /// Evictions since the last call (for a periodic log line).
    public func takeEvictions() -> Int {
        condition.lock(); defer { condition.unlock() }
        let n = evictions
        reported += n
        evictions = 0
        return n
    }

    /// Ends every pending handshake (the ring acceptor found its neighbour; the job is over).
    public func shutdownAll() {
        condition.lock()
        let all = pending.map(\.connection)
        pending = []
        condition.unlock()
        for c in all { c.shutdown() }
    }
}

/// Refusal log lines, at most one per source address per `interval`; what was held back is
/// counted, and said by the next line from that address or by `flush()`, so a stranger
/// hammering a port cannot flood the log (or the disk under it) and still shows up in it.
public final class RefusalLog: @unchecked Sendable {
    public let interval: Double
    private let lock = NSLock()
    private var last: [String: (time: Double, suppressed: Int)] = [:]
    private let now: () -> Double

    public init(interval: Double = 10, clock: @escaping () -> Double = { Date().timeIntervalSince1970 }) {
        self.interval = interval
        now = clock
    }

    /// The line to print for a refusal from `source`, or nil while that source is muted.
    public func line(source: String, _ message: String) -> String? {
        let t = now()
        lock.lock()
        defer { lock.unlock() }
        if let seen = last[source], t - seen.time < interval {
            last[source] = (seen.time, seen.suppressed + 1)
            return nil
        }
        let suppressed = last[source]?.suppressed ?? 0
        last[source] = (t, 0)
        if last.count > 4096 { last = last.filter { t - $0.value.time < interval || $0.value.suppressed > 0 } }
        return suppressed == 0 ? message : message + " (and \(suppressed) more refused from \(source) since the previous line)"
    }

    /// One line per source with refusals not printed yet ("refused N more connections from
    /// SOURCE"); those counts start again from zero.
    public func flush(prefix: String) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        var lines: [String] = []
        for (source, seen) in last.sorted(by: { $0.key < $1.key }) where seen.suppressed > 0 {
            lines.append("\(prefix)refused \(seen.suppressed) more connections from \(source) (not shown one by one)")
            last[source] = (seen.time, 0)
        }
        return lines
    }
}
