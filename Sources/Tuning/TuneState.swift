import Foundation

/// `tune.json`: everything a search has decided and measured, rewritten atomically after
/// every trial stage, so an interrupted search re-run with the same command continues where
/// it stopped (a stage cut off half-way resumes from that trial's last checkpoint).
public struct TuneState: Codable, Sendable, Equatable {
    public struct Trial: Codable, Sendable, Equatable {
        public var id: Int
        public var values: [String: JSONValue]
        /// The ranking metric after each rung's epochs (index = rung), as the trial reached
        /// them; -1 for a failed stage.
        public var results: [Double] = []
        /// Epochs trained so far.
        public var epochs: Int = 0
        public var failure: String? = nil

        public var name: String { String(format: "trial-%03d", id) }
        public var latest: Double? { results.last }
    }

    public var formatVersion = 1
    public var method: String
    public var seed: UInt64
    /// What the search was started with: a re-run must match, or it is refused.
    public var fingerprint: String
    public var rungEpochs: [Int]
    public var rungSizes: [Int]
    public var trials: [Trial]
    /// What the trials are ranked by (a file without the key: val_top1).
    public var metric: TuneMetric = .valTop1

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", method, seed, fingerprint, rungEpochs = "rung_epochs"
        case rungSizes = "rung_sizes", trials, metric
    }

    public init(method: String, seed: UInt64, fingerprint: String, rungEpochs: [Int], rungSizes: [Int], trials: [Trial],
                metric: TuneMetric = .valTop1) {
        self.method = method
        self.seed = seed
        self.fingerprint = fingerprint
        self.rungEpochs = rungEpochs
        self.rungSizes = rungSizes
        self.trials = trials
        self.metric = metric
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try c.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 1
        method = try c.decode(String.self, forKey: .method)
        seed = try c.decode(UInt64.self, forKey: .seed)
        fingerprint = try c.decode(String.self, forKey: .fingerprint)
        rungEpochs = try c.decode([Int].self, forKey: .rungEpochs)
        rungSizes = try c.decode([Int].self, forKey: .rungSizes)
        trials = try c.decode([Trial].self, forKey: .trials)
        metric = try c.decodeIfPresent(TuneMetric.self, forKey: .metric) ?? .valTop1
    }

    public static func load(path: String) throws -> TuneState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(TuneState.self, from: data)
        } catch {
            throw TuneError("\(path): unreadable search state (\(error)); move it away to start over")
        }
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
