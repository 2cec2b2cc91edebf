// The link protocol the ring runs over: frames to the right neighbour, frames from the
// left. No sockets here; Transport implements it over TCP, InMemoryRing in one process.
import Foundation

/// An error of a collective operation; the message names the rank and the peer.
public struct RingError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "[ring] \(message)" }
}

/// A growable, 64-byte-aligned byte buffer that receives one frame at a time.
public final class FrameBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutableRawPointer
    public private(set) var capacity: Int
    /// Bytes of the frame held (set by whoever filled it).
    public var count: Int = 0

    public init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        pointer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 64)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `n` bytes (contents are not preserved when it grows).
    public func reserve(_ n: Int) {
        if n > capacity {
            pointer.deallocate()
            capacity = max(n, capacity + capacity / 2)
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
    }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }
}

/// One rank's view of the ring: frames go to the right neighbour (rank + 1) and come from
/// the left neighbour (rank - 1). Frames arrive in the order they were sent.
/// `send` and `receive` may be called concurrently from two threads (one each).
public protocol RingLink: AnyObject {
    var rank: Int { get }
    var worldSize: Int { get }
    /// The left neighbour, for error messages, e.g. "rank 1 (127.0.0.1:40123)".
    var leftPeer: String { get }
    /// The right neighbour, for error messages.
    var rightPeer: String { get }
    /// Sends one frame made of `head` followed by `body` to the right neighbour.
    func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws
    /// Receives the next frame from the left neighbour into `buffer` (sets `buffer.count`).
    func receive(into buffer: FrameBuffer) throws
    /// Fails pending and future sends and receives; used to unblock a thread after an error.
    func shutdown()
    /// Receives the next frame, letting the caller place its tail: the first
    /// min(`headBytes`, frame length) bytes go to `buffer`; then `placement(head, tailBytes)`
    /// may return a destination of exactly `tailBytes` bytes for the rest (zero copy into the
    /// final buffer); nil puts the tail in `buffer` after the head. Returns whether the tail
    /// went to the placement. `buffer.count` is the head length, or the frame length when nil.
    func receive(into buffer: FrameBuffer, headBytes: Int,
                 placement: (UnsafeRawBufferPointer, Int) throws -> UnsafeMutableRawBufferPointer?) throws -> Bool
}

extension RingLink {
    /// Default: receive the whole frame, then copy the tail where the caller wants it.
    public func receive(into buffer: FrameBuffer, headBytes: Int,
                        placement: (UnsafeRawBufferPointer, Int) throws -> UnsafeMutableRawBufferPointer?) throws -> Bool {
        try receive(into: buffer)
        let total = buffer.count
        let h = min(headBytes, total)
        guard let dst = try placement(UnsafeRawBufferPointer(start: buffer.pointer, count: h), total - h) else { return false }
        guard dst.count == total - h else { throw RingError("rank \(rank): placement of \(dst.count) bytes for a \(total - h)-byte tail") }
        if total > h { dst.baseAddress!.copyMemory(from: buffer.pointer + h, byteCount: total - h) }
        buffer.count = h
        return true
    }
}
