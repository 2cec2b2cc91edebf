import Foundation
import TestSupport
import XCTest

/// Runs one of the repository's scripts (`scripts/...`, `deploy/...`) with bash from the
/// repository root and captures its exit status and combined output.
enum ScriptRunner {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func run(_ script: String, _ arguments: [String], timeout: TimeInterval = 120) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repository + "/" + script] + arguments
        p.currentDirectoryURL = URL(fileURLWithPath: repository)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = Locked(Data())
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { let d = out.fileHandleForReading.readDataToEndOfFile(); data.update { $0 = d }; done.signal() }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            XCTFail("\(script) did not finish in \(timeout) s")
        }
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data.value, as: UTF8.self))
    }
}
