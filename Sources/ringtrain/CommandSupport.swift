import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error (diagnostics never go to stdout, which may be JSON).
func printError(_ message: String) {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
}

/// Runs `body`; an input error (bad file, bad config) is printed and becomes exit 2.
func exitingOnBadInput<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode(2)
    }
}

/// Pretty, stable JSON for machine-readable output.
func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
