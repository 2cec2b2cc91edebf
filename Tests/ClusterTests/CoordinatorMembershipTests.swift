import Cluster
import Foundation
import TestSupport
import Training
import Transport
import XCTest

/// A real coordinator and two fake workers that speak the control protocol to it: each test
/// sends the supervisor one kind of message and checks the transition it makes.
final class FakeWorkerJob {
    let token = Array("membership-test-token-0123456789abcdef".utf8)
    let dir = NSTemporaryDirectory() + "ringtrain-membership-\(UUID().uuidString)"
    let log = Locked([String]())
    let outcome = Locked<Result<TrainingSummary, Error>?>(nil)
    let finished = DispatchSemaphore(value: 0)
    /// The fake workers' control channels, by rank.
    var ranks: [ControlChannel] = []

    init() throws {
        var config = TrainingConfig()
        config.data = dir + "/no-data"
        var options = Coordinator.Options(worldSize: 2, config: config, runDirectory: dir + "/run")
        options.heartbeatTimeout = 3
        options.heartbeatInterval = 0.5
        options.log = { [log] line in log.update { $0.append(line) } }
        let coordinator = Coordinator(listener: try TCPListener(host: "127.0.0.1", port: 0), token: token, options: options)
        Thread { [outcome, finished] in
            let r = Result { try coordinator.run() }
            outcome.update { $0 = r }
            finished.signal()
        }.start()
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
        var byRank: [Int: ControlChannel] = [:]
        for c in channels {
            var assign = try c.receive(timeout: 10)
            while assign.kind == .progress { assign = try c.receive(timeout: 10) }
            guard assign.kind == .assign, let rank = assign.rank else { throw ClusterError("expected an assignment, got \(assign.kind)") }
            byRank[rank] = c
        }
        ranks = [byRank[0]!, byRank[1]!]
    }

    deinit {
        ranks.forEach { $0.close() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Waits for the coordinator to end; its error (nil if it finished with a summary).
    func error(within seconds: Double = 30) -> Error? {
        guard finished.wait(timeout: .now() + seconds) == .success else { return ClusterError("the coordinator did not end within \(seconds) s") }
        if case .failure(let e) = outcome.value { return e }
        return nil
    }

    static func summary(generation: Int = 0) -> ControlMessage {
        var done = ControlMessage(.done)
        let text = #"{"final_step": 1, "epochs_completed": 1, "test_loss": 0.5, "test_top1": 0.9, "test_top5": 1, "images_per_sec": 1, "#
            + #""wall_seconds": 1, "world_size": 2, "compression_ratio": 1, "stopped_early": false, "compute_seconds": 1, "#
            + #""communication_wait_seconds": 0, "bytes_sent": 0, "bytes_raw": 0, "encode_seconds": 0}"#
        done.summary = try! JSONDecoder().decode(TrainingSummary.self, from: Data(text.utf8))
        done.generation = generation
        return done
    }
}

/// The supervisor's transitions, one message kind at a time, against a real coordinator.
final class CoordinatorMembershipTests: XCTestCase {
    /// `done` counts only from members of the current ring generation: a stale `done` from a
    /// rank of an earlier ring must not end the run.
    func testADoneOfAnotherGenerationDoesNotEndTheRun() throws {
        let job = try FakeWorkerJob()
        try job.ranks[0].send(FakeWorkerJob.summary())
        try job.ranks[1].send(FakeWorkerJob.summary(generation: 7))
        // Rank 1 then goes silent and away: with its stale `done` ignored, that is a lost worker.
        Thread.sleep(forTimeInterval: 1)
        job.ranks[1].close()
        let error = try XCTUnwrap(job.error(), "the run ended on a stale done")
        XCTAssertEqual((error as? ClusterError)?.exitCode, 3, "\(error)")
        XCTAssertTrue(job.log.value.contains { $0.contains("ignored a done message from worker rank 1") && $0.contains("generation 0") }, "\(job.log.value)")
    }

    /// Both ranks' `done`: the run ends with rank 0's summary.
    func testEveryRanksDoneEndsTheRunWithRankZerosSummary() throws {
        let job = try FakeWorkerJob()
        try job.ranks[1].send(FakeWorkerJob.summary())
        try job.ranks[0].send(FakeWorkerJob.summary())
        XCTAssertNil(job.error())
        guard case .success(let summary)? = job.outcome.value else { return XCTFail("no summary") }
        XCTAssertEqual(summary.finalStep, 1)
    }

    /// A worker's `failed` ends the run with the worker's message and exit code.
    func testAFailedWorkerEndsTheRunWithItsCodeAndMessage() throws {
        let job = try FakeWorkerJob()
        var failed = ControlMessage(.failed)
        failed.message = "data/train-images: label 11 out of range"
        failed.exitCode = 2
        try job.ranks[1].send(failed)
        let error = try XCTUnwrap(job.error() as? ClusterError)
        XCTAssertEqual(error.exitCode, 2)
        XCTAssertTrue(error.message.contains("worker rank 1") && error.message.contains("label 11 out of range"), error.message)
    }

    /// Checkpoint parts whose weight hashes differ end the run, naming both ranks' hashes.
    func testRanksThatDisagreeOnTheWeightsEndTheRun() throws {
        let job = try FakeWorkerJob()
        for (rank, hash) in [(0, "aa00"), (1, "bb11")] {
            var part = ControlMessage(.checkpointPart)
            part.step = 4
            part.generation = 0
            part.hash = String(repeating: hash, count: 16)
            part.tensors = []
            try job.ranks[rank].send(part)
        }
        let error = try XCTUnwrap(job.error() as? ClusterError)
        XCTAssertTrue(error.message.contains("ranks disagree on the weights at step 4") && error.message.contains("rank 0: aa00")
                      && error.message.contains("rank 1: bb11"), error.message)
    }

    /// A part that does not add up (more values named than attached) ends the run, naming the
    /// worker, instead of writing a short checkpoint.
    func testAPartThatDoesNotAddUpEndsTheRun() throws {
        let job = try FakeWorkerJob()
        var part = ControlMessage(.checkpointPart)
        part.step = 4
        part.generation = 0
        part.hash = String(repeating: "ab", count: 32)
        part.tensors = [TensorEntry(name: "w", shape: [4], count: 4)]
        try job.ranks[1].send(part, attachment: [0, 0, 0, 0])
        let error = try XCTUnwrap(job.error() as? ClusterError)
        XCTAssertTrue(error.message.contains("worker rank 1") && error.message.contains("does not add up"), error.message)
    }
}
