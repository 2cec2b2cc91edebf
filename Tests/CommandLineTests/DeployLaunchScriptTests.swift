import Foundation
import TestSupport
import XCTest

/// deploy/launch.sh with a hostfile, driven through scripts/local-agent.sh (the same shape
/// as `ssh HOST COMMAND`, run on this machine, addresses on loopback).
final class DeployLaunchScriptTests: XCTestCase {
    static let repository = ScriptRunner.repository
    var cleanup: [String] = []

    override func tearDown() {
        for p in cleanup { try? FileManager.default.removeItem(atPath: p) }
    }

    func runScript(_ arguments: [String], timeout: TimeInterval = 120) throws -> (status: Int32, output: String) {
        try ScriptRunner.run("deploy/launch.sh", arguments, timeout: timeout)
    }

    func testHostfileJobOnTwoHostsWithThreeWorkers() throws {
        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-deploy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        try Data(SyntheticDataset.configJSON(data: data).utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try Data("# two 'hosts' on loopback\nnodeA slots=2 127.0.0.1\nnodeB 127.0.0.1   # one slot\n".utf8)
            .write(to: URL(fileURLWithPath: dir + "/hosts"))
        let port = String(30_000 + Int.random(in: 0..<5_000))
        let r = try runScript(["--hostfile", dir + "/hosts", "--agent", Self.repository + "/scripts/local-agent.sh",
                               "--coordinator-port", port, "--bin", BinaryRunner.binaryPath, "--",
                               "--config", dir + "/config.json", "--run-dir", dir + "/run"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("[nodeA coordinator]"), r.output)
        XCTAssertTrue(r.output.contains("3 workers on 2 host(s)"), r.output)
        XCTAssertFalse(r.output.contains(ProcessInfo.processInfo.environment["RINGTRAIN_TOKEN"] ?? "no-token-here"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["world_size"] as? Int, 3)
    }

    func testBadHostfilesExitTwoNamingTheLine() throws {
        let dir = NSTemporaryDirectory() + "ringtrain-deploy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append(dir)
        try Data("nodeA slots=zero\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad"))
        let r = try runScript(["--hostfile", dir + "/bad", "--", "--epochs", "1"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.output.contains("bad:1: bad slots"), r.output)
        try Data("# nothing\n\n".utf8).write(to: URL(fileURLWithPath: dir + "/empty"))
        let e = try runScript(["--hostfile", dir + "/empty"])
        XCTAssertEqual(e.status, 2)
        XCTAssertTrue(e.output.contains("lists no host"), e.output)
        let m = try runScript(["--hostfile", dir + "/missing"])
        XCTAssertEqual(m.status, 2)
    }

    /// Two "hosts" in network namespaces (scripts/netns-cluster.sh: a bridge in its own
    /// namespace, an unreachable route for the subnet in the root namespace), driven through
    /// `ip netns exec` (scripts/netns-agent.sh). Workers advertise their own namespace's
    /// address, found from their route to the coordinator. Everything is removed afterwards.
    func testNamespaceClusterOfTwoHosts() throws {
        let (tag, hostLines) = try LocalProcesses.namespaceCluster(hosts: 2, prefix: "rt")
        defer { LocalProcesses.removeNamespaceCluster(tag) }
        guard hostLines.count == 2 else { return }

        let data = try SyntheticDataset.writeIDX()
        let dir = NSTemporaryDirectory() + "ringtrain-netns-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup += [data, dir]
        try Data(SyntheticDataset.configJSON(data: data).utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try Data((hostLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/hosts"))
        let r = try runScript(["--hostfile", dir + "/hosts", "--agent", Self.repository + "/scripts/netns-agent.sh",
                               "--bin", BinaryRunner.binaryPath, "--", "--config", dir + "/config.json", "--run-dir", dir + "/run"])
        XCTAssertEqual(r.status, 0, r.output)
        let addresses = hostLines.map { String($0.split(separator: " ").last!) }
        for a in addresses { XCTAssertTrue(r.output.contains("ring address \(a):"), "a worker advertises \(a):\n\(r.output)") }
        XCTAssertFalse(r.output.contains("127.0.0.1"), "no fall-back to loopback across hosts:\n\(r.output)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["world_size"] as? Int, 2)
    }
}
