import ArgumentParser
import Checkpoints
import Foundation
import Training

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Inspect or verify a checkpoint file.",
        subcommands: [Inspect.self, Verify.self]
    )

    /// `ringtrain checkpoint inspect FILE`: tensors, shapes, metadata.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tensors, shapes and metadata.")
        @Argument(help: "A checkpoint file, a run directory, a `latest` pointer, or any safetensors file.") var checkpoint: String
        @Flag(help: "Print the training state as JSON.") var json = false

        func run() throws {
            // Any safetensors file (torchvision weights saved with safetensors, timm's
            // model.safetensors) is listed; RingTrain's checksums are checked when present.
            let (file, f) = try exitingOnBadInput { () -> (String, SafeTensorsFile) in
                let path = try resolveCheckpointPath(checkpoint, onWarning: { printError("warning: \($0)") })
                return (path, try SafeTensorsFile.read(path: path, integrity: .ifPresent, dtypes: .convertToFloat32))
            }
            if json, let state = f.state {
                print(state)
                return
            }
            print("file        \(file)")
            if let text = f.state, let s = try? TrainingState.parse(text, file: file) {
                print("model       \(s.model)")
                // At an epoch boundary the state's epoch is the next one to run.
                let position = s.cursor == 0 && s.epoch > 0 ? "after epoch \(s.epoch)" : "epoch \(s.epoch + 1), cursor \(s.cursor)"
                print("step        \(s.globalStep) (\(position), world size \(s.worldSize))")
                print("input       \(s.inputShape), \(s.classes) classes, mean \(s.normalizationMean), std \(s.normalizationStd)")
                if let last = s.history.last {
                    print(String(format: "validation  loss %.4f  top-1 %.2f%%  top-5 %.2f%% (step %d)", last.loss, last.top1 * 100, last.top5 * 100, last.step))
                }
            }
            for (k, v) in f.metadata.sorted(by: { $0.key < $1.key }) where k != SafeTensorsFile.stateKey {
                print("metadata    \(k) = \(v)")
            }
            let total = f.tensors.reduce(0) { $0 + $1.values.count }
            print("tensors     \(f.tensors.count), \(total) values")
            for t in f.tensors {
                print("  " + t.name.padding(toLength: 40, withPad: " ", startingAt: 0) + " \(t.shape)")
            }
        }
    }

    /// `ringtrain checkpoint verify FILE`: recomputes the hashes; exit 1 on a mismatch.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the data hash; exit 1 on a mismatch.")
        @Argument(help: "A checkpoint file, a run directory or a `latest` pointer.") var checkpoint: String

        func run() throws {
            do {
                let file = try resolveCheckpointPath(checkpoint, onWarning: { printError("warning: \($0)") })
                let f = try CheckpointStore.verify(path: file)
                print("ok: \(file): \(f.tensors.count) tensors, SHA-256 \(f.metadata[SafeTensorsFile.dataChecksumKey] ?? "?") verified")
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
