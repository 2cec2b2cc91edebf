import Codecs
import Collectives
import Foundation
import XCTest

/// A communicator closed while a queued all-reduce is in flight (an elastic ring being
/// interrupted) must not return from `finishAllReduces` before that run has left the
/// caller's buffer: the caller frees it right after (a use-after-free that corrupted the heap).
final class CloseDuringAllReduceTests: XCTestCase {
    /// An in-memory link whose receive, once shut down, takes a while to give up (a receiver
    /// still inside a decode when the close comes).
    final class SlowToStopLink: RingLink, @unchecked Sendable {
        let inner: InMemoryLink
        let lock = NSLock()
        var receiveEnded: Date?
        init(_ inner: InMemoryLink) { self.inner = inner }
        var rank: Int { inner.rank }
        var worldSize: Int { inner.worldSize }
        var leftPeer: String { inner.leftPeer }
        var rightPeer: String { inner.rightPeer }
        func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws { try inner.send(head: head, body: body) }
        func receive(into buffer: FrameBuffer) throws {
            defer {
                Thread.sleep(forTimeInterval: 0.3)
                lock.lock(); receiveEnded = Date(); lock.unlock()
            }
            try inner.receive(into: buffer)
        }
        func shutdown() { inner.shutdown() }
    }

    func testFinishWaitsForTheRunInFlightAfterAClose() throws {
        let links = InMemoryRing.makeLinks(worldSize: 2, timeout: 30)
        let link = SlowToStopLink(links[0])
        let communicator = RingCommunicator(link: link)
        var gradient = [Float](repeating: 1, count: 1 << 12)
        try gradient.withUnsafeMutableBufferPointer { buffer in
            // Rank 1 never takes part: rank 0's run blocks in its receive.
            communicator.beginAllReduce(buffer, bucket: 0)
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { communicator.close() }
            XCTAssertThrowsError(try communicator.finishAllReduces())
            let returned = Date()
            link.lock.lock()
            let ended = link.receiveEnded
            link.lock.unlock()
            let receiveEnded = try XCTUnwrap(ended, "finishAllReduces returned while the receive was still running")
            XCTAssertLessThanOrEqual(receiveEnded, returned)
        }
    }
}
