import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A checkpoint found on disk that parsed and passed both checksums.
public struct LoadedCheckpoint: Sendable {
    public let step: Int
    public let path: String
    public let file: SafeTensorsFile
}

/// The checkpoints of one run: `RUN_DIR/checkpoints/step-00001200.safetensors` plus
/// `RUN_DIR/checkpoints/latest` (one line: the newest file's name), the last `keep` kept.
///
/// Writing is atomic and durable (see docs/checkpoint-format.md): the file is written under a
/// temporary name in the same directory, fsynced, renamed into place, and the directory fsynced;
/// only then is `latest` replaced the same way, and only then are old checkpoints deleted. A
/// failure at any point throws a `CheckpointError` and leaves the previous checkpoint and
/// `latest` as they were. One writer per run directory (the coordinator, or the single process).
public final class CheckpointStore: @unchecked Sendable {
    public let runDirectory: String
    /// `runDirectory/checkpoints`.
    public let directory: String
    /// How many checkpoints to keep (at least 1).
    public let keep: Int
    /// Receives every warning (a skipped corrupt file, a missing `latest`, a failed cleanup).
    public let onWarning: @Sendable (String) -> Void

    public static let latestName = "latest"

    private let protectedLock = NSLock()
    private var protectedStep: Int?

    /// Keeps the checkpoint of `step` out of the retention (`restore_best`: the best
    /// validation's weights), until another step is protected. Nil protects none.
    public func protect(step: Int?) {
        protectedLock.lock()
        protectedStep = step
        protectedLock.unlock()
    }

    public init(runDirectory: String, keep: Int = 3, onWarning: @escaping @Sendable (String) -> Void = { _ in }) {
        precondition(keep >= 1, "CheckpointStore keep must be at least 1")
        self.runDirectory = runDirectory
        self.directory = (runDirectory as NSString).appendingPathComponent("checkpoints")
        self.keep = keep
        self.onWarning = onWarning
    }

    /// `step-00001200.safetensors` (at least 8 digits).
    public static func fileName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".safetensors"
    }

    /// The step in a checkpoint file name, nil for any other name.
    public static func step(fromFileName name: String) -> Int? {
        guard name.hasPrefix("step-"), name.hasSuffix(".safetensors") else { return nil }
        let digits = name.dropFirst(5).dropLast(12)
        guard digits.count >= 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    public func path(step: Int) -> String {
        (directory as NSString).appendingPathComponent(CheckpointStore.fileName(step: step))
    }

    // MARK: - Saving

    /// Writes the checkpoint for `step` and makes it `latest`; returns its path.
    /// - `tensors`: model tensors (PyTorch state_dict names), `optimizer.*`, `residual.*`.
    /// - `state`: the training-state JSON, stored as `__metadata__["ringtrain.state"]`.
    /// - `metadata`: further string entries for `__metadata__` (e.g. `optimizer.step`).
    @discardableResult
    public func save(step: Int, tensors: [SafeTensor], state: String, metadata: [String: String] = [:]) throws -> String {
        precondition(step >= 0, "checkpoint step must not be negative")
        var meta = metadata
        meta[SafeTensorsFile.stateKey] = state
        let bytes = try SafeTensorsFile.encode(tensors: tensors, metadata: meta, path: path(step: step))
        return try save(step: step, encoded: bytes)
    }

    /// Writes an encoded checkpoint file (an elastic run's in-memory commit) for `step`, the
    /// same way, and makes it `latest`; returns its path.
    @discardableResult
    public func save(step: Int, encoded bytes: [UInt8]) throws -> String {
        precondition(step >= 0, "checkpoint step must not be negative")
        let final = path(step: step)
        try FileIO.makeDirectories(directory)
        removeStaleTemporaries()
        let temporary = temporaryPath(for: CheckpointStore.fileName(step: step))
        try FileIO.writeNewFileDurably(path: temporary, bytes: bytes)
        do {
            try FileIO.rename(temporary, to: final)
        } catch {
            unlink(temporary)
            throw error
        }
        try FileIO.syncDirectory(directory)
        try writeLatest(CheckpointStore.fileName(step: step))
        applyRetention(saved: step)
        return final
    }

    private func temporaryPath(for name: String) -> String {
        (directory as NSString).appendingPathComponent(".\(name).tmp.\(getpid())")
    }

    private func writeLatest(_ name: String) throws {
        let final = (directory as NSString).appendingPathComponent(CheckpointStore.latestName)
        let temporary = temporaryPath(for: CheckpointStore.latestName)
        try FileIO.writeNewFileDurably(path: temporary, bytes: Array((name + "\n").utf8))
        do {
            try FileIO.rename(temporary, to: final)
        } catch {
            unlink(temporary)
            throw error
        }
        try FileIO.syncDirectory(directory)
    }

    /// Temporary files a crashed writer left behind (`.<name>.tmp.<pid>`).
    private func removeStaleTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(".") && name.contains(".tmp.") {
            let p = (directory as NSString).appendingPathComponent(name)
            if unlink(p) != 0 { onWarning("\(p): could not remove a stale temporary file: \(String(cString: strerror(errno)))") }
        }
    }

    /// Keeps the checkpoint just saved, the `keep - 1` newest older ones and the protected one.
    /// Files with a higher step than the one just saved (left from a run that was resumed from
    /// an earlier checkpoint because they were corrupt) are left alone: `latestValid` skips them.
    private func applyRetention(saved: Int) {
        protectedLock.lock()
        let kept = protectedStep
        protectedLock.unlock()
        let older = checkpoints().filter { $0.step < saved && $0.step != kept }
        for old in older.dropLast(keep - 1) {
            if unlink(old.path) != 0 {
                onWarning("\(old.path): could not remove an old checkpoint: \(String(cString: strerror(errno)))")
            }
        }
    }

    // MARK: - Finding and loading

    /// Every `step-*.safetensors` in the directory, oldest first (no validation).
    public func checkpoints() -> [(step: Int, path: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name in
            CheckpointStore.step(fromFileName: name).map { ($0, (directory as NSString).appendingPathComponent(name)) }
        }.sorted { $0.step < $1.step }
    }

    /// The file `latest` names, or nil (with a warning) if it is missing, unreadable or garbage.
    public func latestFileName() -> String? {
        let p = (directory as NSString).appendingPathComponent(CheckpointStore.latestName)
        guard let bytes = try? FileIO.readAll(path: p) else {
            onWarning("\(p): missing or unreadable; looking for checkpoints by name")
            return nil
        }
        let name = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard CheckpointStore.step(fromFileName: name) != nil else {
            onWarning("\(p): does not name a checkpoint (\(name.prefix(80).debugDescription)); looking for checkpoints by name")
            return nil
        }
        return name
    }

    /// The newest checkpoint that parses and whose checksums match, or nil if there is none.
    /// Every file skipped on the way (truncated, corrupt) is reported through `onWarning` with
    /// its path and the reason, as is a missing or garbage `latest`, or a `latest` naming a
    /// file that does not exist. `accepting` may refuse a sound file for a reason of its own
    /// (a checkpoint of another model): it is skipped the same way, with that reason.
    public func latestValid(accepting: (SafeTensorsFile) -> String? = { _ in nil }) -> LoadedCheckpoint? {
        let all = checkpoints()
        if let name = latestFileName() {
            let p = (directory as NSString).appendingPathComponent(name)
            if !all.contains(where: { $0.path == p }) {
                onWarning("\((directory as NSString).appendingPathComponent(CheckpointStore.latestName)): names \(name), which does not exist")
            }
        }
        for candidate in all.reversed() {
            do {
                let file = try SafeTensorsFile.read(path: candidate.path, integrity: .required)
                if let reason = accepting(file) {
                    onWarning("skipping checkpoint \(candidate.path): \(reason)")
                    continue
                }
                return LoadedCheckpoint(step: candidate.step, path: candidate.path, file: file)
            } catch {
                onWarning("skipping checkpoint \(error)")
            }
        }
        return nil
    }

    /// Reads a checkpoint and checks everything, checksums included; throws what is wrong.
    public static func verify(path: String) throws -> SafeTensorsFile {
        try SafeTensorsFile.read(path: path, integrity: .required)
    }
}
