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
        @Argument(help: "The checkpoint file.") var file: String
        @Flag(help: "Print the training state as JSON.") var json = false

        func run() throws {
            let f = try exitingOnBadInput { try SafeTensorsFile.read(path: file, integrity: .required) }
            if json, let state = f.state {
                print(state)
                return
            }
            print("file        \(file)")
            if let text = f.state, let s = try? TrainingState.parse(text, file: file) {
                print("model       \(s.model)")
                print("step        \(s.globalStep) (epoch \(s.epoch + 1), cursor \(s.cursor), world size \(s.worldSize))")
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
                print("  " + t.name.padding(toLength: 40, withPad: " ", startingAt: 0) + " F32 \(t.shape)")
            }
        }
    }

    /// `ringtrain checkpoint verify FILE`: recomputes the hashes; exit 1 on a mismatch.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the data hash; exit 1 on a mismatch.")
        @Argument(help: "The checkpoint file.") var file: String

        func run() throws {
            do {
                let f = try CheckpointStore.verify(path: file)
                print("ok: \(file): \(f.tensors.count) tensors, SHA-256 \(f.metadata[SafeTensorsFile.dataChecksumKey] ?? "?") verified")
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
