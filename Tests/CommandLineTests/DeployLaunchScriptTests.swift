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

    /// Three "hosts" in network namespaces (scripts/netns-cluster.sh: a bridge in its own
    /// namespace, an unreachable route for the subnet in the root namespace), driven through
    /// `ip netns exec` (scripts/netns-agent.sh): the job trains to a checkpoint, stops, and a
    /// second launch with `--resume` continues from it. Workers advertise their own
    /// namespace's address, found from their route to the coordinator. Everything is removed.
    func testNamespaceClusterOfThreeHostsTrainsToACheckpointAndResumes() throws {
        let (tag, hostLines) = try LocalProcesses.namespaceCluster(hosts: 3, prefix: "rt")
        defer { LocalProcesses.removeNamespaceCluster(tag) }
        guard hostLines.count == 3 else { return }
        let dir = try jobDirectory(hostLines: hostLines, epochs: 3, extra: ", \"stop_at_epoch\": 1")
        let first = try launch(dir, ["--", "--config", dir + "/config.json", "--run-dir", dir + "/run"])
        XCTAssertEqual(first.status, 0, first.output)
        let addresses = hostLines.map { String($0.split(separator: " ").last!) }
        for a in addresses { XCTAssertTrue(first.output.contains("ring address \(a):"), "a worker advertises \(a):\n\(first.output)") }
        XCTAssertFalse(first.output.contains("127.0.0.1"), "no fall-back to loopback across hosts:\n\(first.output)")
        let stepsAfterFirst = LocalProcesses.latestCheckpointStep(dir + "/run")
        XCTAssertGreaterThan(stepsAfterFirst, 0, "the first launch left a checkpoint")

        // Same job, the rest of the epochs, resumed from that checkpoint.
        try Data(SyntheticDataset.configJSON(data: dir + "/data", epochs: 3).utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let second = try launch(dir, ["--", "--config", dir + "/config.json", "--run-dir", dir + "/run", "--resume"])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("resumed from"), second.output)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["world_size"] as? Int, 3)
        XCTAssertEqual(summary["epochs_completed"] as? Int, 3)
        XCTAssertGreaterThan(LocalProcesses.latestCheckpointStep(dir + "/run"), stepsAfterFirst)
    }

    /// A worker told to advertise the address of an interface that has none (one end of a
    /// veth pair without an address) fails before step 1, naming its host and the interface, and the
    /// launcher stops the job at once instead of letting the coordinator wait for it.
    func testWorkerInterfaceWithoutAddressFailsBeforeStepOne() throws {
        let (tag, hostLines) = try LocalProcesses.namespaceCluster(hosts: 2, prefix: "ri")
        defer { LocalProcesses.removeNamespaceCluster(tag) }
        guard hostLines.count == 2 else { return }
        for i in 1...2 {
            let add = try LocalProcesses.run("/sbin/ip", ["-n", "\(tag)-h\(i)", "link", "add", "nic1", "type", "veth", "peer", "name", "nic1p"])
            XCTAssertEqual(add.status, 0, add.output)
            _ = try LocalProcesses.run("/sbin/ip", ["-n", "\(tag)-h\(i)", "link", "set", "nic1", "up"])
        }
        let dir = try jobDirectory(hostLines: hostLines, epochs: 1)
        let started = Date()
        let r = try launch(dir, ["--interface", "nic1", "--", "--config", dir + "/config.json", "--run-dir", dir + "/run"])
        XCTAssertEqual(r.status, 2, r.output)
        XCTAssertTrue(r.output.contains("worker on host"), r.output)
        XCTAssertTrue(r.output.contains("interface nic1 has no IPv4 address"), r.output)
        XCTAssertFalse(r.output.contains("step 1"), r.output)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "the launcher did not wait for the coordinator's rendezvous timeout")
    }

    /// Host 2 has no route to host 3 (an `unreachable` route inside host 2's namespace), while
    /// both reach the coordinator: the ring cannot close, and the job fails before step 1 with
    /// a message naming the hop between the two hosts' addresses.
    func testUnreachableRingNeighbourFailsBeforeStepOneNamingTheHop() throws {
        let (tag, hostLines) = try LocalProcesses.namespaceCluster(hosts: 3, prefix: "ru")
        defer { LocalProcesses.removeNamespaceCluster(tag) }
        guard hostLines.count == 3 else { return }
        let addresses = hostLines.map { String($0.split(separator: " ").last!) }
        let block = try LocalProcesses.run("/sbin/ip", ["-n", "\(tag)-h2", "route", "add", "unreachable", addresses[2] + "/32"])
        XCTAssertEqual(block.status, 0, block.output)
        let dir = try jobDirectory(hostLines: hostLines, epochs: 1)
        let r = try launch(dir, ["--", "--config", dir + "/config.json", "--run-dir", dir + "/run"], timeout: 120)
        XCTAssertNotEqual(r.status, 0, r.output)
        let hop = r.output.split(separator: "\n").first { $0.contains("ring hop") && $0.contains(addresses[1]) && $0.contains(addresses[2]) }
        XCTAssertNotNil(hop, "a line names the hop between \(addresses[1]) and \(addresses[2]):\n\(r.output)")
        XCTAssertTrue(r.output.contains("before step 1"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/checkpoints/latest"), "no step was trained")
    }

    /// A job directory with the synthetic dataset (data/), config.json and a hostfile.
    func jobDirectory(hostLines: [String], epochs: Int, extra: String = "") throws -> String {
        let dir = NSTemporaryDirectory() + "ringtrain-netns-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        cleanup.append(dir)
        let data = try SyntheticDataset.writeIDX()
        try FileManager.default.moveItem(atPath: data, toPath: dir + "/data")
        try Data(SyntheticDataset.configJSON(data: dir + "/data", epochs: epochs, extra: extra).utf8)
            .write(to: URL(fileURLWithPath: dir + "/config.json"))
        try Data((hostLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/hosts"))
        return dir
    }

    func launch(_ dir: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> (status: Int32, output: String) {
        try runScript(["--hostfile", dir + "/hosts", "--agent", Self.repository + "/scripts/netns-agent.sh",
                       "--coordinator-port", String(30_000 + Int.random(in: 0..<5_000)), "--bin", BinaryRunner.binaryPath]
                      + arguments, timeout: timeout)
    }
}
