import Cluster
import Foundation
import XCTest

/// Where the cluster token may come from: a file only its owner can read (like an ssh private
/// key), or the environment; never an empty or a short one.
final class ClusterTokenTests: XCTestCase {
    var path = ""
    let token = "0123456789abcdef0123456789abcdef"

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "ringtrain-token-\(UUID().uuidString)"
        try Data("  \(token)\n".utf8).write(to: URL(fileURLWithPath: path))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    func chmod(_ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func testA0600FileIsReadTrimmed() throws {
        try chmod(0o600)
        XCTAssertEqual(try ClusterToken.load(file: path, environment: [:]), Array(token.utf8))
        try chmod(0o400)
        XCTAssertEqual(try ClusterToken.load(file: path, environment: [:]), Array(token.utf8))
    }

    func testAFileOthersCanReadIsRefusedNamingTheFix() throws {
        for mode in [0o644, 0o640, 0o604, 0o660, 0o666] {
            try chmod(mode)
            XCTAssertThrowsError(try ClusterToken.load(file: path, environment: ["RINGTRAIN_TOKEN": "x"])) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(path) && text.contains("chmod 600"), text)
                XCTAssertTrue(text.contains(String(mode, radix: 8)), text)
                XCTAssertFalse(text.contains(self.token), "the token is never printed: \(text)")
            }
        }
    }

    func testMissingOrEmptySourcesAreErrors() throws {
        XCTAssertThrowsError(try ClusterToken.load(file: path + ".missing", environment: [:]))
        try Data("\n".utf8).write(to: URL(fileURLWithPath: path))
        try chmod(0o600)
        XCTAssertThrowsError(try ClusterToken.load(file: path, environment: [:]))
        XCTAssertThrowsError(try ClusterToken.load(file: nil, environment: [:]))
        XCTAssertThrowsError(try ClusterToken.load(file: nil, environment: ["RINGTRAIN_TOKEN": ""]))
        XCTAssertEqual(try ClusterToken.load(file: nil, environment: ["RINGTRAIN_TOKEN": token]), Array(token.utf8))
        XCTAssertThrowsError(try ClusterToken.load(file: NSTemporaryDirectory(), environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    /// Under 128 bits (32 hex digits) a token falls to an offline guess from one recorded
    /// handshake: refused from the file and from the environment, with the command that makes
    /// a good one.
    func testAShortTokenIsRefusedWithTheCommandThatMakesAGoodOne() throws {
        let short = String(token.dropLast())
        try Data((short + "\n").utf8).write(to: URL(fileURLWithPath: path))
        try chmod(0o600)
        for (file, environment) in [(path as String?, [String: String]()), (nil, ["RINGTRAIN_TOKEN": short])] {
            XCTAssertThrowsError(try ClusterToken.load(file: file, environment: environment)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("a token of 31 characters, fewer than the 32"), text)
                XCTAssertTrue(text.contains("openssl rand -hex 32"), text)
                XCTAssertFalse(text.contains(short), "the token is never printed: \(text)")
            }
        }
    }
}
