import ArgumentParser
import Checkpoints
import Foundation
import ModelExport
import Training
#if canImport(Glibc)
import Glibc
#endif

/// `ringtrain export CHECKPOINT --format onnx --out FILE [--force]`: the model for other
/// runtimes. The ONNX graph takes pixel/255 and normalises inside; see docs/models.md.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's model for other runtimes (ONNX).",
        discussion: """
        CHECKPOINT is a checkpoint file, a run directory (its newest valid checkpoint) or a \
        `latest` pointer file. The ONNX model (IR 8, opset 17) takes `input` float32 \
        [batch, C, H, W] holding pixel/255, normalises it as in training, and outputs `logits` \
        and `probabilities`; class names and normalisation are in its metadata_props.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case onnx }

    @Argument(help: "Checkpoint file, run directory or `latest` file.") var checkpoint: String
    @Option(help: "Output format.") var format: Format = .onnx
    @Option(help: "The file to write.") var out: String
    @Flag(help: "Replace FILE if it exists.") var force = false
    @Option(help: "raw (the trained weights) or ema (the checkpoint's weight average).") var weights: CheckpointWeights = .raw

    func run() throws {
        let (path, model) = try exitingOnBadInput { () -> (String, CheckpointModel) in
            let path = try resolveCheckpointPath(checkpoint, onWarning: { printError("warning: \($0)") })
            return (path, try CheckpointModel(path: path, maxBatch: 1, weights: weights))
        }
        let state = model.state
        let names = state.classNames.count == state.classes ? state.classNames : (0..<state.classes).map(String.init)
        let metadata = ExportMetadata(modelName: state.model.description, classNames: names, inputShape: state.inputShape,
                                      mean: state.normalizationMean, std: state.normalizationStd,
                                      producerVersion: RingTrain.configuration.version)
        let export = try exitingOnBadInput { try ONNXExporter.export(model.network, metadata: metadata) }
        try exitingOnBadInput { try writeFile(export.bytes) }
        print("\(out): \(export.bytes.count) bytes, ONNX opset \(export.opsetVersion), \(export.nodeCount) nodes"
              + " (from \(path)\(weights == .ema ? ", its weight average" : ""))")
    }

    /// Writes under a temporary name beside FILE, then links it into place (refusing an
    /// existing FILE, atomically) or, with --force, renames it over FILE. A reader never sees
    /// half a model, and a failure leaves FILE as it was.
    private func writeFile(_ bytes: [UInt8]) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw ExportFileError(path: out, "is a directory") }
            if !force { throw ExportFileError(path: out, "exists; pass --force to replace it") }
        }
        let directory = (out as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "" : directory + "/")
            + ".\((out as NSString).lastPathComponent).tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw ExportFileError(path: out, "cannot be written (as \(temporary) first): \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        // On disk before it gets its name, so a crash cannot leave an empty FILE behind.
        if let handle = FileHandle(forUpdatingAtPath: temporary) {
            try? handle.synchronize()
            try? handle.close()
        }
        if force {
            guard rename(temporary, out) == 0 else { throw ExportFileError(path: out, "rename failed: \(String(cString: strerror(errno)))") }
        } else {
            guard link(temporary, out) == 0 else {
                let reason = errno == EEXIST ? "exists; pass --force to replace it" : String(cString: strerror(errno))
                throw ExportFileError(path: out, reason)
            }
        }
    }
}

struct ExportFileError: Error, CustomStringConvertible {
    let path: String, problem: String
    init(path: String, _ problem: String) { self.path = path; self.problem = problem }
    var description: String { "\(path): \(problem)" }
}
