import Foundation
import XCTest

/// Every fuzz target runs briefly in the suite (scripts/fuzz.sh runs them for 10 minutes each):
/// no crash, no hang, and the fuzzer really executes inputs.
final class FuzzTests: XCTestCase {
    func testEveryTargetSurvivesAShortRun() throws {
        let dir = NSTemporaryDirectory() + "ringtrain-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for target in ["frame", "handshake", "safetensors", "block", "control", "config", "idx", "image"] {
            let r = try BinaryRunner.run(["fuzz", target, "--seconds", "2", "--seed", "\(UInt64(Date().timeIntervalSince1970))",
                                          "--crash-file", dir + "/\(target).bin"], timeout: 60)
            XCTAssertEqual(r.status, 0, "\(target): \(r.stderr)")
            let n = Int(r.stdout.split(separator: " ").dropFirst(2).first ?? "") ?? 0
            XCTAssertGreaterThan(n, 10_000, "\(target): \(r.stdout)")
        }
    }

    /// The harness itself: a target that crashes on purpose ends the run with exit 1 and the
    /// crashing input saved.
    func testACrashIsCaughtAndItsInputSaved() throws {
        let file = NSTemporaryDirectory() + "ringtrain-fuzz-crash-\(UUID().uuidString).bin"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try BinaryRunner.run(["fuzz", "selftest", "--seconds", "5", "--crash-file", file], timeout: 60)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("fuzz: CRASH"), r.stderr)
        let saved = try XCTUnwrap(FileManager.default.contents(atPath: file))
        XCTAssertFalse(saved.isEmpty)
        XCTAssertNotEqual(Array(saved), Array("seed".utf8), "the saved input is the mutant that crashed")
    }

    func testAnUnknownTargetIsBadUsage() throws {
        let r = try BinaryRunner.run(["fuzz", "nothing"])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("The value 'nothing' is invalid for '<target>'"), r.stderr)
        for target in ["frame", "handshake", "safetensors", "control", "image"] { XCTAssertTrue(r.stderr.contains("- \(target)"), r.stderr) }
    }
}
