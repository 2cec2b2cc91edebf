import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Three "hosts" in network namespaces, `--min-workers 2`; the third host's link goes down
/// (`ip link set eth0 down` inside its namespace: no FIN, no RST, silence). The coordinator
/// declares it lost within the heartbeat bound and the other two re-form the ring and go on;
/// the cut-off worker, silent coordinator, re-executes itself to rejoin; when the link comes
/// back 60 s later it registers again and joins at the next checkpoint: the ring grows to 3.
final class LinkCutTests: XCTestCase {
    var cleanup: [String] = []
    let cluster = LocalProcesses()

    override func tearDown() {
        cluster.stopAll()
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func testACutHostIsDroppedWithinTheBoundAndTheRunGoesOn() throws {
        let (tag, hostLines) = try LocalProcesses.namespaceCluster(hosts: 3, prefix: "rc")
        defer { LocalProcesses.removeNamespaceCluster(tag) }
        guard hostLines.count == 3 else { return }

        let data = try SyntheticDataset.writeIDX(train: 2400)
        let dir = NSTemporaryDirectory() + "ringtrain-linkcut-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        try Data(SyntheticDataset.configJSON(data: data, epochs: 100_000, checkpointEvery: 50).utf8)
            .write(to: URL(fileURLWithPath: dir + "/config.json"))
        try Data((hostLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/hosts"))
        let run = dir + "/run"
        let log = LogCollector()
        let launch = Process()
        launch.executableURL = URL(fileURLWithPath: "/bin/bash")
        launch.arguments = [ScriptRunner.repository + "/deploy/launch.sh", "--hostfile", dir + "/hosts",
                            "--agent", ScriptRunner.repository + "/scripts/netns-agent.sh", "--bin", BinaryRunner.binaryPath,
                            "--", "--config", dir + "/config.json", "--run-dir", run, "--min-workers", "2"]
        // deploy/launch.sh streams every host's log, prefixed, on its stdout.
        launch.standardOutput = log.pipe
        launch.standardError = log.pipe
        try launch.run()
        defer { if launch.isRunning { kill(launch.processIdentifier, SIGTERM); launch.waitUntilExit() } }

        XCTAssertTrue(LocalProcesses.waitFor(90) { log.text.contains("ring of 3 formed and checked") && LocalProcesses.latestCheckpointStep(run) > 0 }, log.text)
        let cut = try LocalProcesses.run("/usr/sbin/ip", ["-n", "\(tag)-h3", "link", "set", "eth0", "down"])
        XCTAssertEqual(cut.status, 0, cut.output)
        let cutAt = Date()
        XCTAssertTrue(LocalProcesses.waitFor(60) { log.text.contains("ring of 2 formed and checked (re-formation 1)") }, log.text)
        let reformedAfter = Date().timeIntervalSince(cutAt)
        XCTAssertLessThan(reformedAfter, 45, "within the 30 s heartbeat bound plus the re-formation")
        // The lost worker is the one that registered from the cut host's address.
        let cutAddress = String(hostLines[2].split(separator: " ").last!)
        let registration = log.text.split(separator: "\n").first { $0.contains("registered:") && $0.contains("ring address \(cutAddress):") }
        let pid = registration.flatMap { line in line.range(of: " pid ").map { line[$0.upperBound...].split(separator: ",")[0] } }
        XCTAssertNotNil(pid, log.text)
        if let pid { XCTAssertTrue(log.text.range(of: "lost worker rank \\d on \\S+ \\(pid \(pid)\\)", options: .regularExpression) != nil, log.text) }

        // Training goes on without the host; the link comes back after 60 s and the host rejoins.
        let stepAfterReform = LocalProcesses.latestCheckpointStep(run)
        XCTAssertTrue(LocalProcesses.waitFor(20) { LocalProcesses.latestCheckpointStep(run) > stepAfterReform + 100 }, log.text)
        Thread.sleep(forTimeInterval: max(0, 60 - Date().timeIntervalSince(cutAt)))
        XCTAssertEqual(try LocalProcesses.run("/usr/sbin/ip", ["-n", "\(tag)-h3", "link", "set", "eth0", "up"]).status, 0)
        let upAt = Date()
        XCTAssertTrue(LocalProcesses.waitFor(60) { log.text.contains("ring of 3 formed and checked (re-formation 2)") }, log.text)
        XCTAssertLessThan(Date().timeIntervalSince(upAt), 60)
        XCTAssertTrue(log.text.contains("registered during the run"), log.text)
        XCTAssertTrue(log.text.contains("admitting 1 worker(s) at the commit point"), log.text)
        if let pid {
            XCTAssertTrue(log.text.contains("pid \(pid) (ring address \(cutAddress):"), "the same process (re-executed) rejoined: \(log.text)")
        }
        let stepAfterRejoin = LocalProcesses.latestCheckpointStep(run)
        XCTAssertTrue(LocalProcesses.waitFor(20) { LocalProcesses.latestCheckpointStep(run) > stepAfterRejoin + 100 }, log.text)
        XCTAssertTrue(launch.isRunning, log.text)
    }
}
