import Cluster
import Foundation
import TestSupport
import Training
import Transport
import XCTest

/// The coordinator counts `done` (and checkpoint parts) only from members of the current
/// ring generation: a stale `done` from a rank of an earlier ring must not end the run.
/// Two fake workers speak the control protocol to a real coordinator.
final class CoordinatorMembershipTests: XCTestCase {
    let token = Array("membership-test-token-0123456789abcdef".utf8)

    func summaryJSON() -> ControlMessage {
        var done = ControlMessage(.done)
        let text = #"{"final_step": 1, "epochs_completed": 1, "test_loss": 0.5, "test_top1": 0.9, "test_top5": 1, "images_per_sec": 1, "#
            + #""wall_seconds": 1, "world_size": 2, "compression_ratio": 1, "stopped_early": false, "compute_seconds": 1, "#
            + #""communication_wait_seconds": 0, "bytes_sent": 0, "bytes_raw": 0, "encode_seconds": 0}"#
        done.summary = try! JSONDecoder().decode(TrainingSummary.self, from: Data(text.utf8))
        done.generation = 0
        return done
    }

    func testADoneOfAnotherGenerationDoesNotEndTheRun() throws {
        let dir = NSTemporaryDirectory() + "ringtrain-membership-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = TrainingConfig()
        config.data = dir + "/no-data"
        var options = Coordinator.Options(worldSize: 2, config: config, runDirectory: dir + "/run")
        options.heartbeatTimeout = 3
        options.heartbeatInterval = 0.5
        let lock = NSLock()
        var log: [String] = []
        options.log = { line in lock.lock(); log.append(line); lock.unlock() }
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        let coordinator = Coordinator(listener: listener, token: token, options: options)
        let outcome = Locked<Result<TrainingSummary, Error>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread { let r = Result { try coordinator.run() }; outcome.update { $0 = r }; finished.signal() }.start()

        // Register both, then read the assignments.
        let channels = try (0..<2).map { i -> ControlChannel in
            let connection = try tcpConnect(coordinator.address, options: TCPOptions())
            _ = try Handshake.client(connection, rank: 0, worldSize: 0, token: token, timeout: 10)
            let channel = ControlChannel(connection: connection)
            var register = ControlMessage(.register)
            register.host = "fake"
            register.ringAddress = "127.0.0.1:\(1000 + i)"
            register.pid = Int32(1000 + i)
            try channel.send(register)
            return channel
        }
        var ranks: [Int] = []
        for c in channels {
            var assign = try c.receive(timeout: 10)
            while assign.kind == .progress { assign = try c.receive(timeout: 10) }
            XCTAssertEqual(assign.kind, .assign)
            ranks.append(assign.rank ?? -1)
        }
        let rank0 = channels[ranks.firstIndex(of: 0)!], rank1 = channels[ranks.firstIndex(of: 1)!]
        try rank0.send(summaryJSON())
        var stale = summaryJSON()
        stale.generation = 7
        try rank1.send(stale)
        // Rank 1 then goes silent and away: with its stale `done` ignored, that is a lost worker.
        Thread.sleep(forTimeInterval: 1)
        rank1.close()
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success)
        rank0.close()
        guard case .failure(let error) = outcome.value else { return XCTFail("the run ended on a stale done: \(String(describing: outcome.value))") }
        XCTAssertEqual((error as? ClusterError)?.exitCode, 3, "\(error)")
        lock.lock(); defer { lock.unlock() }
        XCTAssertTrue(log.contains { $0.contains("ignored a done message from worker rank 1") && $0.contains("generation 0") }, "\(log)")
    }
}
