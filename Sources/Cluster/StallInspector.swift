import Foundation

/// Horovod's stall inspector, for the ring: when the cluster's step (the slowest rank's) has
/// not advanced for far longer than the recent median step time, say which rank is where,
/// before any timeout fires. Fed by worker heartbeats (step, phase); pure logic over the
/// times it is given, so it is tested without a cluster.
public final class StallInspector {
    struct RankState {
        var step: Int
        var phase: String
        /// When this rank first reported `step` (the start of its step-time sample).
        var heard: Date
        /// Its latest heartbeat.
        var lastHeard: Date? = nil
    }

    /// Never report a stall shorter than this (heartbeats come every few seconds).
    public let minimumSeconds: Double
    /// A stall is `factor` times the recent median step time (when that is longer).
    public let factor: Double
    private var ranks: [Int: RankState] = [:]
    private var clusterStep = -1
    private var advancedAt: Date?
    private var samples: [Double] = []
    private var reported = false
    /// The first heartbeat of this ring (any rank's): a rank not heard from since is the most
    /// stalled of all (frozen before its first report).
    private var firstHeard: Date?

    public init(minimumSeconds: Double = 10, factor: Double = 20) {
        self.minimumSeconds = minimumSeconds
        self.factor = factor
    }

    public func observe(rank: Int, step: Int, phase: String, at now: Date) {
        if firstHeard == nil { firstHeard = now }
        // Step time from each rank's own progress between two of its heartbeats: the cluster's
        // step (a minimum over ranks heard at different moments) advances in uneven jumps.
        if let previous = ranks[rank], step > previous.step {
            samples.append(now.timeIntervalSince(previous.heard) / Double(step - previous.step))
            if samples.count > 40 { samples.removeFirst() }
        }
        if let previous = ranks[rank], step == previous.step {
            ranks[rank]?.phase = phase
        } else {
            ranks[rank] = RankState(step: step, phase: phase, heard: now)
        }
        ranks[rank]?.lastHeard = now
        let slowest = ranks.values.map(\.step).min() ?? step
        if slowest > clusterStep {
            clusterStep = slowest
            advancedAt = now
            reported = false
        }
    }

    var medianStepSeconds: Double? {
        guard !samples.isEmpty else { return nil }
        let s = samples.sorted()
        return s[s.count / 2]
    }

    /// A report, once per stall, when the cluster's step has not advanced for longer than the
    /// threshold; nil otherwise.
    public func check(worldSize: Int, at now: Date) -> String? {
        guard !reported else { return nil }
        if ranks.count < worldSize {
            return silentRanks(worldSize: worldSize, at: now)
        }
        guard let since = advancedAt else { return nil }
        let stalled = now.timeIntervalSince(since)
        let threshold = max(minimumSeconds, factor * (medianStepSeconds ?? 0))
        guard stalled > threshold else { return nil }
        reported = true
        let median = medianStepSeconds.map { String(format: "%.3f s", $0) } ?? "unknown"
        // What each rank last reported, and when: a rank silent since (a frozen process, a cut
        // link) shows an old report; its step is where it was then, not where it is.
        let detail = ranks.keys.sorted().map { r -> String in
            let s = ranks[r]!
            let ago = now.timeIntervalSince(s.lastHeard ?? s.heard)
            return "rank \(r): step \(s.step + 1) '\(s.phase)', reported \(String(format: "%.0f", ago)) s ago"
        }.joined(separator: "; ")
        return String(format: "stall: the slowest rank has reported no progress past step %d for %.0f s (median step %@): ", clusterStep + 1, stalled, median) + detail
    }

    /// Ranks never heard from while others report, once `minimumSeconds` have passed since
    /// the first heartbeat of the ring.
    private func silentRanks(worldSize: Int, at now: Date) -> String? {
        guard let first = firstHeard, now.timeIntervalSince(first) > minimumSeconds else { return nil }
        reported = true
        let silent = (0..<worldSize).filter { ranks[$0] == nil }
        let heard = ranks.keys.sorted().map { "rank \($0): step \(ranks[$0]!.step + 1) '\(ranks[$0]!.phase)'" }
        return String(format: "stall: %@ %@ sent no heartbeat in the %.0f s since the ring's first: ", silent.count == 1 ? "rank" : "ranks",
                      silent.map(String.init).joined(separator: ", "), now.timeIntervalSince(first))
            + (silent.map { "rank \($0): never reported" } + heard).joined(separator: "; ")
    }
}
