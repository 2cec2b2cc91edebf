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

    /// A 2-epoch job on generated data: its directory, config, a free port and a fresh token.
    func job(_ name: String) throws -> (dir: String, config: String, port: UInt16, token: [String: String]) {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        let config = dir + "/config.json"
        try Data(SyntheticDataset.configJSON(data: data, epochs: 2).utf8).write(to: URL(fileURLWithPath: config))
        return (dir, config, try LocalProcesses.freePort(), ["RINGTRAIN_TOKEN": "the-real-token-\(UUID().uuidString)"])
    }

    func testStrangersAreRefusedAndLoggedAndTheRunIsUnaffected() throws {
        let (dir, config, port, token) = try job("security")

        let coordinatorLog = Pipe()
        let coordinator = try cluster.start(["coordinator", "--listen", "127.0.0.1:\(port)", "--world-size", "2",
                                     "--config", config, "--run-dir", dir + "/run", "--rendezvous-timeout", "60"],
                                    environment: token, stderr: coordinatorLog)
        let log = Locked("")
        let logDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let all = coordinatorLog.fileHandleForReading.readDataToEndOfFile()
            log.update { $0 = String(decoding: all, as: UTF8.self) }
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
        let text = log.value
        for w in workers { XCTAssertEqual(w.terminationStatus, 0, text) }
        XCTAssertEqual(coordinator.terminationStatus, 0, text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run/summary.json"), text)

        // Refused and logged with the address: the wrong token, the garbage, the blob. One
        // line per address per 10 s; the others are counted in a line after the rendezvous.
        let lines = text.split(separator: "\n")
        let refusals = lines.filter { $0.contains("refused a connection from 127.0.0.1:") }
        XCTAssertEqual(refusals.count, 1, text)
        let counted = lines.compactMap { line -> Int? in
            guard let r = line.range(of: #"refused (\d+) more connections from 127\.0\.0\.1 "#, options: .regularExpression) else { return nil }
            return Int(line[r].split(separator: " ")[1])
        }
        XCTAssertGreaterThanOrEqual(refusals.count + counted.reduce(0, +), 3, text)
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
    /// Non-blocking connects to 127.0.0.1:port, left open and silent.
    func flood(_ port: UInt16, count: Int) -> [Int32] {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return (0..<count).compactMap { _ in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { return nil }
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            return fd
        }
    }

    /// Threads and open descriptors of a process, from /proc.
    static func usage(_ pid: Int32) -> (threads: Int, fds: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }),
              let threads = Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)),
              let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return nil }
        return (threads, fds.count)
    }

    /// 2,000 silent connections opened as fast as possible while the workers register: the
    /// run starts and finishes, and the coordinator (under a descriptor limit of 256, so an
    /// unbounded acceptor would hit EMFILE) never holds more than a bounded number of
    /// threads and descriptors for them.
    func testAConnectionFloodNeitherStopsTheRunNorExhaustsTheCoordinator() throws {
        let (dir, config, port, token) = try job("flood")
        let coordinatorLog = dir + "/coordinator.log"
        _ = FileManager.default.createFile(atPath: coordinatorLog, contents: nil)
        let coordinator = try cluster.start(["-c", "ulimit -n 256 && exec \"$0\" \"$@\"", BinaryRunner.binaryPath,
                                             "coordinator", "--listen", "127.0.0.1:\(port)", "--world-size", "2",
                                             "--config", config, "--run-dir", dir + "/run", "--rendezvous-timeout", "60"],
                                            environment: token, stderr: FileHandle(forWritingAtPath: coordinatorLog)!, executable: "/bin/sh")
        try LocalProcesses.waitUntilListening(port)
        let baseline = try XCTUnwrap(Self.usage(coordinator.processIdentifier))

        let highest = Locked((threads: 0, fds: 0))
        let flooded = Locked([Int32]())
        let sampling = FinishedFlagForTests()
        let pid = coordinator.processIdentifier
        let sampler = Thread {
            while !sampling.isSet {
                if let u = Self.usage(pid) {
                    highest.update { $0 = (max($0.threads, u.threads), max($0.fds, u.fds)) }
                }
                usleep(5_000)
            }
        }
        sampler.start()
        let flooder = Thread { [self] in
            let fds = flood(port, count: 2_000)
            flooded.update { $0 = fds }
        }
        flooder.start()
        let workerLogs = (0..<2).map { dir + "/worker\($0).log" }
        let workers = try workerLogs.map { path in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return try cluster.start(["worker", "--coordinator", "127.0.0.1:\(port)"], environment: token,
                                     stderr: FileHandle(forWritingAtPath: path)!)
        }
        for w in workers { w.waitUntilExit() }
        coordinator.waitUntilExit()
        sampling.set()
        while sampler.isExecuting || flooder.isExecuting { usleep(1_000) }
        sockets += flooded.value
        let peak = highest.value
        let text = ([coordinatorLog] + workerLogs).map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n---\n")
        XCTAssertEqual(coordinator.terminationStatus, 0, text)
        for w in workers { XCTAssertEqual(w.terminationStatus, 0, text) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run/summary.json"), text)
        // 64 handshakes at most (each a pool thread and a descriptor), plus the run's own.
        XCTAssertLessThan(peak.threads, baseline.threads + 64 + 16, "peak \(peak), baseline \(baseline)")
        XCTAssertLessThan(peak.fds, baseline.fds + 64 + 16, "peak \(peak), baseline \(baseline)")
        print("flood: coordinator baseline \(baseline), peak \(peak)")
    }
}

/// A flag one thread sets and another polls.
final class FinishedFlagForTests: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
