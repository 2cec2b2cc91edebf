import Foundation
import XCTest

/// Real separate processes: `ringtrain bench allreduce --verify` spawns N ranks that form an
/// authenticated TCP ring on 127.0.0.1 ephemeral ports; every rank checks its result against
/// the ring-order sum and that all ranks hold identical bytes, and exits non-zero otherwise.
final class ProcessRingTests: XCTestCase {
    func ringtrainBinary() throws -> URL {
        // The test bundle sits next to the products of the same build (.build/<triple>/release/).
        let dir = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("ringtrain"),
                          URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ringtrain")] {
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("ringtrain binary not built next to the tests (run `swift build -c release` first)")
    }

    func run(_ exe: URL, _ args: [String], timeout: Double = 60) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { p.terminate(); usleep(200_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            + String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (p.terminationStatus, text)
    }

    func testRanks2to4AsSeparateProcesses() throws {
        let exe = try ringtrainBinary()
        var cases: [(Int, Int, String)] = []
        for codec in ["none", "zstd", "bf16-zstd"] {
            for n in 2...4 { cases.append((n, (1 << 20) + 3, codec)) }
            for count in [0, 1, 7, 1000] { cases.append((3, count, codec)) }
        }
        for (n, count, codec) in cases {
            let (status, text) = try run(exe, ["bench", "allreduce", "--nproc", "\(n)", "--size", "\(count * 4)", "--codec", codec,
                                               "--iters", "1", "--warmup", "1", "--segment", "4096", "--verify", "--json",
                                               "--timeout", "50"])
            XCTAssertEqual(status, 0, "n=\(n) count=\(count) codec=\(codec): \(text)")
            XCTAssertEqual(text.components(separatedBy: "verified \(count) elements").count - 1, n, text)
            XCTAssertTrue(text.contains("\"busbw_gbps\""), text)
        }
    }
}
