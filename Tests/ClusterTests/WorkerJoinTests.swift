import Cluster
import Foundation
import Transport
import XCTest

/// A worker waiting for its assignment skips the coordinator's heartbeats: a late joiner's
/// seat is alive from its admission, so a heartbeat can arrive before the assignment.
final class WorkerJoinTests: XCTestCase {
    func testHeartbeatsBeforeTheAssignmentAreSkipped() throws {
        let token = Array("join-test-token".utf8)
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        let coordinator = Thread {
            guard let connection = try? listener.accept(timeout: 30),
                  (try? Handshake.server(connection, rank: 0, worldSize: 0, token: token, timeout: 10)) != nil else { return }
            let channel = ControlChannel(connection: connection)
            guard let register = try? channel.receive(timeout: 30), register.kind == .register else { return }
            // Two heartbeats, then the answer: a refusal, which the worker must see as such.
            try? channel.send(ControlMessage(.progress))
            try? channel.send(ControlMessage(.progress))
            var abort = ControlMessage(.abort)
            abort.message = "test refusal"
            try? channel.send(abort)
            Thread.sleep(forTimeInterval: 1)
            channel.close()
        }
        coordinator.start()
        var options = Worker.Options(coordinator: listener.address)
        options.connectTimeout = 20
        XCTAssertThrowsError(try Worker(token: token, options: options).run()) { error in
            XCTAssertTrue("\(error)".contains("the coordinator refused this worker: test refusal"), "\(error)")
        }
    }
}
