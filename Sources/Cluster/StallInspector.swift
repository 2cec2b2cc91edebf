import Foundation

/// Horovod's stall inspector, for the ring: when the cluster's step (the slowest rank's) has
/// not advanced for far longer than the recent median step time, say which rank is where,
/// before any timeout fires. Fed by worker heartbeats (step, phase); pure logic over the
/// times it is given, so it is tested without a cluster.
public final class StallInspector {
    struct RankState {
        var step: Int
        var phase: String
        var heard: Date
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

    public init(minimumSeconds: Double = 10, factor: Double = 20) {
        self.minimumSeconds = minimumSeconds
        self.factor = factor
    }

    public func observe(rank: Int, step: Int, phase: String, at now: Date) {
        ranks[rank] = RankState(step: step, phase: phase, heard: now)
        let slowest = ranks.values.map(\.step).min() ?? step
        if slowest > clusterStep {
            if let last = advancedAt, clusterStep >= 0 {
                samples.append(now.timeIntervalSince(last) / Double(slowest - clusterStep))
                if samples.count > 20 { samples.removeFirst() }
            }
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
        guard !reported, let since = advancedAt, ranks.count == worldSize else { return nil }
        let stalled = now.timeIntervalSince(since)
        let threshold = max(minimumSeconds, factor * (medianStepSeconds ?? 0))
        guard stalled > threshold else { return nil }
        reported = true
        let median = medianStepSeconds.map { String(format: "%.3f s", $0) } ?? "unknown"
        let detail = ranks.keys.sorted().map { r -> String in
            let s = ranks[r]!
            let ago = now.timeIntervalSince(s.heard)
            let behind = s.step == clusterStep ? "" : " (ahead by \(s.step - clusterStep))"
            return "rank \(r): step \(s.step + 1) '\(s.phase)'\(behind), last heard \(String(format: "%.0f", ago)) s ago"
        }.joined(separator: "; ")
        return String(format: "stall: step %d has not completed on every rank for %.0f s (median step %@): ", clusterStep + 1, stalled, median) + detail
    }
}
