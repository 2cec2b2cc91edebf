import ArgumentParser
import Foundation
import Layers
import Optim
import Training

/// The options shared by `train`, `launch` and `coordinator` (DESIGN.md §7): a config file
/// plus overrides. Resolution order: built-in defaults < config file < command line.
struct TrainingOptions: ParsableArguments {
    @Option(help: "JSON config file (keys in docs/configuration.md).") var config: String?
    @Option(help: "Dataset directory (default /usr/share/datasets/fashion-mnist).") var data: String?
    @Option(name: .customLong("run-dir"), help: "Run directory (default runs/run-DATE-TIME).") var runDir: String?
    @Flag(help: "Continue from the latest valid checkpoint in the run directory.") var resume = false
    @Flag(help: "Print the whole summary (summary.json) on stdout instead of the short one.") var json = false

    @Option(help: "Model: \(TrainingConfig.builtinModels.joined(separator: ", ")).") var model: String?
    @Option(help: "resnet18/resnet34 stem: imagenet (7x7/2 conv + max-pool) or cifar (3x3/1 conv, for small images).") var stem: String?
    @Option(name: .customLong("image-size"), help: "Image folders: record size N or WxH (default: the images' own size when they share one).") var imageSize: String?
    @Option(help: "Image folders: where the prepared copy is kept (default $RINGTRAIN_CACHE or ~/.cache/ringtrain).") var cache: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Batch size per worker.") var batchSize: Int?
    @Option(help: "Peak learning rate.") var lr: Double?
    @Option(help: "sgd or adamw.") var optimizer: String?
    @Option(help: "Schedule type: constant, step, multistep, exponential, cosine, onecycle, cyclic, plateau (use the config file for its parameters).") var schedule: String?
    @Option(name: .customLong("weight-decay"), help: "Decoupled weight decay.") var weightDecay: Double?
    @Option(help: "Gradient codec: none, zstd, bf16-zstd, auto.") var codec: String?
    @Option(name: .customLong("zstd-level"), help: "zstd level (negative levels are faster).") var zstdLevel: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N steps (0: end of each epoch).") var checkpointEvery: Int?
    @Option(name: .customLong("keep-checkpoints"), help: "Keep the last K checkpoints.") var keepCheckpoints: Int?
    @Option(name: .customLong("commit-every"), help: "Elastic runs: an in-memory commit every N steps (a lost worker costs at most N steps).") var commitEvery: Int?
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: "Compute threads per process (0: all cores).") var threads: Int?
    @Option(name: .customLong("init-from"), help: "Start from another run's checkpoint (transfer learning).") var initFrom: String?
    @Option(name: .customLong("freeze"), parsing: .upToNextOption, help: "Parameter name prefixes to keep fixed.") var freeze: [String] = []
    @Option(name: .customLong("init-exclude"), parsing: .upToNextOption, help: "Parameter name prefixes --init-from leaves freshly initialised (a new head: fc).") var initExclude: [String] = []
    @Option(name: .customLong("validation-fraction"), help: "Held-out fraction of the training split.") var validationFraction: Double?
    @Option(name: .customLong("label-smoothing"), help: "Label smoothing in [0, 1).") var labelSmoothing: Double?
    @Option(help: "Also write the metrics as TensorBoard event files into this directory.") var tensorboard: String?
    @Option(help: "Write a Chrome trace (chrome://tracing, Perfetto) of every rank's first steps to this file.") var timeline: String?
    @Option(name: .customLong("timeline-steps"), help: "Steps the timeline covers (default 200).") var timelineSteps: Int?

    /// The resolved config: defaults, then the file, then these flags; validated.
    func resolve() throws -> TrainingConfig {
        var c = TrainingConfig()
        if let path = config {
            // Read to the end rather than by the file's size: a pipe (`--config <(...)`) has none.
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw ConfigurationError(key: "--config", "cannot read \(path)")
            }
            let data = handle.readDataToEndOfFile()
            handle.closeFile()
            c = try TrainingConfig.parse(json: data, source: path)
        }
        if let v = data { c.data = v }
        if let v = model { c.model = v; c.layers = nil }
        if let v = stem {
            guard let s = ResNetStem(rawValue: v) else {
                throw ConfigurationError(key: "--stem", "must be imagenet or cifar, got '\(v)'")
            }
            c.stem = s
        }
        if let v = imageSize {
            guard let (w, h) = ImageSizeArgument.parse(v) else {
                throw ConfigurationError(key: "--image-size", "must be N or WxH (for example 64 or 320x240), got '\(v)'")
            }
            c.images.width = w
            c.images.height = h
        }
        if let v = cache { c.images.cache = v }
        if let v = epochs { c.epochs = v }
        if let v = batchSize { c.batchSize = v }
        if let v = lr { c.lr = v }
        if let v = optimizer { c.optimizer = v }
        if let v = schedule {
            guard let kind = ScheduleConfig.Kind(rawValue: v) else {
                throw ConfigurationError(key: "--schedule", "unknown schedule '\(v)' (one of \(ScheduleConfig.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if kind != c.schedule.type { c.schedule = ScheduleConfig(type: kind) }
        }
        if let v = weightDecay { c.weightDecay = v }
        if let v = codec { c.codec = v }
        if let v = zstdLevel { c.zstdLevel = v }
        if let v = checkpointEvery { c.checkpointEvery = v }
        if let v = keepCheckpoints { c.keepCheckpoints = v }
        if let v = commitEvery { c.commitEvery = v }
        if let v = seed { c.seed = v }
        if let v = threads { c.threads = v }
        if let v = initFrom { c.initFrom = v }
        if !freeze.isEmpty { c.freeze = freeze }
        if !initExclude.isEmpty { c.initExclude = initExclude }
        if let v = validationFraction { c.validationFraction = v }
        if let v = labelSmoothing { c.labelSmoothing = v }
        if let v = tensorboard { c.tensorboard = v }
        if let v = timeline { c.timeline = v }
        if let v = timelineSteps { c.timelineSteps = v }
        try c.validate(source: config)
        return c
    }

    var resolvedRunDirectory: String {
        if let runDir { return runDir }
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/run-" + f.string(from: Date())
    }
}
