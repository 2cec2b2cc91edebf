import Datasets
import Foundation
import Layers
import Optim

/// Everything a run is configured with. The JSON keys are the snake_case names given in
/// `CodingKeys`; every default is stated here and in docs/configuration.md. A config file may
/// leave out any key; an unknown key, a wrong type or a value out of range is an error that
/// names the key, before anything is trained or written.
public struct TrainingConfig: Codable, Equatable, Sendable {
    /// Built-in model name (`fashion-cnn`, `fashion-cnn-bn`, `resnet8`), or use `layers`.
    public var model: String = "fashion-cnn"
    /// resnet18 / resnet34: `imagenet` (7x7/2 conv + 3x3/2 max-pool, torchvision's) or `cifar`
    /// (3x3/1 conv, no pool: for small images). nil: imagenet.
    public var stem: ResNetStem? = nil
    /// A user model as a layer list (overrides `model` when present); see docs/models.md.
    public var layers: [LayerSpec]? = nil
    /// Dataset directory: IDX, CIFAR-10 binary, a prepared dataset, or an image folder.
    public var data: String = "/usr/share/datasets/fashion-mnist"
    /// Class names in label order, overriding those found beside the data.
    public var classNames: [String]? = nil
    /// How an image folder given as `data` is prepared on first use (record size, resize,
    /// channels, checks, cache directory); ignored for other formats.
    public var images = ImageFolderOptions()
    public var epochs: Int = 10
    /// End the run after this many epochs as if it were the last (checkpoint, test
    /// evaluation, summary) while the schedule still spans `epochs`; resuming with a larger
    /// value (or 0 = off) continues the same run. `ringtrain tune` pauses trials this way.
    public var stopAtEpoch: Int = 0
    /// Overrides the rate of every dropout layer of the model (nil: the model's own rates).
    public var dropout: Double? = nil
    /// Per-worker batch size.
    public var batchSize: Int = 128
    /// Peak learning rate (after warmup) for the schedule.
    public var lr: Double = 0.05
    /// `none`, or `linear`: multiply `lr` by the number of workers (Goyal et al.'s rule for
    /// large global batches; pair it with the schedule's warmup).
    public var lrScaling: String = "none"
    /// `sgd` or `adamw`.
    public var optimizer: String = "sgd"
    public var momentum: Double = 0.9
    public var nesterov: Bool = true
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    /// Decoupled weight decay, applied to weights only (not biases, not norms) unless
    /// `decay_norms_and_biases` is true.
    public var weightDecay: Double = 5e-4
    public var decayNormsAndBiases: Bool = false
    /// L1 regularisation strength λ: λ·sign(w) joins the gradient of the tensors weight decay
    /// reaches, and λ·Σ|w| the training loss reported (0 = off).
    public var l1: Double = 0
    /// Factors on `l1` by parameter name prefix (`{"fc": 0}`: no L1 on the head).
    public var l1Multipliers: [String: Double] = [:]
    /// Gradient accumulation: each optimizer step sums this many micro-batches of
    /// `batch_size` (distributed: one all-reduce per optimizer step).
    public var accumulateSteps: Int = 1
    /// Exponential moving average of the weights (0 = off; 0.999 is usual): kept beside the
    /// raw weights, validated and tested too, checkpointed as `ema.*` tensors.
    public var emaDecay: Double = 0
    /// Ramp the EMA decay up as min(ema_decay, (1 + t) / (10 + t)) over the first updates, so
    /// the average is not dominated by the first steps' weights (false: a constant decay,
    /// PyTorch AveragedModel's).
    public var emaWarmup: Bool = true
    /// Clip gradients to this global L2 norm (0 = off).
    public var clipNorm: Double = 0
    /// Learning-rate schedule, an object such as `{"type": "cosine", "warmup_steps": 200}`;
    /// every key is documented in docs/configuration.md (ScheduleConfig). Plateau reduction and
    /// early stopping are part of it (`reduce_on_plateau`, `early_stopping`).
    /// The default warms up over 5% of the run: Kaiming-initialised CNNs start with large
    /// logits, and a full learning rate on step 1 can throw them far off (measured: loss 5.2 -> 27).
    public var schedule: ScheduleConfig = .defaultSchedule
    /// Cross-entropy label smoothing in [0, 1).
    public var labelSmoothing: Double = 0
    /// `none` or `balanced` (n / (k * count_c)).
    public var classWeights: ClassWeighting = .none
    /// `shuffled`, `balanced` (oversample minority classes) or `undersample` (draw the
    /// minority class's count from every class, a fresh subset each epoch).
    public var sampler: String = "shuffled"
    /// `balanced` and `undersample`: samples per class and epoch (nil: the largest class's
    /// count for balanced, the smallest's for undersample).
    public var samplesPerClass: Int? = nil
    public var augmentation: AugmentationConfig = AugmentationConfig()
    /// Fraction of the training split held out, stratified, for validation (0 = none).
    public var validationFraction: Double = 0.1
    /// Cross-validation (`ringtrain cv` sets these): the training split is cut into `cv_folds`
    /// folds (stratified by class unless `cv_stratified` is false, deterministic from the
    /// seed) and fold `cv_fold` is the validation split, instead of `validation_fraction`
    /// (0 = off).
    public var cvFolds: Int = 0
    public var cvFold: Int = 0
    public var cvStratified: Bool = true
    /// Evaluate on the validation split every this many steps (0 = at the end of each epoch).
    public var evalEvery: Int = 0
    /// Keras' `restore_best_weights`: the test evaluation (and the summary) uses the weights of
    /// the best validation by `schedule.monitor`, not the last step's; a checkpoint is written
    /// at every new best and kept by the retention. Needs a validation split.
    public var restoreBest: Bool = false
    public var seed: UInt64 = 1
    /// Compute threads per process (0 = all cores).
    public var threads: Int = 0
    /// Write a checkpoint every this many steps (0 = at the end of each epoch only).
    public var checkpointEvery: Int = 0
    public var keepCheckpoints: Int = 3
    /// Elastic distributed runs: every this many steps the coordinator also takes an in-memory
    /// commit of the weights (not written to disk), so a lost worker costs at most this many
    /// steps instead of `checkpoint_every` (0 = off: checkpoints are the commit points).
    public var commitEvery: Int = 0
    /// Elastic distributed runs, when the ring shrinks or grows: `global` keeps the global
    /// batch (each worker's batch becomes batch_size x world size / workers now, rounded), so
    /// every step sees the same samples as in an undisturbed run; `per_worker` keeps
    /// `batch_size` per worker (fewer samples per step, more steps per epoch).
    public var elasticBatch: String = "global"
    /// Gradient codec: `none`, `zstd`, `bf16-zstd`, `auto`.
    public var codec: String = "none"
    public var zstdLevel: Int = 1
    /// Gradient bucket size in bytes for the overlapped all-reduce.
    public var bucketBytes: Int = 1 << 20
    /// Parameter name prefixes kept fixed (fine-tuning). Batch norms whose parameters are
    /// frozen also run in evaluation mode (running statistics used, not updated).
    public var freeze: [String] = []
    /// Learning-rate factors by parameter name prefix (`{"fc": 10}`: the head at 10x the rest).
    public var lrMultipliers: [String: Double] = [:]
    /// Start from another run's weights (a checkpoint file).
    public var initFrom: String? = nil
    /// Parameter name prefixes `init_from` leaves at their fresh initialisation although the
    /// file has them with the same shape (a new head: `["fc"]`).
    public var initExclude: [String] = []
    /// Print a progress line at most this often (seconds) when not on a terminal.
    public var progressSeconds: Double = 5
    /// Also write the metrics as TensorBoard scalar event files into this directory.
    public var tensorboard: String? = nil
    /// Write a Chrome trace of the first `timeline_steps` steps of every rank to this file.
    public var timeline: String? = nil
    public var timelineSteps: Int = 200

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, stem, layers, data, classNames = "class_names", images, epochs, stopAtEpoch = "stop_at_epoch", dropout, batchSize = "batch_size", lr, lrScaling = "lr_scaling", optimizer, momentum, nesterov
        case beta1, beta2, eps, weightDecay = "weight_decay", decayNormsAndBiases = "decay_norms_and_biases"
        case l1, l1Multipliers = "l1_multipliers", accumulateSteps = "accumulate_steps", emaDecay = "ema_decay", emaWarmup = "ema_warmup"
        case clipNorm = "clip_norm", schedule, labelSmoothing = "label_smoothing"
        case classWeights = "class_weights", sampler, samplesPerClass = "samples_per_class", augmentation, validationFraction = "validation_fraction"
        case cvFolds = "cv_folds", cvFold = "cv_fold", cvStratified = "cv_stratified"
        case evalEvery = "eval_every", restoreBest = "restore_best", seed, threads, checkpointEvery = "checkpoint_every"
        case keepCheckpoints = "keep_checkpoints", commitEvery = "commit_every", elasticBatch = "elastic_batch", codec, zstdLevel = "zstd_level", bucketBytes = "bucket_bytes"
        case freeze, lrMultipliers = "lr_multipliers", initFrom = "init_from", initExclude = "init_exclude", progressSeconds = "progress_seconds"
        case tensorboard, timeline, timelineSteps = "timeline_steps"
    }

    public static var allKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainingConfig()
        func get<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            do {
                return try c.decodeIfPresent(T.self, forKey: key) ?? fallback
            } catch let error as DecodingError {
                throw error
            } catch let error as ConfigError {
                throw error
            } catch {
                // Foundation's own JSONError (2.5 for an Int) would surface as "the given data
                // was not valid JSON", with no key at all.
                throw ConfigError(key: key.rawValue, message: "wrong type: expected \(TrainingConfig.jsonTypeName(T.self))")
            }
        }
        model = try get(.model, d.model)
        stem = try c.decodeIfPresent(ResNetStem.self, forKey: .stem)
        layers = try c.decodeIfPresent([LayerSpec].self, forKey: .layers)
        data = try get(.data, d.data)
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames)
        images = try get(.images, d.images)
        epochs = try get(.epochs, d.epochs)
        stopAtEpoch = try get(.stopAtEpoch, d.stopAtEpoch)
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout)
        batchSize = try get(.batchSize, d.batchSize)
        lr = try get(.lr, d.lr)
        lrScaling = try get(.lrScaling, d.lrScaling)
        optimizer = try get(.optimizer, d.optimizer)
        momentum = try get(.momentum, d.momentum)
        nesterov = try get(.nesterov, d.nesterov)
        beta1 = try get(.beta1, d.beta1)
        beta2 = try get(.beta2, d.beta2)
        eps = try get(.eps, d.eps)
        weightDecay = try get(.weightDecay, d.weightDecay)
        decayNormsAndBiases = try get(.decayNormsAndBiases, d.decayNormsAndBiases)
        l1 = try get(.l1, d.l1)
        l1Multipliers = try get(.l1Multipliers, d.l1Multipliers)
        accumulateSteps = try get(.accumulateSteps, d.accumulateSteps)
        emaDecay = try get(.emaDecay, d.emaDecay)
        emaWarmup = try get(.emaWarmup, d.emaWarmup)
        clipNorm = try get(.clipNorm, d.clipNorm)
        schedule = try get(.schedule, d.schedule)
        labelSmoothing = try get(.labelSmoothing, d.labelSmoothing)
        classWeights = try get(.classWeights, d.classWeights)
        sampler = try get(.sampler, d.sampler)
        samplesPerClass = try c.decodeIfPresent(Int.self, forKey: .samplesPerClass)
        augmentation = try get(.augmentation, d.augmentation)
        validationFraction = try get(.validationFraction, d.validationFraction)
        cvFolds = try get(.cvFolds, d.cvFolds)
        cvFold = try get(.cvFold, d.cvFold)
        cvStratified = try get(.cvStratified, d.cvStratified)
        evalEvery = try get(.evalEvery, d.evalEvery)
        restoreBest = try get(.restoreBest, d.restoreBest)
        seed = try get(.seed, d.seed)
        threads = try get(.threads, d.threads)
        checkpointEvery = try get(.checkpointEvery, d.checkpointEvery)
        keepCheckpoints = try get(.keepCheckpoints, d.keepCheckpoints)
        commitEvery = try get(.commitEvery, d.commitEvery)
        elasticBatch = try get(.elasticBatch, d.elasticBatch)
        codec = try get(.codec, d.codec)
        zstdLevel = try get(.zstdLevel, d.zstdLevel)
        bucketBytes = try get(.bucketBytes, d.bucketBytes)
        freeze = try get(.freeze, d.freeze)
        lrMultipliers = try get(.lrMultipliers, d.lrMultipliers)
        initFrom = try c.decodeIfPresent(String.self, forKey: .initFrom)
        initExclude = try get(.initExclude, d.initExclude)
        progressSeconds = try get(.progressSeconds, d.progressSeconds)
        tensorboard = try c.decodeIfPresent(String.self, forKey: .tensorboard)
        timeline = try c.decodeIfPresent(String.self, forKey: .timeline)
        timelineSteps = try get(.timelineSteps, d.timelineSteps)
    }

    /// Parses a config file's JSON: rejects unknown keys (also inside `augmentation`), wrong
    /// types and out-of-range values, naming the key and the file.
    public static func parse(json: Data, source: String) throws -> TrainingConfig {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json)
        } catch {
            throw ConfigurationError(key: "(file)", "is not valid JSON: \(error.localizedDescription)", source: source)
        }
        guard let top = object as? [String: Any] else {
            throw ConfigurationError(key: "(file)", "must be a JSON object", source: source)
        }
        if let repeated = DuplicateKeys.first(in: json) {
            throw ConfigurationError(key: repeated, "appears twice; give it once", source: source)
        }
        for key in top.keys.sorted() where !allKeys.contains(key) {
            throw ConfigurationError(key: key, "unknown key (known keys: \(allKeys.joined(separator: ", ")))", source: source)
        }
        if let images = top["images"] as? [String: Any] {
            for key in images.keys.sorted() where !ImageFolderOptions.allKeys.contains(key) {
                throw ConfigurationError(key: "images.\(key)", "unknown key (known: \(ImageFolderOptions.allKeys.joined(separator: ", ")))", source: source)
            }
        }
        if let aug = top["augmentation"] as? [String: Any] {
            for key in aug.keys.sorted() where !AugmentationConfig.allKeys.contains(key) {
                throw ConfigurationError(key: "augmentation.\(key)", "unknown key (known: \(AugmentationConfig.allKeys.joined(separator: ", ")))", source: source)
            }
        }
        let config: TrainingConfig
        do {
            config = try JSONDecoder().decode(TrainingConfig.self, from: json)
        } catch let error as ConfigError {
            throw ConfigurationError(key: error.key, error.message, source: source)
        } catch let DecodingError.typeMismatch(type, context) {
            throw ConfigurationError(key: path(context.codingPath), "wrong type: expected \(jsonTypeName(type))", source: source)
        } catch let DecodingError.dataCorrupted(context) {
            throw ConfigurationError(key: path(context.codingPath), "invalid value: \(context.debugDescription)", source: source)
        } catch let DecodingError.valueNotFound(type, context) {
            throw ConfigurationError(key: path(context.codingPath), "missing value (expected \(jsonTypeName(type)))", source: source)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ConfigurationError(key: path(context.codingPath + [key]), "is required", source: source)
        }
        try config.validate(source: source)
        return config
    }

    /// A Swift type as a JSON user knows it: "a number", not "Double".
    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int32.Type, is UInt64.Type, is UInt32.Type, is Int64.Type: return "a whole number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "a list" }
            if name.hasPrefix("Dictionary") || name.contains(":") { return "an object" }
            return "a value of another kind (\(name))"
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    public static let builtinModels = ModelSpec.builtinNames
    public static let codecs = ["none", "zstd", "bf16-zstd", "auto"]
    public static let samplers = ["shuffled", "balanced", "undersample"]

    /// Range and choice checks; the first problem is thrown, naming its key.
    public func validate(source: String? = nil) throws {
        func fail(_ key: String, _ message: String) throws -> Never {
            throw ConfigurationError(key: key, message, source: source)
        }
        if layers == nil && !Self.builtinModels.contains(model) {
            try fail("model", "'\(model)' is not a built-in model (\(Self.builtinModels.joined(separator: ", "))); give a layer list in 'layers' for your own")
        }
        if stem != nil && (layers != nil || !["resnet18", "resnet34"].contains(model)) {
            try fail("stem", "is an option of resnet18 and resnet34 only")
        }
        if epochs < 1 || epochs > 100_000 { try fail("epochs", "must be in 1...100000, got \(epochs)") }
        if stopAtEpoch < 0 { try fail("stop_at_epoch", "must be >= 0 (0 = off), got \(stopAtEpoch)") }
        if let p = dropout, !(p >= 0 && p < 1) { try fail("dropout", "must be in [0, 1), got \(p)") }
        if batchSize < 1 || batchSize > 65_536 { try fail("batch_size", "must be in 1...65536, got \(batchSize)") }
        if !(lr > 0 && lr < 100) { try fail("lr", "must be in (0, 100), got \(lr)") }
        if !["none", "linear"].contains(lrScaling) { try fail("lr_scaling", "must be none or linear, got '\(lrScaling)'") }
        if !["sgd", "adamw"].contains(optimizer) { try fail("optimizer", "must be sgd or adamw, got '\(optimizer)'") }
        if !(momentum >= 0 && momentum < 1) { try fail("momentum", "must be in [0, 1), got \(momentum)") }
        if !(beta1 >= 0 && beta1 < 1) { try fail("beta1", "must be in [0, 1)") }
        if !(beta2 >= 0 && beta2 < 1) { try fail("beta2", "must be in [0, 1)") }
        if !(eps > 0) { try fail("eps", "must be positive") }
        if !(weightDecay >= 0 && weightDecay < 1) { try fail("weight_decay", "must be in [0, 1), got \(weightDecay)") }
        if !(clipNorm >= 0) { try fail("clip_norm", "must be >= 0") }
        if !(l1 >= 0 && l1 < 1) { try fail("l1", "must be in [0, 1), got \(l1)") }
        for (prefix, factor) in l1Multipliers.sorted(by: { $0.key < $1.key }) where !(factor >= 0 && factor <= 1000) {
            try fail("l1_multipliers.\(prefix)", "must be in 0...1000, got \(factor)")
        }
        if !l1Multipliers.isEmpty && l1 == 0 { try fail("l1_multipliers", "scales l1, which is 0 (off)") }
        if accumulateSteps < 1 || accumulateSteps > 4096 { try fail("accumulate_steps", "must be in 1...4096, got \(accumulateSteps)") }
        if !(emaDecay == 0 || (emaDecay > 0 && emaDecay < 1)) { try fail("ema_decay", "must be in [0, 1) (0 = off), got \(emaDecay)") }
        do { try schedule.validate() } catch let e as ConfigError {
            throw ConfigurationError(key: e.key, e.message, source: source)
        }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) { try fail("label_smoothing", "must be in [0, 1), got \(labelSmoothing)") }
        if case .list(let w) = classWeights, !w.allSatisfy({ $0 >= 0 && $0.isFinite }) || !w.contains(where: { $0 > 0 }) {
            try fail("class_weights", "a list of weights must be finite, non-negative and not all 0, got \(w)")
        }
        if !Self.samplers.contains(sampler) { try fail("sampler", "must be one of \(Self.samplers.joined(separator: ", ")), got '\(sampler)'") }
        if let n = samplesPerClass {
            if sampler == "shuffled" { try fail("samples_per_class", "is an option of the balanced and undersample samplers; sampler is shuffled") }
            if n < 1 || n > 100_000_000 { try fail("samples_per_class", "must be in 1...100000000, got \(n)") }
        }
        for (prefix, factor) in lrMultipliers.sorted(by: { $0.key < $1.key }) where !(factor >= 0 && factor <= 1000) {
            try fail("lr_multipliers.\(prefix)", "must be in 0...1000, got \(factor)")
        }
        if let names = classNames, names.isEmpty || names.contains(where: \.isEmpty) || Set(names).count != names.count {
            try fail("class_names", "must be a non-empty list of distinct, non-empty names")
        }
        if let problem = images.validate() { try fail("images." + problem.key, problem.message) }
        if let problem = augmentation.validate().first { try fail("augmentation." + problem.split(separator: " ")[0], problem) }
        if !(validationFraction >= 0 && validationFraction < 1) { try fail("validation_fraction", "must be in [0, 1)") }
        if cvFolds == 1 || cvFolds < 0 || cvFolds > 100 { try fail("cv_folds", "must be 0 (off) or in 2...100, got \(cvFolds)") }
        if cvFolds > 0 && !(0..<cvFolds).contains(cvFold) { try fail("cv_fold", "must be in 0..<\(cvFolds), got \(cvFold)") }
        if cvFolds == 0 && cvFold != 0 { try fail("cv_fold", "is an option of cv_folds, which is 0 (off)") }
        if evalEvery < 0 { try fail("eval_every", "must be >= 0") }
        if threads < 0 || threads > 1024 { try fail("threads", "must be in 0...1024") }
        if checkpointEvery < 0 { try fail("checkpoint_every", "must be >= 0") }
        if keepCheckpoints < 1 { try fail("keep_checkpoints", "must be >= 1") }
        if commitEvery < 0 { try fail("commit_every", "must be >= 0 (0 = off)") }
        if !["global", "per_worker"].contains(elasticBatch) { try fail("elastic_batch", "must be global or per_worker, got '\(elasticBatch)'") }
        if !Self.codecs.contains(codec) { try fail("codec", "must be one of \(Self.codecs.joined(separator: ", ")), got '\(codec)'") }
        if zstdLevel < -100 || zstdLevel > 22 { try fail("zstd_level", "must be in -100...22") }
        if bucketBytes < 4096 || bucketBytes > 1 << 30 { try fail("bucket_bytes", "must be in 4096...1073741824") }
        if !(progressSeconds > 0) { try fail("progress_seconds", "must be positive") }
        if tensorboard?.isEmpty == true { try fail("tensorboard", "must be a directory path") }
        if timeline?.isEmpty == true { try fail("timeline", "must be a file path") }
        if timelineSteps < 1 || timelineSteps > 1_000_000 { try fail("timeline_steps", "must be in 1...1000000") }
    }
}

/// `class_weights`: `"none"`, `"balanced"` (n / (k * count_c), scikit-learn's), or one weight
/// per class in label order (`[1, 1, 4]`: class 2 counts four times in the loss).
public enum ClassWeighting: Codable, Sendable, Equatable {
    case none, balanced
    case list([Double])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let text = try? c.decode(String.self) {
            switch text {
            case "none": self = .none
            case "balanced": self = .balanced
            default: throw ConfigError(key: "class_weights", message: "must be none, balanced or a list of per-class weights, got '\(text)'")
            }
        } else if let list = try? c.decode([Double].self) {
            self = .list(list)
        } else {
            throw ConfigError(key: "class_weights", message: "must be none, balanced or a list of per-class weights")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .none: try c.encode("none")
        case .balanced: try c.encode("balanced")
        case .list(let w): try c.encode(w)
        }
    }
}
