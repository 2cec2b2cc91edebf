import Cluster
import Foundation
import XCTest

/// Where the cluster token may come from: a file only its owner can read (like an ssh private
/// key), or the environment; never an empty one.
final class ClusterTokenTests: XCTestCase {
    var path = ""

    override func setUpWithError() throws {
        path = NSTemporaryDirectory() + "ringtrain-token-\(UUID().uuidString)"
        try Data("  0123abcd\n".utf8).write(to: URL(fileURLWithPath: path))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    func chmod(_ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func testA0600FileIsReadTrimmed() throws {
        try chmod(0o600)
        XCTAssertEqual(try ClusterToken.load(file: path, environment: [:]), Array("0123abcd".utf8))
        try chmod(0o400)
        XCTAssertEqual(try ClusterToken.load(file: path, environment: [:]), Array("0123abcd".utf8))
    }

    func testAFileOthersCanReadIsRefusedNamingTheFix() throws {
        for mode in [0o644, 0o640, 0o604, 0o660, 0o666] {
            try chmod(mode)
            XCTAssertThrowsError(try ClusterToken.load(file: path, environment: ["RINGTRAIN_TOKEN": "x"])) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(path) && text.contains("chmod 600"), text)
                XCTAssertTrue(text.contains(String(mode, radix: 8)), text)
                XCTAssertFalse(text.contains("0123abcd"), "the token is never printed: \(text)")
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
        XCTAssertEqual(try ClusterToken.load(file: nil, environment: ["RINGTRAIN_TOKEN": "abc"]), Array("abc".utf8))
    }
}
