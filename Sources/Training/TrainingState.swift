import Datasets
import Foundation
import Layers
import Optim

/// The training state stored as `__metadata__["ringtrain.state"]` in every checkpoint
/// (DESIGN.md §6): enough, with the tensors, to continue bit-identically.
public struct TrainingState: Codable, Sendable {
    public static let formatVersion = 1

    public var formatVersion: Int = TrainingState.formatVersion
    public var model: ModelSpec
    public var config: TrainingConfig
    /// Optimizer steps completed.
    public var globalStep: Int
    /// The epoch in progress, and how many positions of its order all ranks consumed.
    public var epoch: Int
    public var cursor: Int
    public var seed: UInt64
    public var worldSize: Int
    public var stepsPerEpoch: Int
    public var scheduler: HyperparameterScheduler
    /// Input normalisation used in training (per channel, pixels scaled to [0, 1]).
    public var normalizationMean: [Float]
    public var normalizationStd: [Float]
    public var inputShape: [Int]
    public var classes: Int
    public var classNames: [String]
    public var optimizerStep: Int
    public var datasetFingerprint: String
    /// Validation results so far, one per evaluation.
    public var history: [EvaluationRecord]
    /// How the training images were made into inputs (prepared data and image folders):
    /// `predict` and ONNX export treat new images the same way. nil for IDX and CIFAR.
    public var inputPreparation: ImagePreparation? = nil
    /// `ema_decay`: updates folded into the weight average (its tensors are `ema.*`); nil
    /// without one.
    public var emaUpdates: Int? = nil

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", model, config, globalStep = "global_step", epoch, cursor, seed
        case worldSize = "world_size", stepsPerEpoch = "steps_per_epoch", scheduler
        case normalizationMean = "normalization_mean", normalizationStd = "normalization_std"
        case inputShape = "input_shape", classes, classNames = "class_names", optimizerStep = "optimizer_step"
        case datasetFingerprint = "dataset_fingerprint", history, inputPreparation = "input_preparation"
        case emaUpdates = "ema_updates"
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public static func parse(_ text: String, file: String) throws -> TrainingState {
        do {
            let s = try JSONDecoder().decode(TrainingState.self, from: Data(text.utf8))
            guard s.formatVersion == formatVersion else {
                throw ConfigurationError(key: "ringtrain.state.format_version",
                                         "is \(s.formatVersion); this build reads \(formatVersion)", source: file)
            }
            return s
        } catch let e as ConfigurationError {
            throw e
        } catch {
            throw ConfigurationError(key: "ringtrain.state", "cannot be read: \(error)", source: file)
        }
    }
}

/// One validation (or test) evaluation.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Int
    public var loss: Double
    public var top1: Double
    public var top5: Double
    /// `ema_decay`: the same figures of the weight average.
    public var emaLoss: Double? = nil
    public var emaTop1: Double? = nil
    public var emaTop5: Double? = nil

    public init(step: Int, epoch: Int, loss: Double, top1: Double, top5: Double) {
        self.step = step; self.epoch = epoch; self.loss = loss; self.top1 = top1; self.top5 = top5
    }

    enum CodingKeys: String, CodingKey {
        case step, epoch, loss, top1, top5, emaLoss = "ema_loss", emaTop1 = "ema_top1", emaTop5 = "ema_top5"
    }
}

/// `summary.json` (DESIGN.md §7).
public struct TrainingSummary: Codable, Sendable {
    public var finalStep: Int
    public var epochsCompleted: Int
    public var testLoss: Double
    public var testTop1: Double
    public var testTop5: Double
    public var imagesPerSec: Double
    public var wallSeconds: Double
    public var worldSize: Int
    public var compressionRatio: Double
    public var stoppedEarly: Bool
    public var bestValTop1: Double?
    public var lastCheckpoint: String?
    /// Time in forward, backward and the optimizer (communication overlapped with backward
    /// included), and time waiting for the all-reduce after backward ended.
    public var computeSeconds: Double = 0
    public var communicationWaitSeconds: Double = 0
    public var bytesSent: Int = 0
    public var bytesRaw: Int = 0
    /// Communication-thread time spent encoding (overlaps compute).
    public var encodeSeconds: Double = 0
    /// What `ringtrain report` shows without reading anything else (docs/run-directory.md).
    public var model: String? = nil
    public var classNames: [String]? = nil
    public var config: TrainingConfig? = nil
    /// Row-major `[true class][predicted class]` counts on the test split.
    public var testConfusion: [Int]? = nil
    public var perClass: [ClassReport]? = nil
    /// The checkpoint files kept at the end, relative to the run directory.
    public var checkpoints: [String]? = nil
    /// `--codec auto`: every decision, with the step times it compared.
    public var codecAuto: [CodecDecision]? = nil
    /// The step whose weights the test figures are of: the last step, or with `restore_best`
    /// the best validation's (whose checkpoint `best_checkpoint` names).
    public var testStep: Int? = nil
    public var bestCheckpoint: String? = nil
    /// `ema_decay`: the test figures of the weight average at the end.
    public var emaTestLoss: Double? = nil
    public var emaTestTop1: Double? = nil
    public var emaTestTop5: Double? = nil

    enum CodingKeys: String, CodingKey {
        case finalStep = "final_step", epochsCompleted = "epochs_completed", testLoss = "test_loss"
        case testTop1 = "test_top1", testTop5 = "test_top5", imagesPerSec = "images_per_sec"
        case wallSeconds = "wall_seconds", worldSize = "world_size", compressionRatio = "compression_ratio"
        case stoppedEarly = "stopped_early", bestValTop1 = "best_val_top1", lastCheckpoint = "last_checkpoint"
        case computeSeconds = "compute_seconds", communicationWaitSeconds = "communication_wait_seconds"
        case bytesSent = "bytes_sent", bytesRaw = "bytes_raw", encodeSeconds = "encode_seconds"
        case model, classNames = "class_names", config, testConfusion = "test_confusion", perClass = "per_class"
        case checkpoints, codecAuto = "codec_auto", testStep = "test_step", bestCheckpoint = "best_checkpoint"
        case emaTestLoss = "ema_test_loss", emaTestTop1 = "ema_test_top1", emaTestTop5 = "ema_test_top5"
    }
}

/// One row of the per-class table: precision, recall, F1 and support of a class.
public struct ClassReport: Codable, Sendable, Equatable {
    public var `class`: String
    public var precision: Double
    public var recall: Double
    public var f1: Double
    public var support: Int

    public init(_ stats: ClassStats, name: String) {
        self.class = name
        precision = stats.precision
        recall = stats.recall
        f1 = stats.f1
        support = stats.support
    }
}
