import Checkpoints
import Collectives
import Datasets
import Foundation
import Kernels
import Layers
import Optim
import Telemetry
import Tensors

/// The step loop: batch -> forward -> loss -> backward into the gradient arena -> buckets ->
/// all-reduce -> optimizer -> metrics -> checkpoint. It talks to a `Communicator` only, so the
/// same loop runs alone (`LocalCommunicator`) and as one worker of a ring.
public final class Trainer {
    public struct Options {
        public var runDirectory: String
        public var resume: Bool = false
        /// Whether this process writes the run directory's files (rank 0 / single process).
        public var writesRunDirectory: Bool = true
        public var progress: ProgressLine? = nil
        /// Stop after this many optimizer steps in this process (tests: simulate a crash).
        public var stopAfterSteps: Int? = nil
        /// Distributed runs: called on every rank at each checkpoint point with this rank's
        /// part (see `CheckpointPart`); the coordinator assembles and writes the one file.
        public var checkpointSink: ((CheckpointPart) throws -> Void)? = nil
        /// Called before each step with (epoch, global step, the batch's sample indices): for
        /// tests that check which samples a run (or a resumed run) trains on.
        public var onBatch: ((Int, Int, [Int]) -> Void)? = nil
        /// Distributed runs: where rank 0's metrics.jsonl records go (to the coordinator).
        public var metricsSink: (([String: Any]) -> Void)? = nil
        /// Distributed resume: the checkpoint the coordinator sent (instead of reading the run
        /// directory, which may be on another host).
        public var initialCheckpoint: SafeTensorsFile? = nil
        /// Distributed runs with a timeline: where this rank's trace events go at the end (the
        /// coordinator writes the one trace file).
        public var traceSink: (([TraceEvent]) throws -> Void)? = nil
        /// Distributed runs: where the training thread publishes its step and phase (the
        /// worker's heartbeat carries them to the coordinator's stall inspector).
        public var phaseProbe: PhaseProbe? = nil
        /// Distributed runs: who takes the metric-driven scheduler decisions (plateau, early
        /// stopping). Called on every rank after each validation with the monitored metric
        /// (reduced across ranks, so the same everywhere) and this rank's scheduler; returns
        /// the coordinator's decision and its scheduler state, which every rank adopts.
        /// Nil (a single process): the trainer's own scheduler decides.
        public var scheduleAuthority: ((ScheduleObservation) throws -> ScheduleVerdict)? = nil
        /// Print the test figures as a log line at the end. Off where the command prints the
        /// run's summary itself (`train`; a distributed run's coordinator), which has them.
        public var announcesTest = true

        public init(runDirectory: String, resume: Bool = false) {
            self.runDirectory = runDirectory
            self.resume = resume
        }
    }

    public let config: TrainingConfig
    public let options: Options
    public let communicator: Communicator
    public let network: Network
    public let optimizer: Optimizer
    public internal(set) var scheduler: HyperparameterScheduler
    public let dataset: Dataset
    public internal(set) var state: TrainingState

    let trainImages: LabeledImages
    let validationImages: LabeledImages?
    let sampler: EpochSampler
    let classWeights: [Float]?
    let runDirectory: RunDirectory?
    let store: CheckpointStore?
    let dLogits: FloatBuffer
    /// MixUp / CutMix: the gradient for the partner labels, blended into `dLogits`.
    let dLogitsPartner: FloatBuffer
    /// Spans for `--timeline` (disabled without it); shared with the communicator.
    let tracer: Tracer
    var warnedAboutMetrics = false
    /// Seconds the training thread waited for the prefetcher's next batch (data loading that
    /// did not keep up with the steps).
    var dataWaitSeconds = 0.0
    /// `restore_best`: a copy of the weights at the best validation so far (nil until one, and
    /// after a resume until the next: the file at the best step holds them then).
    var bestWeights: WeightSnapshot?
    /// Every step's learning rate since the last `train` line (which records its corners).
    var learningRates = LearningRateTrace()
    /// Seconds spent in validation and checkpoints: a `train` line's images/s leaves them out.
    var pauseSeconds = 0.0
    /// `ema_decay`: the moving average of the weights (nil: off).
    public let weightAverage: WeightAverage?

    /// Builds everything a run needs and, with `resume`, restores the latest valid checkpoint.
    public init(config: TrainingConfig, options: Options, communicator: Communicator = LocalCommunicator(),
                dataset preloaded: Dataset? = nil) throws {
        try config.validate()
        self.config = config
        self.options = options
        self.communicator = communicator
        tracer = Tracer(rank: communicator.rank, enabled: config.timeline != nil, maxSteps: config.timelineSteps)
        communicator.tracer = tracer
        if config.threads > 0 {
            KernelThreads.count = config.threads
        } else {
            KernelThreads.count = max(ProcessInfo.processInfo.activeProcessorCount, 1)
        }

        let progress = options.progress
        dataset = try preloaded ?? config.loadDataset(progress: { p in
            progress?.message(String(format: "preparing %@: %d/%d images, %.0f images/s", config.data, p.done, p.total, p.imagesPerSecond))
        })
        let full = dataset.train
        if config.cvFolds > 0 {
            // Cross-validation: one fold of the training split validates, the rest trains.
            let folds = config.cvStratified
                ? Splits.kFold(labels: full.labels, classCount: full.classCount, folds: config.cvFolds, seed: config.seed)
                : Splits.kFoldShuffled(count: full.count, folds: config.cvFolds, seed: config.seed)
            let validation = folds[config.cvFold]
            let held = Set(validation)
            trainImages = full.subset((0..<full.count).filter { !held.contains($0) })
            validationImages = validation.isEmpty ? nil : full.subset(validation)
        } else if let carried = dataset.validation {
            // The data's own validation split (an image folder's val/) wins over a hold-out.
            trainImages = full
            validationImages = carried.count > 0 ? carried : nil
        } else if config.validationFraction > 0 {
            let split = Splits.stratified(labels: full.labels, classCount: full.classCount,
                                          validationFraction: config.validationFraction, seed: config.seed)
            trainImages = full.subset(split.train)
            validationImages = full.subset(split.validation)
        } else {
            trainImages = full
            validationImages = nil
        }
        if config.restoreBest && validationImages == nil {
            throw ConfigurationError(key: "restore_best", "needs a validation split, and \(config.data) has none here: set validation_fraction above 0 (or give the image folder a val/ folder)")
        }
        let order: EpochSampler.Order
        switch config.sampler {
        case "balanced": order = .balanced(labels: trainImages.labels, classCount: trainImages.classCount, perClass: config.samplesPerClass)
        case "undersample": order = .undersampled(labels: trainImages.labels, classCount: trainImages.classCount, perClass: config.samplesPerClass)
        default: order = .shuffled
        }
        sampler = EpochSampler(datasetSize: trainImages.count, seed: config.seed, order: order)
        switch config.classWeights {
        case .none: classWeights = nil
        case .balanced: classWeights = ClassWeights.balanced(classCounts: trainImages.classCounts)
        case .list(let w):
            guard w.count == trainImages.classCount else {
                throw ConfigurationError(key: "class_weights", "has \(w.count) weights; the dataset has \(trainImages.classCount) classes")
            }
            classWeights = w.map(Float.init)
        }

        let spec = try Self.modelSpec(config)
        network = try Network(spec: spec, inputShape: (full.channels, full.height, full.width),
                              classes: full.classCount, seed: config.seed, maxBatch: config.batchSize)
        dLogits = FloatBuffer(count: config.batchSize * full.classCount)
        dLogitsPartner = FloatBuffer(count: config.augmentation.image.mixes ? config.batchSize * full.classCount : 1)
        optimizer = Optimizer(config: config.optimizerConfig, layout: network.parameters.layout)
        weightAverage = config.emaDecay > 0
            ? WeightAverage(decay: config.emaDecay, warmup: config.emaWarmup,
                            parameterLayout: network.parameters.layout, bufferLayout: network.buffers.layout) : nil
        try Self.checkFreeze(config.freeze, network: network)
        try Self.checkFreeze(config.initExclude, network: network, key: "init_exclude")
        if !config.initExclude.isEmpty && config.initFrom == nil {
            throw ConfigurationError(key: "init_exclude", "is an option of init_from, which is not set")
        }
        let groups = config.optimizerConfig.groups
        let runningStatistics = network.useRunningStatistics(whereFrozen: groups.isFrozen)
        if !config.freeze.isEmpty {
            let frozen = network.parameters.layout.slots.filter { groups.isFrozen($0.name) }
            options.progress?.message("freeze \(config.freeze.joined(separator: ", ")): \(frozen.count) of \(network.parameters.layout.slots.count) parameter tensors fixed (\(frozen.reduce(0) { $0 + $1.count }) values); batch norms on running statistics: \(runningStatistics.isEmpty ? "none" : runningStatistics.joined(separator: ", "))")
        }

        let world = communicator.worldSize
        let samplesPerStep = config.batchSize * config.accumulateSteps
        let stepsPerEpoch = max((sampler.samplesPerRank(cursor: 0, worldSize: world) + samplesPerStep - 1) / samplesPerStep, 1)
        scheduler = try HyperparameterScheduler(config: config.schedule, baseLR: config.effectiveLR(worldSize: world),
                                                baseMomentum: config.momentum,
                                                stepsPerEpoch: stepsPerEpoch, runSteps: stepsPerEpoch * config.epochs)
        if let warning = scheduler.warmupWarning, communicator.rank == 0 { options.progress?.message("warning: \(warning)") }
        state = TrainingState(model: spec, config: config, globalStep: 0, epoch: 0, cursor: 0, seed: config.seed,
                              worldSize: world, stepsPerEpoch: stepsPerEpoch, scheduler: scheduler,
                              normalizationMean: dataset.normalization.mean.map(Float.init),
                              normalizationStd: dataset.normalization.std.map(Float.init),
                              inputShape: [full.channels, full.height, full.width], classes: full.classCount,
                              classNames: dataset.classNames, optimizerStep: 0, datasetFingerprint: full.fingerprint,
                              history: [])
        state.inputPreparation = dataset.preparation

        if options.writesRunDirectory {
            runDirectory = try RunDirectory(path: options.runDirectory, tensorboard: config.tensorboard)
            let progress = options.progress
            store = CheckpointStore(runDirectory: options.runDirectory, keep: config.keepCheckpoints,
                                    onWarning: { message in progress?.message("warning: \(message)") })
        } else {
            runDirectory = nil
            store = nil
        }

        if options.resume {
            try restoreLatest()
            if config.restoreBest {
                store?.protect(step: scheduler.state.bestStep)
                if scheduler.state.bestStep == state.globalStep { keepBestWeights() }
            }
        } else if let initFrom = config.initFrom {
            try initialise(from: initFrom)
        }
    }

    // MARK: - Checkpoints

    /// Resumes from the newest valid checkpoint of the run directory.
    func restoreLatest() throws {
        if let file = options.initialCheckpoint {
            try restore(from: file)
            options.progress?.message("resumed from \(file.path) at step \(state.globalStep) (epoch \(state.epoch + 1), cursor \(state.cursor))")
            return
        }
        // The skipped files and why go to the log as warnings, and into the error if nothing
        // is left: "no valid checkpoint" alone would hide that they are another model's.
        let skipped = WarningList()
        let progress = options.progress
        let lookup = CheckpointStore(runDirectory: options.runDirectory, keep: config.keepCheckpoints, onWarning: { message in
            skipped.append(message)
            progress?.message("warning: \(message)")
        })
        guard let loaded = lookup.latestValid(accepting: { Self.rejection(of: $0, model: state.model) }) else {
            let why = skipped.all.isEmpty ? "" : " (\(skipped.all.joined(separator: "; ")))"
            throw ConfigurationError(key: "--resume", "no valid checkpoint in \(lookup.directory)\(why); start without --resume")
        }
        try restore(from: loaded.file)
        try? runDirectory?.truncateMetrics(after: state.globalStep)
        options.progress?.message("resumed from \(loaded.path) at step \(state.globalStep) (epoch \(state.epoch + 1), cursor \(state.cursor))")
    }

    func restore(from file: SafeTensorsFile) throws {
        guard let text = file.metadata[SafeTensorsFile.stateKey] else {
            throw CheckpointError(.mismatch, file: file.path, field: SafeTensorsFile.stateKey, "missing: not a RingTrain checkpoint")
        }
        let saved = try TrainingState.parse(text, file: file.path)
        guard saved.model == state.model else {
            throw CheckpointError(.mismatch, file: file.path, field: "model", "checkpoint is of model \(saved.model), this run trains \(state.model)")
        }
        try network.parameters.load(from: file)
        try network.buffers.load(from: file)
        try optimizer.loadState(stepCount: saved.optimizerStep, lookup: file.lookup)
        if let weightAverage {
            try weightAverage.restore(from: file, updates: saved.emaUpdates ?? 0)
            if (saved.emaUpdates ?? 0) == 0 && saved.globalStep > 0 && communicator.rank == 0 {
                options.progress?.message("warning: \(file.path) holds no weight average (it was trained without ema_decay): the average starts from the weights of step \(saved.globalStep)")
            }
        }
        // Residuals are per rank (and per bucket plan): restored when the world size is the
        // same, otherwise error feedback restarts from zero.
        communicator.residuals.restore(from: file, rank: residualRank,
                                       sameWorld: saved.worldSize == communicator.worldSize)
        var restored = saved
        restored.config = config
        if saved.worldSize != communicator.worldSize || saved.stepsPerEpoch != state.stepsPerEpoch {
            // A different world size changes steps per epoch: the scheduler keeps its state but
            // is rebuilt for the new epoch length.
            var s = try HyperparameterScheduler(config: config.schedule, baseLR: config.effectiveLR(worldSize: communicator.worldSize),
                                                baseMomentum: config.momentum,
                                                stepsPerEpoch: state.stepsPerEpoch, runSteps: state.stepsPerEpoch * config.epochs)
            s.restoreState(saved.scheduler.state)
            scheduler = s
        } else {
            scheduler = saved.scheduler
        }
        restored.scheduler = scheduler
        restored.worldSize = communicator.worldSize
        restored.stepsPerEpoch = state.stepsPerEpoch
        state = restored
    }

    /// Residual tensors carry the rank in distributed runs (`residual.<rank>.<bucket>`).
    var residualRank: Int? { communicator.worldSize > 1 ? communicator.rank : nil }

    /// A checkpoint point. Alone: write the file. Distributed: every rank hands its part and
    /// its weights hash to the sink, and the coordinator writes the file.
    func saveCheckpoint(commitOnly: Bool = false) throws -> String? {
        let spanStart = tracer.isEnabled ? tracer.now() : 0
        let started = Date()
        defer {
            traceSpan("checkpoint", since: spanStart, always: true)
            pauseSeconds += Date().timeIntervalSince(started)
        }
        options.phaseProbe?.set(step: state.globalStep, "checkpoint")
        state.optimizerStep = optimizer.stepCount
        state.emaUpdates = weightAverage?.updates
        state.scheduler = scheduler
        let isWriter = communicator.rank == 0
        var tensors: [SafeTensor] = []
        var hashed = 0
        if isWriter {
            tensors = network.parameters.safeTensors()
            hashed = tensors.count
            tensors += network.buffers.safeTensors()
            for t in optimizer.stateTensors() {
                tensors.append(SafeTensor(name: t.name, shape: t.shape, buffer: t.values))
            }
            if let weightAverage, weightAverage.updates > 0 { tensors += weightAverage.safeTensors() }
        }
        tensors += communicator.residuals.safeTensors(rank: residualRank)
        if let sink = options.checkpointSink {
            try sink(CheckpointPart(step: state.globalStep, weightsHash: network.parameters.contentSHA256(), tensors: tensors,
                                    hashedTensors: hashed, state: isWriter ? try state.json() : nil, commitOnly: commitOnly))
            return nil
        }
        guard let store else { return nil }
        let path: String
        do {
            path = try store.save(step: state.globalStep, tensors: tensors, state: try state.json())
        } catch {
            // A full disk (or any write failure) costs this checkpoint, not the run: the store
            // never leaves half a file, and the previous checkpoint stays the resume point.
            options.progress?.message("warning: checkpoint at step \(state.globalStep) failed (the previous one stays valid; training goes on): \(error)")
            return nil
        }
        try record(["event": "checkpoint", "step": state.globalStep, "epoch": state.epoch,
                    "path": "checkpoints/" + (path as NSString).lastPathComponent])
        return path
    }

    /// One metrics.jsonl record: to the run directory, or (distributed, rank 0) to the coordinator.
    /// A failed append (a full disk) is a warning, once: losing a metrics line must not cost
    /// the training run.
    func record(_ fields: [String: Any]) throws {
        if let sink = options.metricsSink {
            sink(fields)
            return
        }
        do {
            try runDirectory?.appendMetrics(fields)
        } catch {
            if !warnedAboutMetrics {
                warnedAboutMetrics = true
                options.progress?.message("warning: cannot append to \(runDirectory?.metricsPath ?? "metrics.jsonl") (training goes on; later lines may be missing): \(error)")
            }
        }
    }
}

/// Warnings collected from a callback that may run on any thread.
final class WarningList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
