import Foundation
import Training

/// `ringtrain tune`: random search, grid search, successive halving, or the Tree-structured
/// Parzen Estimator (alone or with successive halving) over a search space.
/// Every trial is an ordinary run directory `<dir>/trial-NNN`; how a trial stage runs (in
/// this process, as `ringtrain train`, or through `ringtrain launch`) is the `runStage`
/// closure's business, so the search logic is tested without training anything.
public final class Tuner {
    public enum Method: String, CaseIterable, Sendable {
        case random, grid, halving, tpe
        /// TPE proposes the trials of the first rung one by one; successive halving then
        /// promotes the best of them (Optuna's TPESampler with a SuccessiveHalvingPruner).
        case tpeHalving = "tpe-halving"

        var proposesSequentially: Bool { self == .tpe || self == .tpeHalving }
        var halves: Bool { self == .halving || self == .tpeHalving }
    }

    /// One stage of one trial: train `config` (whose `stop_at_epoch` ends the stage) in
    /// `runDirectory`, resuming from its checkpoint when `resume`; return the ranking metric
    /// (`metric`) reached. Throw `TrialFailed` for a trial that failed (it ranks last and the search goes
    /// on); any other error stops the search (it can be continued later).
    public struct Stage {
        public var trial: TuneState.Trial
        public var config: TrainingConfig
        public var configPath: String
        public var runDirectory: String
        public var resume: Bool
        public var rung: Int
    }

    public let directory: String
    public let base: TrainingConfig
    public let space: SearchSpace
    public let method: Method
    public let trials: Int
    public let seed: UInt64
    /// Successive halving keeps the best 1/eta of the trials at each rung.
    public let eta: Int
    /// What the trials are ranked by.
    public let metric: TuneMetric
    public var log: (String) -> Void = { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) }

    public var statePath: String { directory + "/tune.json" }

    public init(directory: String, base: TrainingConfig, space: SearchSpace, method: Method, trials: Int,
                seed: UInt64, eta: Int = 3, metric: TuneMetric = .valTop1) throws {
        guard trials >= 1 else { throw TuneError("--trials must be >= 1") }
        guard eta >= 2 else { throw TuneError("--eta must be >= 2") }
        guard base.validationFraction > 0 else {
            throw TuneError("tune ranks trials by a validation metric (\(metric.rawValue)): the config needs validation_fraction > 0")
        }
        self.directory = directory
        self.base = base
        self.space = space
        self.method = method
        self.trials = trials
        self.seed = seed
        self.eta = eta
        self.metric = metric
    }

    /// Epochs of each rung and how many trials reach it. Random and grid: one rung, every
    /// trial trained for the config's epochs. Halving: rung i keeps floor(n / eta^i) trials
    /// (at least one) and trains them to ceil(epochs / eta^(last - i)) epochs, the last rung
    /// (a single trial) to all epochs.
    public static func rungs(method: Method, trials: Int, epochs: Int, eta: Int) -> (epochs: [Int], sizes: [Int]) {
        guard method.halves, trials > 1 else { return ([epochs], [trials]) }
        // Rungs until one trial is left: 1 + ceil(log_eta(trials)).
        var count = 1
        var reach = 1
        while reach < trials { count += 1; reach *= eta }
        var e: [Int] = [], n: [Int] = []
        for i in 0..<count {
            let shrink = pow(Double(eta), Double(count - 1 - i))
            e.append(max(1, min(epochs, Int((Double(epochs) / shrink).rounded(.up)))))
            n.append(max(1, trials / Int(pow(Double(eta), Double(i)))))
        }
        return (e, n)
    }

    /// Builds the trials (or loads them from tune.json, refusing different settings).
    public func prepareState() throws -> TuneState {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fingerprint = try self.fingerprint()
        if let existing = try TuneState.load(path: statePath) {
            guard existing.fingerprint == fingerprint else {
                throw TuneError("\(statePath) belongs to a search with another config, space, method, trial count, seed or metric; use another --dir or remove it")
            }
            log("[tune] continuing the search in \(directory) (\(existing.trials.map(\.results.count).reduce(0, +)) trial stages done)")
            return existing
        }
        let values: [[String: JSONValue]]
        if method.proposesSequentially {
            // TPE proposes each trial from the results before it (see `run`).
            values = []
        } else if method == .grid {
            let grid = space.grid()
            values = Array(grid.prefix(trials))
            if grid.count > trials { log("[tune] the grid has \(grid.count) points; the first \(trials) are tried (--trials)") }
        } else {
            values = (0..<trials).map { space.sample(seed: seed, index: $0) }
        }
        // Every trial's config is built once now, so a space that yields an invalid config
        // fails before anything trains, naming the trial and the key.
        for (i, v) in values.enumerated() {
            _ = try SearchSpace.apply(v, to: base, source: String(format: "trial-%03d (%@)", i, Self.describe(v)))
        }
        let (epochs, sizes) = Self.rungs(method: method, trials: method.proposesSequentially ? trials : values.count,
                                         epochs: base.epochs, eta: eta)
        let state = TuneState(method: method.rawValue, seed: seed, fingerprint: fingerprint, rungEpochs: epochs,
                              rungSizes: sizes, trials: values.enumerated().map { TuneState.Trial(id: $0.offset, values: $0.element) },
                              metric: metric)
        try state.save(path: statePath)
        return state
    }

    /// Runs (or continues) the search from `prepared` (or `prepareState()`); returns the final state.
    public func run(from prepared: TuneState? = nil, runStage: (Stage) throws -> Double) throws -> TuneState {
        var state = try prepared ?? prepareState()
        for (rung, epochs) in state.rungEpochs.enumerated() {
            if rung == 0 && method.proposesSequentially {
                try proposeAndRunFirstRung(&state, epochs: epochs, runStage: runStage)
                continue
            }
            let contenders = Self.contenders(state, rung: rung)
            if state.rungEpochs.count > 1 {
                log("[tune] rung \(rung + 1)/\(state.rungEpochs.count): \(contenders.count) trials to \(epochs) epochs")
            }
            for id in contenders where state.trials[id].results.count <= rung {
                try runTrial(id, rung: rung, epochs: epochs, state: &state, runStage: runStage)
            }
        }
        return state
    }

    /// TPE: each trial of the first rung is proposed from the results of those before it
    /// (a trial already in tune.json, from an interrupted search, is finished first).
    func proposeAndRunFirstRung(_ state: inout TuneState, epochs: Int, runStage: (Stage) throws -> Double) throws {
        if state.rungEpochs.count > 1 {
            log("[tune] rung 1/\(state.rungEpochs.count): \(trials) trials to \(epochs) epochs, proposed by TPE")
        }
        let sampler = TPESampler(space: space, seed: seed)
        while true {
            if let unfinished = state.trials.first(where: { $0.results.isEmpty }) {
                try runTrial(unfinished.id, rung: 0, epochs: epochs, state: &state, runStage: runStage)
                continue
            }
            guard state.trials.count < trials else { return }
            let history = state.trials.map { (values: $0.values, score: state.metric.score($0.results[0])) }
            let values = sampler.propose(index: state.trials.count, history: history)
            let id = state.trials.count
            _ = try SearchSpace.apply(values, to: base, source: String(format: "trial-%03d (%@)", id, Self.describe(values)))
            state.trials.append(TuneState.Trial(id: id, values: values))
            try state.save(path: statePath)
        }
    }

    /// Trains one trial's stage and records its result (a `TrialFailed` ranks last).
    func runTrial(_ id: Int, rung: Int, epochs: Int, state: inout TuneState, runStage: (Stage) throws -> Double) throws {
        let trial = state.trials[id]
        var config = try SearchSpace.apply(trial.values, to: base, source: "\(statePath) \(trial.name)")
        config.stopAtEpoch = epochs < base.epochs ? epochs : 0
        let runDirectory = directory + "/" + trial.name
        let configPath = directory + "/" + trial.name + ".json"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(config).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        let resume = Self.hasCheckpoint(runDirectory)
        log("[tune] \(trial.name) to epoch \(epochs)\(resume ? " (resuming)" : ""): \(Self.describe(trial.values))")
        do {
            let result = try runStage(Stage(trial: trial, config: config, configPath: configPath,
                                            runDirectory: runDirectory, resume: resume, rung: rung))
            state.trials[id].results.append(result)
            state.trials[id].epochs = epochs
            state.trials[id].failure = nil
            log("[tune] \(trial.name): \(metric.label) \(metric.format(result)) after \(epochs) epochs")
        } catch let error as TrialFailed {
            // A failed trial (say, a diverging learning rate) ranks last, and the search goes on.
            state.trials[id].results.append(-1)
            state.trials[id].epochs = epochs
            state.trials[id].failure = "\(error)"
            log("[tune] \(trial.name) failed: \(error)")
        }
        try state.save(path: statePath)
    }

    /// The trials that train at `rung`: all at rung 0, then the best `rungSizes[rung]` by
    /// their result at the previous rung (ties: lower trial id first), a pure function of the
    /// recorded results, so a resumed search takes the same decisions.
    public static func contenders(_ state: TuneState, rung: Int) -> [Int] {
        if rung == 0 { return state.trials.map(\.id) }
        let previous = contenders(state, rung: rung - 1)
        let ranked = previous.sorted {
            let a = state.metric.score(state.trials[$0].results[rung - 1]), b = state.metric.score(state.trials[$1].results[rung - 1])
            return a != b ? a > b : $0 < $1
        }
        return Array(ranked.prefix(state.rungSizes[rung])).sorted()
    }

    /// Trials ordered best first: by the furthest rung reached, then its ranking metric.
    public static func ranking(_ state: TuneState) -> [TuneState.Trial] {
        state.trials.sorted {
            if $0.results.count != $1.results.count { return $0.results.count > $1.results.count }
            let a = state.metric.score($0.latest ?? -1), b = state.metric.score($1.latest ?? -1)
            return a != b ? a > b : $0.id < $1.id
        }
    }

    /// The best trial's config, whole and without the pause: what to train with next.
    public func bestConfig(_ state: TuneState) throws -> (TuneState.Trial, TrainingConfig)? {
        guard let best = Self.ranking(state).first, (best.latest ?? -1) >= 0 else { return nil }
        var config = try SearchSpace.apply(best.values, to: base, source: "\(statePath) \(best.name)")
        config.stopAtEpoch = 0
        return (best, config)
    }

    static func hasCheckpoint(_ runDirectory: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory + "/checkpoints")) ?? []
        return names.contains { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }
    }

    public static func describe(_ values: [String: JSONValue]) -> String {
        values.sorted { $0.key < $1.key }.map { key, value in
            if case .number(let d) = value, d != d.rounded() { return "\(key)=\(String(format: "%.4g", d))" }
            return "\(key)=\(value)"
        }.joined(separator: " ")
    }

    func fingerprint() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var parts = [String(decoding: try encoder.encode(base), as: UTF8.self)]
        parts += space.dimensions.map { "\($0.key)=\($0.distribution)" }
        parts += [method.rawValue, "\(trials)", "\(seed)", "\(eta)"]
        // A search by top-1 keeps the fingerprint it had before other metrics existed.
        if metric != .valTop1 { parts.append(metric.rawValue) }
        return parts.joined(separator: "|")
    }
}
