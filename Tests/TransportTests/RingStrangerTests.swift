import Codecs
import Collectives
import Foundation
import TestSupport
import Transport
import XCTest

/// Strangers on the ring ports: silent connections held open before and during formation
/// must not keep a ring from forming, and the work spent on them stays bounded.
final class RingStrangerTests: XCTestCase {
    override func setUp() { TransportLog.setHandler { _ in } }
    override func tearDown() { TransportLog.setHandler { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }

    /// Opens `count` connections to `address` that never say a word.
    func silent(_ count: Int, to address: String) throws -> [TCPConnection] {
        try (0..<count).map { _ in try tcpConnect(address, options: quickOptions()) }
    }

    func testRingFormsWhileStrangersHoldItsPorts() throws {
        var options = quickOptions()
        options.handshakeTimeout = 3
        let n = 3
        let listeners = try (0..<n).map { _ in try TCPListener(host: "127.0.0.1", port: 0, options: options) }
        defer { listeners.forEach { $0.close() } }
        let addresses = listeners.map(\.address)
        // Before formation: four silent connections queued on every ring port.
        let strangers = Locked(try addresses.flatMap { try silent(4, to: $0) })
        defer { strangers.value.forEach { $0.close() } }
        let during = Thread {
            usleep(20_000)
            let more = (try? addresses.flatMap { try self.silent(4, to: $0) }) ?? []
            strangers.update { $0 += more }
        }
        during.start()
        let start = Date()
        let comms = try onThreads(n, timeout: 60) { r in
            try TCPRing.communicator(rank: r, addresses: addresses, token: token, listener: listeners[r],
                                     codec: CodecConfig(.none), options: options, segmentElements: 64)
        }
        let formed = Date().timeIntervalSince(start)
        defer { comms.forEach { $0.close() } }
        // One at a time, four strangers would hold each acceptor for 4 x 3 s while the honest
        // neighbour's handshake gives up after 3 s.
        XCTAssertLessThan(formed, options.handshakeTimeout, "the ring took \(formed) s to form")
        let inputs = (0..<n).map { testData(rank: $0, count: 1000) }
        let sums = try onThreads(n, timeout: 30) { r -> [Float] in
            var x = inputs[r]
            try comms[r].allReduceSum(&x)
            return x
        }
        for r in 0..<n { XCTAssertEqual(sums[r], ringOrderSum(inputs)) }
        XCTAssertEqual(strangers.value.count, 8 * n)
    }

    /// The right neighbour's listener is gone: the rank fails at once, naming the hop,
    /// instead of waiting out the whole formation deadline for a left neighbour that would
    /// make no ring.
    func testFailedRightHopStopsTheAcceptor() throws {
        var options = quickOptions()
        options.connectTimeout = 30
        let own = try TCPListener(host: "127.0.0.1", port: 0, options: options)
        defer { own.close() }
        let gone = try TCPListener(host: "127.0.0.1", port: 0, options: options)
        let goneAddress = gone.address
        gone.close()
        let start = Date()
        XCTAssertThrowsError(try TCPRing.connect(rank: 0, addresses: [own.address, goneAddress], token: token, listener: own,
                                                 options: options, rightDeadline: 1)) { error in
            XCTAssertTrue("\(error)".contains("-> rank 1 (\(goneAddress))"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}

/// A formation in progress ends at once when it is cancelled (a member of the ring it
/// would form is gone), whatever it waits on: here rank 2 never runs, so rank 1 waits for its
/// handshake with rank 2 and rank 0 for rank 2 to connect.
final class FormationCancelTests: XCTestCase {
    override func setUp() { TransportLog.setHandler { _ in } }
    override func tearDown() { TransportLog.setHandler { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }

    func testACancelledFormationEndsAtOnce() throws {
        var options = quickOptions()
        options.connectTimeout = 30
        options.handshakeTimeout = 20
        let listeners = try (0..<3).map { _ in try TCPListener(host: "127.0.0.1", port: 0, options: options) }
        defer { listeners.forEach { $0.close() } }
        let addresses = listeners.map(\.address)
        let cancels = [FormationCancel(), FormationCancel()]
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { cancels.forEach { $0.cancel() } }
        let start = Date()
        let results = try onThreads(2, timeout: 60) { r in
            Result { try TCPRing.connect(rank: r, addresses: addresses, token: token, listener: listeners[r], options: options,
                                         cancel: cancels[r]) }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 3, "cancelled at 0.5 s; the deadlines are 20-30 s")
        for (r, result) in results.enumerated() {
            guard case .failure(let error) = result else { return XCTFail("rank \(r) formed a ring without rank 2") }
            XCTAssertTrue("\(error)".contains("cancelled"), "rank \(r): \(error)")
        }
    }
}

final class HandshakeSlotsTests: XCTestCase {
    func testNewcomersEvictTheOldestOfTheirSourceThenTheOldestOverall() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0, options: quickOptions())
        defer { listener.close() }
        let clients = try (0..<5).map { _ in try tcpConnect(listener.address, options: quickOptions()) }
        defer { clients.forEach { $0.close() } }
        let accepted = try (0..<5).map { _ in try listener.accept(timeout: 5) }
        defer { accepted.forEach { $0.close() } }
        // All from 127.0.0.1: the per-source bound (2) cuts off the oldest of the address.
        let slots = HandshakeSlots(capacity: 8, perSource: 2)
        let tickets = accepted.map { slots.enter($0) }
        XCTAssertEqual(slots.evicted, 3)
        XCTAssertEqual(slots.count, 5, "cut-off handshakes hold their slot until their thread releases it")
        XCTAssertFalse(slots.release(tickets[0]), "the oldest was cut off")
        XCTAssertFalse(slots.release(tickets[1]))
        XCTAssertFalse(slots.release(tickets[2]))
        XCTAssertTrue(slots.release(tickets[3]))
        XCTAssertTrue(slots.release(tickets[4]))
        XCTAssertEqual(slots.count, 0)
        // An evicted connection is shut down: its reader sees the end at once.
        var byte: [UInt8] = [0]
        XCTAssertThrowsError(try byte.withUnsafeMutableBytes { try accepted[0].receiveRaw($0, timeout: 2) })
        XCTAssertEqual(HandshakeSlots.source(of: "10.1.2.3:4567"), "10.1.2.3")
    }

    /// At capacity, room is made by cutting off the oldest pending handshake; the room is
    /// there once its thread has released the slot, and not before.
    func testMakeRoomCutsOffTheOldestAndWaitsForItsThread() throws {
        let listener = try TCPListener(host: "127.0.0.1", port: 0, options: quickOptions())
        defer { listener.close() }
        let clients = try (0..<2).map { _ in try tcpConnect(listener.address, options: quickOptions()) }
        defer { clients.forEach { $0.close() } }
        let accepted = try (0..<2).map { _ in try listener.accept(timeout: 5) }
        defer { accepted.forEach { $0.close() } }
        let slots = HandshakeSlots(capacity: 2, perSource: 8)
        let tickets = accepted.map { slots.enter($0) }
        XCTAssertFalse(slots.makeRoom(timeout: 0.2), "the cut-off handshake's thread has not ended")
        XCTAssertEqual(slots.evicted, 1)
        var byte: [UInt8] = [0]
        XCTAssertThrowsError(try byte.withUnsafeMutableBytes { try accepted[0].receiveRaw($0, timeout: 2) }, "the oldest was shut down")
        XCTAssertFalse(slots.release(tickets[0]))
        XCTAssertTrue(slots.makeRoom(timeout: 0.2))
        XCTAssertEqual(slots.evicted, 1, "one cut-off was enough")
        XCTAssertTrue(slots.release(tickets[1]))
    }

    func testRefusalLogShowsOneLinePerSourcePerIntervalWithTheCount() {
        var now = 100.0
        let log = RefusalLog(interval: 10, clock: { now })
        XCTAssertEqual(log.line(source: "10.0.0.1", "refused A"), "refused A")
        XCTAssertNil(log.line(source: "10.0.0.1", "refused B"))
        XCTAssertNil(log.line(source: "10.0.0.1", "refused C"))
        XCTAssertEqual(log.line(source: "10.0.0.2", "refused D"), "refused D", "another source has its own budget")
        now += 10
        XCTAssertEqual(log.line(source: "10.0.0.1", "refused E"), "refused E (and 2 more refused from 10.0.0.1 since the previous line)")
        XCTAssertNil(log.line(source: "10.0.0.1", "refused F"))
        XCTAssertEqual(log.flush(prefix: "[x] "), ["[x] refused 1 more connections from 10.0.0.1 (not shown one by one)"])
        XCTAssertEqual(log.flush(prefix: "[x] "), [])
    }
}
