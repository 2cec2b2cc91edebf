import Foundation
import Telemetry

/// The files of a run directory (DESIGN.md §7): `config.json` (resolved), `metrics.jsonl`
/// (one JSON object per line), `summary.json` at the end, and `checkpoints/`.
public final class RunDirectory {
    public let path: String
    private var metricsHandle: FileHandle?
    /// With `tensorboard`: every metrics line is also written as TensorBoard scalars.
    private var tensorboard: TensorBoardWriter?
    /// `RUN_DIR/lock`: this process is the directory's one writer until `close()`.
    private let lock: RunDirectoryLock

    /// Creates the directory if needed and takes its lock: a second writer (another `launch`
    /// or `train` with the same `--run-dir`) is refused, naming the holder's pid and host.
    public init(path: String, tensorboard: String? = nil) throws {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: path + "/checkpoints", withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(key: "run_dir", "cannot create \(path)/checkpoints: \(error.localizedDescription)")
        }
        lock = try RunDirectoryLock(directory: path)
        if let tensorboard {
            do {
                self.tensorboard = try TensorBoardWriter(directory: tensorboard)
            } catch {
                throw ConfigurationError(key: "tensorboard", "\(error)")
            }
        }
    }

    public var checkpointsPath: String { path + "/checkpoints" }
    public var metricsPath: String { path + "/metrics.jsonl" }

    /// Writes the resolved config (atomically: a reader never sees half a file).
    public func writeConfig(_ config: TrainingConfig) throws {
        try writeJSON(config, to: path + "/config.json")
    }

    public func writeSummary<T: Encodable>(_ summary: T) throws {
        try writeJSON(summary, to: path + "/summary.json")
    }

    /// Appends one line to metrics.jsonl. On resume, lines past the checkpoint's step are
    /// dropped first (`truncateMetrics(after:)`) so the file never holds a step twice.
    public func appendMetrics(_ record: [String: Any]) throws {
        if metricsHandle == nil {
            if !FileManager.default.fileExists(atPath: metricsPath) {
                _ = FileManager.default.createFile(atPath: metricsPath, contents: nil)
            }
            metricsHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: metricsPath))
            try metricsHandle?.seekToEnd()
        }
        // JSON has no NaN or infinity: such a figure (a diverging evaluation) is written as null.
        var line = try JSONSerialization.data(withJSONObject: Self.finite(record), options: [.sortedKeys])
        line.append(0x0A)
        try metricsHandle?.write(contentsOf: line)
        if let tensorboard, let step = record["step"] as? Int {
            try tensorboard.add(scalars: TensorBoardScalars.from(record), step: step)
        }
    }

    /// Lines `appendMetrics(warningOnce:)` could not write (a full disk).
    public private(set) var droppedMetricsLines = 0

    /// Appends one line; a failure (a full disk) costs the line, not the run: the first one is
    /// passed to `warn`, and every one is counted in `droppedMetricsLines`.
    public func appendMetrics(_ record: [String: Any], warningOnce warn: (String) -> Void) {
        do {
            try appendMetrics(record)
        } catch {
            droppedMetricsLines += 1
            if droppedMetricsLines == 1 {
                warn("cannot append to \(metricsPath) (training goes on; later lines may be missing too, and are counted): \(error)")
            }
        }
    }

    static func finite(_ value: Any) -> Any {
        // A JSON boolean read back by JSONSerialization (the config object) is an NSNumber that
        // also casts to Double: keep it a boolean, or metrics.jsonl would say 1 where config.json says true.
        if let n = value as? NSNumber, String(cString: n.objCType) == "c" { return n.boolValue }
        switch value {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let o as [String: Any]: return o.mapValues(finite)
        case let a as [Any]: return a.map(finite)
        default: return value
        }
    }

    /// Keeps only metrics lines with `step <= step` (a resumed run replays what came after).
    public func truncateMetrics(after step: Int) throws {
        // The append handle points at the file being replaced: reopen it on the next append.
        try? metricsHandle?.close()
        metricsHandle = nil
        guard let data = FileManager.default.contents(atPath: metricsPath) else { return }
        let kept = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let s = obj["step"] as? Int else { return false }
            return s <= step
        }
        let text = kept.isEmpty ? "" : kept.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: metricsPath), options: .atomic)
    }

    public func close() {
        try? metricsHandle?.synchronize()
        try? metricsHandle?.close()
        metricsHandle = nil
        tensorboard?.close()
        tensorboard = nil
        lock.release()
    }

    func writeJSON<T: Encodable>(_ value: T, to file: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(value).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}
