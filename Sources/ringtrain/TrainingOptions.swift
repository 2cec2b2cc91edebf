import ArgumentParser
import Datasets
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
    @Option(help: "resnet18/resnet34 stem: imagenet (7x7/2 conv + max-pool) or cifar (3x3/1 conv, for small images).") var stem: ResNetStem?
    @Option(name: .customLong("image-size"), help: "Image folders: record size N or WxH (default: the images' own size when they share one).") var imageSize: String?
    @Option(help: "Image folders: where the prepared copy is kept (default $RINGTRAIN_CACHE or ~/.cache/ringtrain).") var cache: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Batch size per worker.") var batchSize: Int?
    @Option(help: "Peak learning rate.") var lr: Double?
    @Option(help: "The optimizer.") var optimizer: OptimizerChoice?
    @Option(help: "Schedule type (use the config file for its parameters).") var schedule: ScheduleConfig.Kind?
    @Option(name: .customLong("weight-decay"), help: "Decoupled weight decay.") var weightDecay: Double?
    @Option(help: "Gradient codec.") var codec: CodecChoice?
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
    // The settings users change most, also as flags (every one is a config key too).
    @Option(help: "Dropout rate of every dropout layer of the model (default: the model's own).") var dropout: Double?
    @Option(name: .customLong("class-weights"), help: "none, balanced, or one weight per class: 1,1,4 (default none).") var classWeights: String?
    @Option(help: "The sampler: balanced oversamples small classes, undersample draws the smallest class's count from each (default shuffled).") var sampler: SamplerChoice?
    @Option(name: .customLong("samples-per-class"), help: "balanced / undersample: samples per class and epoch (default: the largest / smallest class's count).") var samplesPerClass: Int?
    @Option(help: "L1 regularisation strength (default 0: off).") var l1: Double?
    @Option(name: .customLong("accumulate-steps"), help: "Micro-batches of --batch-size summed per optimizer step (default 1).") var accumulateSteps: Int?
    @Option(name: .customLong("ema-decay"), help: "Keep an exponential moving average of the weights with this decay, e.g. 0.999 (default 0: off).") var emaDecay: Double?
    @Option(name: .customLong("eval-every"), help: "Validate every N steps as well as at epoch ends (default 0: epoch ends only).") var evalEvery: Int?
    @Option(name: .customLong("stop-at-epoch"), help: "Stop after this epoch; the schedule still spans --epochs (default 0: off).") var stopAtEpoch: Int?
    @Option(name: .customLong("warmup-steps"), help: "Cosine schedule: warm-up steps (default: 5% of the run).") var warmupSteps: Int?
    @Option(name: .customLong("warmup-fraction"), help: "Cosine schedule: warm-up as a fraction of the run (default 0.05).") var warmupFraction: Double?
    @Option(name: .customLong("min-lr"), help: "Cosine schedule: the learning rate it decays to (default 0).") var minLR: Double?
    @Option(name: .customLong("early-stopping"), help: ArgumentHelp("Stop when the monitored validation metric has not improved for this many evaluations (default: off).", valueName: "patience"))
    var earlyStopping: Int?
    @Flag(name: .customLong("restore-best"), help: "Test (and name as best_checkpoint) the weights of the best validation, not the last step's (default off).") var restoreBest = false
    @Flag(help: "Augmentation: random horizontal flips (default off).") var flip = false
    @Option(name: .customLong("crop-padding"), help: "Augmentation: pad by N pixels and crop back at a random offset (default 0).") var cropPadding: Int?
    @Flag(name: .customLong("trivial-augment"), help: "Augmentation (colour images): TrivialAugment (default off).") var trivialAugment = false
    @Option(help: "Augmentation: MixUp with this Beta alpha (default 0: off).") var mixup: Double?
    @Option(help: "Augmentation: CutMix with this Beta alpha (default 0: off).") var cutmix: Double?
    @Option(name: .customLong("random-erasing"), help: "Augmentation: random erasing with this probability (default 0: off).") var randomErasing: Double?
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
        if let v = stem { c.stem = v }
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
        if let v = optimizer { c.optimizer = v.rawValue }
        if let kind = schedule, kind != c.schedule.type { c.schedule = ScheduleConfig(type: kind) }
        if let v = weightDecay { c.weightDecay = v }
        if let v = codec { c.codec = v.rawValue }
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
        try applyCommonSettings(&c)
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

    /// The flags for the most-changed settings, over the config file's values.
    func applyCommonSettings(_ c: inout TrainingConfig) throws {
        if let v = dropout { c.dropout = v }
        if let v = classWeights {
            switch v {
            case "none": c.classWeights = .none
            case "balanced": c.classWeights = .balanced
            default:
                let parts = v.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                    throw ConfigurationError(key: "--class-weights", "must be none, balanced or comma-separated numbers (1,1,4), got '\(v)'")
                }
                c.classWeights = .list(parts.map { $0! })
            }
        }
        if let v = sampler { c.sampler = v.rawValue }
        if let v = samplesPerClass { c.samplesPerClass = v }
        if let v = l1 { c.l1 = v }
        if let v = accumulateSteps { c.accumulateSteps = v }
        if let v = emaDecay { c.emaDecay = v }
        if let v = evalEvery { c.evalEvery = v }
        if let v = stopAtEpoch { c.stopAtEpoch = v }
        if warmupSteps != nil || warmupFraction != nil || minLR != nil {
            guard c.schedule.type == .cosine else {
                throw ConfigurationError(key: warmupSteps != nil ? "--warmup-steps" : warmupFraction != nil ? "--warmup-fraction" : "--min-lr",
                                         "is a setting of the cosine schedule; this run's schedule is \(c.schedule.type.rawValue)")
            }
            if let v = warmupSteps { c.schedule.warmupSteps = v; c.schedule.warmupFraction = nil }
            if let v = warmupFraction { c.schedule.warmupFraction = v; c.schedule.warmupSteps = nil }
            if let v = minLR { c.schedule.minLR = v }
        }
        if let v = earlyStopping {
            var e = c.schedule.earlyStopping ?? EarlyStoppingConfig()
            e.patience = v
            c.schedule.earlyStopping = e
        }
        if restoreBest { c.restoreBest = true }
        if flip { c.augmentation.horizontalFlip = true }
        if let v = cropPadding { c.augmentation.cropPadding = v }
        if trivialAugment { c.augmentation.image.trivialAugment = true }
        if let v = mixup { c.augmentation.image.mixup = v }
        if let v = cutmix { c.augmentation.image.cutmix = v }
        if let v = randomErasing {
            var r = c.augmentation.image.randomErasing ?? RandomErasingConfig()
            r.p = v
            c.augmentation.image.randomErasing = r
        }
    }
}
