import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Strangers at the coordinator's door: a worker with the wrong token, garbage bytes, an
/// oversized blob, and slow-loris connections that connect and stall. Each is refused and
/// logged with its address, and none of them delays the real workers' rendezvous.
final class SecurityTests: XCTestCase {
    var cleanup: [String] = []
    let cluster = LocalProcesses()
    var sockets: [Int32] = []

    override func tearDown() {
        cluster.stopAll()
        for fd in sockets { close(fd) }
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func testStrangersAreRefusedAndLoggedAndTheRunIsUnaffected() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-security-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 2).utf8).write(to: URL(fileURLWithPath: config))
        let port = try LocalProcesses.freePort()
        let token = ["RINGTRAIN_TOKEN": "the-real-token-\(UUID().uuidString)"]

        let coordinatorLog = Pipe()
        let coordinator = try cluster.start(["coordinator", "--listen", "127.0.0.1:\(port)", "--world-size", "2",
                                     "--config", config, "--run-dir", dir + "/run", "--rendezvous-timeout", "60"],
                                    environment: token, stderr: coordinatorLog)
        var log = ""
        let reader = DispatchQueue(label: "coordinator-log")
        let logDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let all = coordinatorLog.fileHandleForReading.readDataToEndOfFile()
            reader.sync { log = String(decoding: all, as: UTF8.self) }
            logDone.signal()
        }
        try LocalProcesses.waitUntilListening(port)

        // The strangers. Slow-loris first: if the coordinator admitted connections one at a
        // time, each would hold the door for its 10 s handshake deadline.
        let stalledAt = Date()
        for _ in 0..<4 {
            let fd = try LocalProcesses.connect(port)
            _ = send(fd, [0x52], 1, 0)  // one byte of a hello, then nothing
            sockets.append(fd)
        }
        let garbage = try LocalProcesses.connect(port)
        var noise = [UInt8](repeating: 0, count: 256)
        for i in noise.indices { noise[i] = UInt8(truncatingIfNeeded: i &* 7919) }
        _ = send(garbage, noise, noise.count, Int32(MSG_NOSIGNAL))
        sockets.append(garbage)
        let oversized = try LocalProcesses.connect(port)
        let blob = [UInt8](repeating: 0xFF, count: 4 << 20)
        _ = send(oversized, blob, blob.count, Int32(MSG_NOSIGNAL))
        sockets.append(oversized)
        let impostor = try BinaryRunner.run(["worker", "--coordinator", "127.0.0.1:\(port)"],
                                            environment: ["RINGTRAIN_TOKEN": "a-wrong-token-of-the-right-length-\(UUID().uuidString)"], timeout: 60)
        XCTAssertNotEqual(impostor.status, 0, impostor.stderr)
        XCTAssertTrue(impostor.stderr.contains("cannot join the coordinator"), impostor.stderr)

        // The real workers.
        let workers = try (0..<2).map { _ in
            try cluster.start(["worker", "--coordinator", "127.0.0.1:\(port)"], environment: token, stderr: FileHandle.nullDevice)
        }
        for w in workers { w.waitUntilExit() }
        coordinator.waitUntilExit()
        let elapsed = Date().timeIntervalSince(stalledAt)
        logDone.wait()
        let text = reader.sync { log }
        for w in workers { XCTAssertEqual(w.terminationStatus, 0, text) }
        XCTAssertEqual(coordinator.terminationStatus, 0, text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run/summary.json"), text)

        // Refused and logged with the address: the wrong token, the garbage, the blob.
        let refusals = text.split(separator: "\n").filter { $0.contains("refused a connection from 127.0.0.1:") }
        XCTAssertGreaterThanOrEqual(refusals.count, 3, text)
        // The slow-loris connections stalled only themselves: admitted one at a time, four
        // of them would have held the door 4 x 10 s (the handshake deadline) before the
        // workers got in; the whole job ran in less than one deadline, and no stalled
        // handshake timed out before both workers had registered.
        XCTAssertLessThan(elapsed, 9, text)
        let registered = text.range(of: "worker 2/2 registered")
        XCTAssertNotNil(registered, text)
        if let registered, let stalled = text.range(of: "timed out") {
            XCTAssertLessThan(registered.lowerBound, stalled.lowerBound, text)
        }
    }
}
