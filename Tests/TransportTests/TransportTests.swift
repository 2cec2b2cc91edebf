import Codecs
import Collectives
import Foundation
import TestSupport
import Transport
import XCTest

func testData(rank: Int, count: Int) -> [Float] {
    var s = UInt64(rank + 1) &* 0x9E3779B97F4A7C15
    return (0..<count).map { i in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return (Float(s >> 40) / Float(1 << 24) - 0.5) * Float(1 << ((i / 97) % 8)) / 64
    }
}

/// The ring-order sum (see RingPlan): chunk c = ((g[c+1] + g[c+2]) + ...) + g[c].
func ringOrderSum(_ inputs: [[Float]]) -> [Float] {
    let n = inputs.count, count = inputs[0].count
    guard n > 1 else { return inputs[0] }
    let plan = RingPlan(worldSize: n, count: count, segmentElements: 1)
    var out = [Float](repeating: 0, count: count)
    for c in 0..<n { for i in plan.chunks[c] {
        var acc = inputs[(c + 1) % n][i]
        for k in 2...n { acc = inputs[(c + k) % n][i] + acc }
        out[i] = acc
    } }
    return out
}

let token = Array("test-cluster-token".utf8)

func quickOptions() -> TCPOptions {
    var o = TCPOptions()
    o.connectTimeout = 10
    o.handshakeTimeout = 2
    o.ioTimeout = 20
    o.socketBufferBytes = 1 << 20
    return o
}

/// Forms an n-rank TCP ring on 127.0.0.1 ephemeral ports, one thread per rank.
func formRing(_ n: Int, codec: CodecConfig, segment: Int, tokens: [[UInt8]]? = nil,
              options: TCPOptions = quickOptions()) throws -> [Result<RingCommunicator, Error>] {
    let listeners = try (0..<n).map { _ in try TCPListener(host: "127.0.0.1", port: 0, options: options) }
    let addresses = listeners.map(\.address)
    defer { listeners.forEach { $0.close() } }
    return try onThreads(n, timeout: 30) { r in
        Result { try TCPRing.communicator(rank: r, addresses: addresses, token: tokens?[r] ?? token, listener: listeners[r],
                                          codec: codec, options: options, segmentElements: segment) }
    }
}

final class TCPRingTests: XCTestCase {
    func testRanks2to4AllCountsAllCodecsOverTCP() throws {
        let counts = [0, 1, 7, 1000, (1 << 20) + 3]
        for codec in [CodecConfig(.none), CodecConfig(.zstd), CodecConfig(.bf16Zstd)] {
            for n in 2...4 {
                let comms = try formRing(n, codec: codec, segment: 4096).map { try $0.get() }
                defer { comms.forEach { $0.close() } }
                for count in counts {
                    let inputs = (0..<n).map { testData(rank: $0, count: count) }
                    var runs: [[[Float]]] = []
                    for _ in 0..<2 {
                        runs.append(try onThreads(n, timeout: 60) { r in
                            var x = inputs[r]
                            try comms[r].allReduceSum(&x, bucket: count % 7)
                            return x
                        })
                    }
                    let label = "n=\(n) count=\(count) codec=\(codec)"
                    for r in 0..<n { XCTAssertTrue(runs[0][r].elementsEqual(runs[0][0], by: { $0.bitPattern == $1.bitPattern }), "rank \(r): \(label)") }
                    let expected = ringOrderSum(inputs)
                    if codec.kind.isLossy {
                        for i in 0..<count {
                            let bound = inputs.map { abs($0[i]) }.reduce(0, +) * Float(n) / 256 + 1e-6
                            if abs(runs[0][0][i] - expected[i]) > bound { XCTFail("\(label) element \(i)"); break }
                        }
                    } else {
                        XCTAssertTrue(runs[0][0].elementsEqual(expected, by: { $0.bitPattern == $1.bitPattern }), label)
                        // Lossless: the repeated run is bit-identical too. (Lossy runs differ by design:
                        // the second run carries the first run's residual.)
                        XCTAssertTrue(runs[1][0].elementsEqual(runs[0][0], by: { $0.bitPattern == $1.bitPattern }), "repeat: \(label)")
                    }
                }
                // Control collectives over the same ring.
                let g = try onThreads(n) { r in try comms[r].allGather([Double(r)]) }
                XCTAssertEqual(g[n - 1], (0..<n).map { [Double($0)] })
                let b = try onThreads(n) { r in try comms[r].broadcast(Data([UInt8(r)]), root: n - 1) }
                XCTAssertEqual(b, Array(repeating: Data([UInt8(n - 1)]), count: n))
                XCTAssertGreaterThan(comms[0].stats.bytesSent, 0)
            }
        }
    }

    func testRankLeavingMidRunFailsTheOthersWithNamedErrors() throws {
        let comms = try formRing(3, codec: CodecConfig(.none), segment: 1024).map { try $0.get() }
        defer { comms.forEach { $0.close() } }
        let start = Date()
        let errors = try onThreads(3, timeout: 30) { r -> String? in
            if r == 2 { usleep(100_000); comms[2].close(); return nil }   // dies instead of reducing
            var x = testData(rank: r, count: 100_000)
            do { try comms[r].allReduceSum(&x, bucket: 0); return nil } catch { return "\(error)" }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "must fail fast on end-of-stream, not wait for the I/O timeout")
        for r in 0..<2 {
            guard let e = errors[r] else { XCTFail("rank \(r) finished without rank 2"); continue }
            XCTAssertTrue(e.contains("rank \(r)") || e.contains("[ring]"), e)
        }
        // The failure sticks: the next collective throws at once.
        var y: [Float] = [1]
        XCTAssertThrowsError(try comms[0].allReduceSum(&y))
    }

    func testWrongTokenIsRefusedAndLogged() throws {
        let lock = NSLock()
        var log: [String] = []
        TransportLog.setHandler { line in lock.lock(); log.append(line); lock.unlock() }
        defer { TransportLog.setHandler { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        var o = quickOptions()
        o.connectTimeout = 1.5
        let start = Date()
        let results = try formRing(2, codec: CodecConfig(), segment: 64, tokens: [token, Array("wrong".utf8)], options: o)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        guard case .failure(let e1) = results[1] else { return XCTFail("rank 1 with the wrong token got in") }
        XCTAssertTrue("\(e1)".contains("authentication failed"), "\(e1)")
        guard case .failure(let e0) = results[0] else { return XCTFail("rank 0 accepted a stranger") }
        XCTAssertTrue("\(e0)".contains("rank 1"), "\(e0)")
        lock.lock(); defer { lock.unlock() }
        // The honest client with the wrong token notices first (the listener's proof does not
        // match) and hangs up; the listener logs the refusal with the address.
        XCTAssertTrue(log.contains { $0.contains("rank 0: refused connection from 127.0.0.1:") }, "\(log)")
    }
}

/// A listener plus a client connection that passed (or skipped) the handshake.
final class RawPeerTests: XCTestCase {
    override func setUp() { TransportLog.setHandler { _ in } }
    override func tearDown() { TransportLog.setHandler { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }

    /// Runs the server side on a thread: accept + handshake + `serve`; returns its error text.
    func serve(client: @escaping (String) throws -> Void, serve: @escaping (TCPConnection) throws -> Void) throws -> String? {
        let listener = try TCPListener(options: quickOptions())
        defer { listener.close() }
        let address = listener.address
        let out = try onThreads(2, timeout: 20) { r -> String? in
            if r == 1 { try client(address); return nil }
            do {
                let c = try listener.accept(timeout: 5)
                defer { c.close() }
                _ = try Handshake.server(c, rank: 0, worldSize: 2, token: token, timeout: 2)
                try serve(c)
                return nil
            } catch { return "\(error)" }
        }
        return out[0]
    }

    func authenticated(_ address: String) throws -> TCPConnection {
        let c = try tcpConnect(address, options: quickOptions())
        _ = try Handshake.client(c, rank: 1, worldSize: 2, token: token, timeout: 2)
        return c
    }

    func testClientWithoutTheTokenIsRefusedBeforeAnythingElse() throws {
        let err = try serve(client: { a in
            let c = try tcpConnect(a, options: quickOptions())
            // A well-formed hello, then a made-up proof, then a frame that must never be read.
            var hello = Array("RTRN".utf8) + [UInt8(Handshake.version), 0, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0]
            hello += [UInt8](repeating: 9, count: 32)
            try hello.withUnsafeBytes { try c.sendRaw($0, timeout: 2) }
            var reply = [UInt8](repeating: 0, count: 80)
            try reply.withUnsafeMutableBytes { try c.receiveRaw($0, timeout: 2) }
            let bogus = [UInt8](repeating: 0x55, count: 32) + [4, 0, 0, 0, 1, 2, 3, 4]
            try bogus.withUnsafeBytes { try c.sendRaw($0, timeout: 2) }
            usleep(100_000); c.close()
        }, serve: { _ in XCTFail("served a peer without the token") })
        XCTAssertTrue(err?.contains("authentication failed: peer does not hold the cluster token") ?? false, err ?? "no error")
    }

    func testOversizedFrameIsRejected() throws {
        let err = try serve(client: { a in
            let c = try self.authenticated(a)
            var huge = [UInt8](repeating: 0xAB, count: 100)
            huge[0] = 0xFF; huge[1] = 0xFF; huge[2] = 0xFF; huge[3] = 0x7F   // length prefix 2 GiB
            try huge.withUnsafeBytes { try c.sendRaw($0, timeout: 2) }
            usleep(200_000); c.close()
        }, serve: { c in
            let f = FrameBuffer()
            try c.receiveFrame(into: f, timeout: 5, maxFrameBytes: 1 << 20)
        })
        XCTAssertTrue(err?.contains("exceeds the maximum") ?? false, err ?? "no error")
        // And the sender refuses to send one.
        XCTAssertThrowsError(try serve(client: { a in
            let c = try self.authenticated(a)
            let big = [UInt8](repeating: 0, count: 2 << 20)
            try big.withUnsafeBytes { try c.sendFrame(head: $0, body: UnsafeRawBufferPointer(start: nil, count: 0), timeout: 2, maxFrameBytes: 1 << 20) }
        }, serve: { _ in }))
    }

    func testPeerClosingMidMessageIsAnError() throws {
        let err = try serve(client: { a in
            let c = try self.authenticated(a)
            var b = [UInt8](repeating: 7, count: 14)
            b[0] = 0xE8; b[1] = 0x03; b[2] = 0; b[3] = 0      // 1000-byte frame, only 10 sent
            try b.withUnsafeBytes { try c.sendRaw($0, timeout: 2) }
            c.close()
        }, serve: { c in
            let f = FrameBuffer()
            try c.receiveFrame(into: f, timeout: 5, maxFrameBytes: 1 << 20)
        })
        XCTAssertTrue(err?.contains("connection closed by peer after 10 of 1000 bytes") ?? false, err ?? "no error")
        XCTAssertTrue(err?.contains("(rank 1)") ?? false, err ?? "no error")
    }

    func testSilentPeerTimesOutWithinTheDeadline() throws {
        let start = Date()
        let err = try serve(client: { a in
            let c = try self.authenticated(a)
            usleep(1_500_000)       // says nothing
            c.close()
        }, serve: { c in
            let f = FrameBuffer()
            try c.receiveFrame(into: f, timeout: 0.5, maxFrameBytes: 1 << 20)
        })
        XCTAssertTrue(err?.contains("timed out after 0.5 s") ?? false, err ?? "no error")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        // Silent during the handshake: the acceptor gives up after the handshake timeout.
        let err2 = try serve(client: { a in
            let c = try tcpConnect(a, options: quickOptions())
            usleep(2_500_000)
            c.close()
        }, serve: { _ in })
        XCTAssertTrue(err2?.contains("handshake: receive hello timed out") ?? false, err2 ?? "no error")
    }

    /// A peer that trickles its hello a byte every 100 ms (4.8 s for 48 bytes) is cut off at
    /// the 2 s handshake deadline: deadlines are totals, not idle timeouts.
    func testTricklingPeerIsDroppedAtTheDeadline() throws {
        let start = Date()
        let err = try serve(client: { a in
            let c = try tcpConnect(a, options: quickOptions())
            var hello = Array("RTRN".utf8) + [UInt8(Handshake.version), 0, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0]
            hello += [UInt8](repeating: 9, count: 32)
            for byte in hello {
                do { try [byte].withUnsafeBytes { try c.sendRaw($0, timeout: 1) } } catch { break }
                usleep(100_000)
            }
            c.close()
        }, serve: { _ in XCTFail("served a peer that never finished its hello in time") })
        XCTAssertTrue(err?.contains("handshake: receive hello timed out after 2.0 s") ?? false, err ?? "no error")
        XCTAssertLessThan(Date().timeIntervalSince(start), 3.5, "dropped at the deadline, not when the trickle ends")
    }

    func testRandomBytesToAListeningPortAreRefused() throws {
        let listener = try TCPListener(options: quickOptions())
        defer { listener.close() }
        let inputs = 2000
        var rng = SystemRandomNumberGenerator()
        let address = listener.address
        let errors = try onThreads(2, timeout: 60) { r -> [String] in
            if r == 1 {
                for i in 0..<inputs {
                    let c = try tcpConnect(address, options: quickOptions())
                    var len = Int.random(in: 0...120, using: &rng)
                    if i % 10 == 0 { len = 48 }          // exactly a hello's size
                    var bytes = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    if i % 3 == 0 && len >= 6 { bytes[0...5] = [0x52, 0x54, 0x52, 0x4E, UInt8(Handshake.version), 0] }   // good magic + version
                    if !bytes.isEmpty { try? bytes.withUnsafeBytes { try c.sendRaw($0, timeout: 2) } }
                    c.shutdown()
                    c.close()
                }
                return []
            }
            var errs: [String] = []
            for _ in 0..<inputs {
                let c = try listener.accept(timeout: 10)
                do {
                    _ = try Handshake.server(c, rank: 0, worldSize: 2, token: token, timeout: 2)
                    errs.append("ACCEPTED")
                } catch { errs.append("\(error)") }
                c.close()
            }
            return errs
        }
        XCTAssertEqual(errors[0].count, inputs)
        XCTAssertFalse(errors[0].contains("ACCEPTED"))
        XCTAssertTrue(errors[0].allSatisfy { $0.hasPrefix("[transport]") && $0.contains("127.0.0.1:") })
    }
}
