// Ring links inside one process, for tests and for running N ranks on threads.
import Foundation

/// A one-way frame queue from rank r to rank r + 1.
final class InMemoryChannel: @unchecked Sendable {
    private let cond = NSCondition()
    private var frames: [[UInt8]] = []
    private var head = 0
    private var closed = false

    func push(_ frame: [UInt8]) throws {
        cond.lock(); defer { cond.unlock() }
        if closed { throw RingError("in-memory channel closed") }
        frames.append(frame)
        cond.signal()
    }

    func pop(timeout: Double) throws -> [UInt8] {
        cond.lock(); defer { cond.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while head == frames.count && !closed {
            if !cond.wait(until: deadline) { throw RingError("in-memory receive timed out after \(timeout) s") }
        }
        if head == frames.count { throw RingError("in-memory channel closed") }
        let f = frames[head]
        frames[head] = []
        head += 1
        if head > 64 && head * 2 > frames.count { frames.removeFirst(head); head = 0 }
        return f
    }

    func close() {
        cond.lock(); closed = true; cond.broadcast(); cond.unlock()
    }
}

/// An in-memory ring link (see `InMemoryRing.makeLinks`).
public final class InMemoryLink: RingLink, @unchecked Sendable {
    public let rank: Int
    public let worldSize: Int
    private let toRight: InMemoryChannel
    private let fromLeft: InMemoryChannel
    private let timeout: Double

    init(rank: Int, worldSize: Int, toRight: InMemoryChannel, fromLeft: InMemoryChannel, timeout: Double) {
        self.rank = rank; self.worldSize = worldSize
        self.toRight = toRight; self.fromLeft = fromLeft; self.timeout = timeout
    }

    public var leftPeer: String { "rank \((rank + worldSize - 1) % worldSize) (in-memory)" }
    public var rightPeer: String { "rank \((rank + 1) % worldSize) (in-memory)" }

    public func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws {
        var f = [UInt8]()
        f.reserveCapacity(head.count + body.count)
        f.append(contentsOf: head)
        f.append(contentsOf: body)
        try toRight.push(f)
    }

    public func receive(into buffer: FrameBuffer) throws {
        let f = try fromLeft.pop(timeout: timeout)
        buffer.reserve(f.count)
        f.withUnsafeBytes { if $0.count > 0 { buffer.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        buffer.count = f.count
    }

    public func shutdown() {
        toRight.close()
        fromLeft.close()
    }
}

public enum InMemoryRing {
    /// Links for `worldSize` ranks in one process; element r is rank r's link.
    /// A receive that waits longer than `timeout` seconds fails (no test can hang).
    public static func makeLinks(worldSize: Int, timeout: Double = 30) -> [InMemoryLink] {
        precondition(worldSize >= 1)
        let channels = (0..<worldSize).map { _ in InMemoryChannel() }
        return (0..<worldSize).map { r in
            InMemoryLink(rank: r, worldSize: worldSize, toRight: channels[r],
                         fromLeft: channels[(r + worldSize - 1) % worldSize], timeout: timeout)
        }
    }
}
