import Foundation
import TestSupport
import XCTest

/// Runs the built `ringtrain` binary (the one in the same products folder as the tests, or
/// `$RINGTRAIN_BIN`) and captures its exit status and output.
struct BinaryRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var binaryPath: String {
        if let p = ProcessInfo.processInfo.environment["RINGTRAIN_BIN"] { return p }
        // The test bundle runs from .build/<triple>/<config>/; the executable sits beside it.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir.deleteLastPathComponent() }
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ringtrain").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return "ringtrain"
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 300) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
        let outData = Locked(Data()), errData = Locked(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { let d = out.fileHandleForReading.readDataToEndOfFile(); outData.update { $0 = d }; group.leave() }
        group.enter()
        DispatchQueue.global().async { let d = err.fileHandleForReading.readDataToEndOfFile(); errData.update { $0 = d }; group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            XCTFail("ringtrain \(arguments.joined(separator: " ")) did not finish in \(timeout) s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData.value, as: UTF8.self),
                      stderr: String(decoding: errData.value, as: UTF8.self))
    }
}
