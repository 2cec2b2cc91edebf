import Foundation

/// The threads that run handshakes: at most `slots.capacity`, started when there is work
/// and ending after a few idle seconds. With `HandshakeSlots.makeRoom` before each accept,
/// every accepted connection finds a thread at once, and strangers never cost more threads
/// than the bound, however fast they connect (a thread per connection would lag behind a
/// flood: threads that have finished still take time to go).
public final class HandshakePool: @unchecked Sendable {
    public let slots: HandshakeSlots
    let name: String
    let idleSeconds: Double
    private let condition = NSCondition()
    private var queue: [(connection: TCPConnection, ticket: HandshakeSlots.Ticket, work: (TCPConnection, HandshakeSlots.Ticket) -> Void)] = []
    private var threads = 0
    private var idle = 0

    public init(slots: HandshakeSlots, name: String, idleSeconds: Double = 5) {
        self.slots = slots
        self.name = name
        self.idleSeconds = idleSeconds
    }

    /// Takes a slot for `connection` and runs `work` on a pool thread; `work` must release
    /// the ticket when the handshake ends (and may hand an authenticated peer to a thread of
    /// its own for whatever follows).
    public func submit(_ connection: TCPConnection, _ work: @escaping (TCPConnection, HandshakeSlots.Ticket) -> Void) {
        let ticket = slots.enter(connection)
        condition.lock()
        queue.append((connection, ticket, work))
        let start = queue.count > idle && threads < slots.capacity
        if start { threads += 1 }
        condition.signal()
        condition.unlock()
        if start {
            let t = Thread { [self] in serve() }
            t.name = name
            t.start()
        }
    }

    private func serve() {
        condition.lock()
        while true {
            if queue.isEmpty {
                idle += 1
                let woke = condition.wait(until: Date().addingTimeInterval(idleSeconds))
                idle -= 1
                if !woke && queue.isEmpty { break }
                continue
            }
            let job = queue.removeFirst()
            condition.unlock()
            job.work(job.connection, job.ticket)
            condition.lock()
        }
        threads -= 1
        condition.unlock()
    }
}
