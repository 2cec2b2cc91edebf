import Collectives
import Foundation

/// One `--codec auto` decision (metrics.jsonl `codec` lines, summary.json `codec_auto`).
public struct CodecDecision: Codable, Equatable, Sendable {
    public var step: Int
    /// "none" or "zstd".
    public var chosen: String
    /// The slowest rank's median step time with each choice, seconds.
    public var noneStepSeconds: Double
    public var zstdStepSeconds: Double
    public var probeSteps: Int
    /// Why this probe ran: "start" or the shift that triggered it.
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case step, chosen, reason
        case noneStepSeconds = "none_step_seconds", zstdStepSeconds = "zstd_step_seconds"
        case probeSteps = "probe_steps"
    }
}

/// `--codec auto`: measures, on the run's own links and gradients, whether compressing with
/// zstd costs less time than it saves, and switches the ring's compression on or off.
///
/// Both choices are lossless and sum in the same order, so the weights are the same bits
/// whichever is picked, and probing can alternate them step by step inside real training
/// (no separate calibration traffic, nothing to undo). A lossy codec is never chosen here:
/// its rounding changes the numerics, so it stays the user's explicit choice.
///
/// Every decision is collective: it is driven by step counts only (every rank reaches each
/// decision point at the same step) and made from all-gathered figures, so every rank picks
/// the same. The slowest rank's median gates a synchronous ring, so the maximum over ranks of
/// each rank's median step time is compared.
public final class CodecAutoSelector {
    public struct Settings {
        /// Steps skipped before the first probe (allocation, page faults, socket buffers warming).
        public var warmupSteps = 3
        /// Steps measured per choice in one probe (alternating, so drifts hit both alike).
        public var probeStepsEach = 6
        /// After a decision, the chosen codec's median step time is checked every this many steps ...
        public var checkEvery = 50
        /// ... and a shift by more than this fraction of the decision-time median probes again ...
        public var shiftTolerance = 0.25
        /// ... but not sooner than this many steps after the previous probe.
        public var minStepsBetweenProbes = 500
        public init() {}
    }

    private enum Phase {
        case warmup(remaining: Int)
        case probing(reason: String, without: [Double], with: [Double])
        case settled(reference: Double, lastProbeStep: Int, window: [Double])
    }

    public let settings: Settings
    private var phase: Phase
    public private(set) var compress = false
    public private(set) var decisions: [CodecDecision] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
        phase = .warmup(remaining: settings.warmupSteps)
    }

    /// Whether the next step compresses: alternating while probing (odd probe steps compress).
    public func compressesNextStep() -> Bool {
        if case .probing(_, let without, let with) = phase { return with.count < without.count }
        return compress
    }

    /// Records one finished step (`step` = global steps done) and its wall time; at decision
    /// points gathers every rank's figures over `communicator`. Returns a new decision, if any.
    public func recordStep(_ step: Int, seconds: Double, compressed: Bool, communicator: Communicator) throws -> CodecDecision? {
        switch phase {
        case .warmup(let remaining):
            phase = remaining > 1 ? .warmup(remaining: remaining - 1) : .probing(reason: "start", without: [], with: [])
            return nil
        case .probing(let reason, var without, var with):
            if compressed { with.append(seconds) } else { without.append(seconds) }
            guard with.count >= settings.probeStepsEach && without.count >= settings.probeStepsEach else {
                phase = .probing(reason: reason, without: without, with: with)
                return nil
            }
            let mine = [Self.median(without), Self.median(with)]
            let all = communicator.worldSize > 1 ? try communicator.allGather(mine) : [mine]
            let decision = Self.decide(all, step: step, probeSteps: without.count + with.count, reason: reason)
            compress = decision.chosen == "zstd"
            decisions.append(decision)
            phase = .settled(reference: compress ? decision.zstdStepSeconds : decision.noneStepSeconds,
                             lastProbeStep: step, window: [])
            return decision
        case .settled(let reference, let lastProbeStep, var window):
            window.append(seconds)
            guard window.count >= settings.checkEvery else {
                phase = .settled(reference: reference, lastProbeStep: lastProbeStep, window: window)
                return nil
            }
            let mine = [Self.median(window)]
            let all = communicator.worldSize > 1 ? try communicator.allGather(mine) : [mine]
            let now = all.map { $0[0] }.max() ?? 0
            let shift = reference > 0 ? now / reference - 1 : 0
            if abs(shift) > settings.shiftTolerance && step - lastProbeStep >= settings.minStepsBetweenProbes {
                let reason = String(format: "step time %.1f ms vs %.1f ms at the last decision", now * 1000, reference * 1000)
                phase = .probing(reason: reason, without: [], with: [])
            } else {
                phase = .settled(reference: reference, lastProbeStep: lastProbeStep, window: [])
            }
            return nil
        }
    }

    /// `gathered[r] = [median without compression, median with]` of rank r. Compression must
    /// win on the slowest rank's figures; a tie keeps the cheaper `none`.
    public static func decide(_ gathered: [[Double]], step: Int, probeSteps: Int, reason: String) -> CodecDecision {
        let without = gathered.map { $0[0] }.max() ?? 0
        let with = gathered.map { $0[1] }.max() ?? 0
        return CodecDecision(step: step, chosen: with < without ? "zstd" : "none", noneStepSeconds: without,
                        zstdStepSeconds: with, probeSteps: probeSteps, reason: reason)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
