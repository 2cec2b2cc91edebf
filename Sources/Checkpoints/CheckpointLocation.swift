import Foundation

/// A CHECKPOINT argument that names nothing usable; says what was looked at.
public struct CheckpointArgumentError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}

/// The checkpoint file a CHECKPOINT argument (command line, `init_from`) means (DESIGN.md §7: "wherever a
/// checkpoint is taken, a run directory and the `latest` pointer are accepted too"):
/// - a checkpoint file: itself;
/// - a run directory (`RUN/checkpoints/` inside) or its `checkpoints/` directory: the newest
///   checkpoint that parses and passes its checksums (`CheckpointStore.latestValid`; every
///   file skipped on the way is reported through `onWarning`);
/// - a `latest` pointer (a small text file holding a checkpoint's file name): the file it
///   names, beside it.
/// The file found is not read here beyond what `latestValid` reads; loading it checks it.
public func resolveCheckpointPath(_ argument: String, onWarning: @escaping @Sendable (String) -> Void = { _ in }) throws -> String {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: argument, isDirectory: &isDirectory) else {
        throw CheckpointArgumentError(path: argument, problem: "does not exist (give a checkpoint file, a run directory or a `latest` file)")
    }
    if isDirectory.boolValue {
        // RUN, or RUN/checkpoints itself (no `checkpoints` inside, and named so).
        var runDirectory = argument
        let standardized = (argument as NSString).standardizingPath as NSString
        if !fm.fileExists(atPath: (argument as NSString).appendingPathComponent("checkpoints")),
           standardized.lastPathComponent == "checkpoints" {
            runDirectory = standardized.deletingLastPathComponent
        }
        let store = CheckpointStore(runDirectory: runDirectory, onWarning: onWarning)
        guard let found = store.latestValid() else {
            throw CheckpointArgumentError(path: argument, problem: "no valid checkpoint in \(store.directory)")
        }
        return found.path
    }
    if let name = pointerTarget(argument) {
        let target = ((argument as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        guard fm.fileExists(atPath: target) else {
            throw CheckpointArgumentError(path: argument, problem: "names \(name), which does not exist beside it")
        }
        return target
    }
    return argument
}

/// The checkpoint file name a `latest` pointer holds, or nil when `path` is not one. A pointer
/// is tiny and its text is a checkpoint name; a safetensors file starts with an 8-byte binary
/// length, so the two cannot be confused.
private func pointerTarget(_ path: String) -> String? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
          let size = attributes[.size] as? NSNumber, size.intValue <= 4096,
          let bytes = FileManager.default.contents(atPath: path),
          let text = String(data: bytes, encoding: .utf8) else { return nil }
    let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
    return CheckpointStore.step(fromFileName: name) != nil && !name.contains("/") ? name : nil
}
