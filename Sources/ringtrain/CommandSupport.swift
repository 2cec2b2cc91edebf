import ArgumentParser
import Foundation
import Training
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

/// The end of a run on stdout: a few lines a person reads (where the figures and files are),
/// or with `json` the whole summary, as summary.json holds it.
func printRunSummary(_ s: TrainingSummary, runDirectory: String, json: Bool) throws {
    if json {
        print(try jsonString(s))
        return
    }
    let seconds = Int(s.wallSeconds.rounded())
    let wall = seconds >= 60 ? "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" : "\(seconds)s"
    let workers = s.worldSize == 1 ? "1 process" : "\(s.worldSize) workers"
    var done = "finished: \(s.epochsCompleted) epoch\(s.epochsCompleted == 1 ? "" : "s"), step \(s.finalStep), \(wall), "
        + String(format: "%.0f images/s (%@)", s.imagesPerSec, workers)
    if s.stoppedEarly { done += ", stopped early" }
    print(done)
    var test = String(format: "test: top-1 %.2f%%  top-5 %.2f%%  loss %.4f", 100 * s.testTop1, 100 * s.testTop5, s.testLoss)
    if let best = s.bestValTop1 { test += String(format: "  (best validation top-1 %.2f%%)", 100 * best) }
    if s.bestCheckpoint != nil, let step = s.testStep { test += "  on the weights of step \(step) (restore_best)" }
    print(test)
    if let c = s.lastCheckpoint { print("checkpoint: \(runDirectory)/\(c)") }
    if let b = s.bestCheckpoint { print("best checkpoint: \(runDirectory)/\(b) (the weights the test figures are of)") }
    print("summary: \(runDirectory)/summary.json (--json prints it here)")
}

/// The base config of `tune` and `cv`: the file (or the defaults), with `--data` and
/// `--epochs` over it, validated.
func baseConfig(path: String?, data: String?, epochs: Int?) throws -> TrainingConfig {
    var base = TrainingConfig()
    if let path {
        guard let bytes = FileManager.default.contents(atPath: path) else { throw ConfigurationError(key: "--config", "cannot read \(path)") }
        base = try TrainingConfig.parse(json: bytes, source: path)
    }
    if let data { base.data = data }
    if let epochs { base.epochs = epochs }
    try base.validate(source: path)
    return base
}
