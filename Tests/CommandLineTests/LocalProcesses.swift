import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The binary's processes a test starts by hand (a coordinator, workers), plus raw sockets to
/// poke at them; `stopAll` in tearDown so no process outlives its test.
final class LocalProcesses: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [Process] = []

    func stopAll() {
        lock.lock(); defer { lock.unlock() }
        for p in processes where p.isRunning { p.terminate() }
    }

    func start(_ arguments: [String], environment: [String: String], stderr: Any, stdout: Any = FileHandle.nullDevice,
               executable: String = BinaryRunner.binaryPath) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = stdout
        p.standardError = stderr
        try p.run()
        lock.lock(); processes.append(p); lock.unlock()
        return p
    }

    static func connect(_ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw NSError(domain: "connect", code: Int(errno))
        }
        return fd
    }

    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return UInt16(bigEndian: addr.sin_port)
    }

    static func waitUntilListening(_ port: UInt16) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let fd = try? LocalProcesses.connect(port) {
                // This probe is a stranger too: it closes without a word (refused and logged).
                close(fd)
                return
            }
            usleep(50_000)
        }
        XCTFail("the coordinator never listened on \(port)")
    }

    /// Runs a system tool (mount, cp, ...) to the end; its status and combined output.
    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The step of the checkpoint `RUN/checkpoints/latest` names; -1 before the first.
    static func latestCheckpointStep(_ run: String) -> Int {
        let text = (try? String(contentsOfFile: run + "/checkpoints/latest", encoding: .utf8)) ?? ""
        return Int(text.filter(\.isNumber)) ?? -1
    }

    /// `scripts/netns-cluster.sh up TAG N`: N "hosts" as network namespaces on a bridge (the
    /// subnet unreachable from the root namespace); returns the tag and the hostfile lines
    /// (`TAG-hI ADDRESS`). Skips the test without root. Remove with `removeNamespaceCluster`.
    static func namespaceCluster(hosts: Int, prefix: String) throws -> (tag: String, hostLines: [String]) {
        var tag = "", up = (status: Int32(3), output: "")
        // Exit 3: the tag's subnet belongs to another cluster (tags map onto 200 subnets); try another.
        for _ in 0..<5 where up.status == 3 {
            tag = prefix + String((0..<5).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement()! })
            up = try run("/bin/bash", [ScriptRunner.repository + "/scripts/netns-cluster.sh", "up", tag, "\(hosts)"])
        }
        if up.status != 0 {
            removeNamespaceCluster(tag)
            if up.output.contains("Operation not permitted") { throw XCTSkip("network namespaces need root: \(up.output)") }
            XCTFail("netns-cluster.sh up failed: \(up.output)")
        }
        let lines = up.output.split(separator: "\n").filter { $0.hasPrefix(tag + "-h") }.map(String.init)
        XCTAssertEqual(lines.count, hosts, up.output)
        return (tag, lines)
    }

    static func removeNamespaceCluster(_ tag: String) {
        _ = try? run("/bin/bash", [ScriptRunner.repository + "/scripts/netns-cluster.sh", "down", tag])
    }

    /// Polls `condition` (every 20 ms) until it holds or `seconds` pass; whether it held.
    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

/// A child's stderr, collected as it arrives (for tests that wait for a line).
final class LogCollector: @unchecked Sendable {
    let pipe = Pipe()
    private let lock = NSLock()
    private var data = Data()

    init() {
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard let self, !chunk.isEmpty else { return }
            self.lock.lock()
            self.data.append(chunk)
            self.lock.unlock()
        }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
