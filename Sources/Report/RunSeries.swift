import Foundation

/// The charts' data, derived from the metrics lines: which figure against which step, with
/// the fallbacks for lines written by older versions.
enum RunSeries {
    typealias Points = [(x: Double, y: Double)]

    static let color = SVGChart.palette

    /// A dashed line at the last step of every epoch that is followed by another, labelled
    /// with the (1-based) epoch that starts there.
    static func epochMarks(_ records: RunRecords) -> [ChartMark] {
        var marks: [ChartMark] = []
        guard var previous = records.progress.first else { return [] }
        for position in records.progress.dropFirst() {
            if position.epoch > previous.epoch && marks.last?.x != Double(previous.step) {
                marks.append(ChartMark(x: Double(previous.step), label: "ep \(position.epoch + 1)"))
            }
            previous = position
        }
        return marks
    }

    static func points<R>(_ rows: [R], step: (R) -> Int, value: (R) -> Double?, scale: Double = 1) -> Points {
        rows.compactMap { r in value(r).map { (Double(step(r)), $0 * scale) } }
    }

    static func loss(_ r: RunRecords) -> [ChartSeries] {
        [ChartSeries(name: "train loss (epoch running mean)", points: points(r.train, step: \.step, value: \.loss), color: color[0]),
         ChartSeries(name: "validation loss", points: points(r.validation, step: \.step, value: \.loss), color: color[1])]
    }

    static func accuracy(_ r: RunRecords) -> [ChartSeries] {
        [ChartSeries(name: "train top-1 (epoch running mean)", points: points(r.train, step: \.step, value: \.trainTop1, scale: 100),
                     color: color[0]),
         ChartSeries(name: "validation top-1", points: points(r.validation, step: \.step, value: \.top1, scale: 100), color: color[1]),
         ChartSeries(name: "validation top-5", points: points(r.validation, step: \.step, value: \.top5, scale: 100), color: color[2],
                     dashed: true)]
    }

    /// The rate every step ran at: each `train` line's `lr_points` (the corners of its
    /// window), or its one `lr` for old lines; and each validation's rate after the
    /// scheduler's decision, from the next step on (a plateau cut shows even when the run
    /// stops right after it).
    static func learningRate(_ r: RunRecords) -> [ChartSeries] {
        var trained: Points = []
        for t in r.train {
            if !t.lrPoints.isEmpty { trained += t.lrPoints } else if let lr = t.lr { trained.append((Double(t.step), lr)) }
        }
        var decided: Points = []
        for v in r.validation { if let lr = v.lr { decided.append((Double(v.step + 1), lr)) } }
        // Merged by step; at a tie the trained rate comes first, so a cut draws as a drop.
        var tagged: [(point: (x: Double, y: Double), order: Int)] = trained.map { ($0, 0) }
        tagged += decided.map { ($0, 1) }
        tagged.sort { a, b in a.point.x != b.point.x ? a.point.x < b.point.x : a.order < b.order }
        return [ChartSeries(name: "learning rate", points: tagged.map(\.point), color: color[4])]
    }

    /// Images/s per rank from the `workers` arrays; lines without one (older versions) give
    /// the cluster's figure as one series.
    static func throughput(_ r: RunRecords) -> [ChartSeries] {
        var perRank: [Int: Points] = [:]
        var cluster: Points = []
        for t in r.train {
            if t.workers.isEmpty {
                if let v = t.imagesPerSec { cluster.append((Double(t.step), v)) }
            } else {
                for w in t.workers { if let v = w.imagesPerSec { perRank[w.rank, default: []].append((Double(t.step), v)) } }
            }
        }
        var series = perRank.keys.sorted().map { rank in
            ChartSeries(name: "rank \(rank)", points: perRank[rank]!, color: color[rank % color.count])
        }
        if !cluster.isEmpty {
            series.append(ChartSeries(name: perRank.isEmpty ? "whole cluster" : "whole cluster (older lines)", points: cluster,
                                      color: "#444444", dashed: !perRank.isEmpty))
        }
        return series
    }

    /// Rank 0's milliseconds per step in compute, waiting for the all-reduce, and encoding.
    /// Older lines have only cumulative counters: their increase over the window stands in.
    /// The second value says whether any point was derived that way.
    static func stepTimes(_ r: RunRecords) -> (series: [ChartSeries], derived: Bool) {
        var compute: Points = [], wait: Points = [], encode: Points = []
        var derived = false
        for (t, window) in windows(r) {
            let x = Double(t.step)
            func perStep(_ own: Double?, _ counter: (TrainRecord) -> Double?) -> Double? {
                if let own { return own * 1e3 }
                guard let steps = window.steps, let v = window.increase(counter) else { return nil }
                derived = true
                return v / Double(steps) * 1e3
            }
            if let v = perStep(t.stepComputeSeconds, \.computeSeconds) { compute.append((x, v)) }
            if let v = perStep(t.stepWaitSeconds, \.communicationWaitSeconds) { wait.append((x, v)) }
            if let v = perStep(t.stepEncodeSeconds, \.encodeSeconds) { encode.append((x, v)) }
        }
        return ([ChartSeries(name: "compute", points: compute, color: color[0]),
                 ChartSeries(name: "waiting for the all-reduce", points: wait, color: color[1]),
                 ChartSeries(name: "encoding (overlaps compute)", points: encode, color: color[2], dashed: true)], derived)
    }

    /// The span of steps a `train` line's window figures cover, and how to read a
    /// cumulative counter's increase over it.
    struct Window {
        let line: TrainRecord
        let previous: TrainRecord?
        /// Whether a new process began since `previous` (a new `start` line, or a counter
        /// that dropped): its counters started again at zero.
        let restarted: Bool
        /// Steps in the window: `window_steps`, else the step difference, else (after a
        /// restart) the steps since the `start` line; nil where none of these is known.
        let steps: Int?

        func increase(_ counter: (TrainRecord) -> Double?) -> Double? {
            guard let now = counter(line) else { return nil }
            guard !restarted, let before = previous.flatMap(counter), now >= before else { return now }
            return now - before
        }
    }

    /// Every `train` line with its window.
    static func windows(_ r: RunRecords) -> [(TrainRecord, Window)] {
        var result: [(TrainRecord, Window)] = []
        var previous: TrainRecord?
        for t in r.train {
            defer { previous = t }
            let dropped = [\TrainRecord.bytesSent, \.bytesRaw, \.computeSeconds, \.communicationWaitSeconds, \.encodeSeconds]
                .contains { key in
                    guard let p = previous, let now = t[keyPath: key], let before = p[keyPath: key] else { return false }
                    return now < before
                }
            let restarted = previous == nil || previous!.process != t.process || dropped
            var steps = t.windowSteps
            if steps == nil {
                if !restarted, let p = previous, t.step > p.step {
                    steps = t.step - p.step
                } else if t.process > 0, t.process <= r.starts.count, t.step > r.starts[t.process - 1].step {
                    steps = t.step - r.starts[t.process - 1].step
                } else if previous == nil, t.process == 0 {
                    steps = t.step  // the first process of a run starts at step 0
                }
            }
            result.append((t, Window(line: t, previous: previous, restarted: restarted, steps: steps.flatMap { $0 > 0 ? $0 : nil })))
        }
        return result
    }

    /// Each rank's milliseconds per step waiting for the all-reduce (a straggler's peers wait).
    static func workerWait(_ r: RunRecords) -> [ChartSeries] {
        var perRank: [Int: Points] = [:]
        for t in r.train {
            for w in t.workers { if let v = w.stepWaitSeconds { perRank[w.rank, default: []].append((Double(t.step), v * 1e3)) } }
        }
        return perRank.keys.sorted().map { ChartSeries(name: "rank \($0)", points: perRank[$0]!, color: color[$0 % color.count]) }
    }

    /// All-reduce MB per step on the wire and raw, over each window: `window_bytes_*`, or
    /// the increase of the cumulative `bytes_*` (a drop is a restarted process whose counter
    /// began again at zero). Per step, not per window: end-of-epoch windows are shorter.
    static func bytesPerStep(_ r: RunRecords) -> (sent: Points, raw: Points) {
        var sent: Points = [], raw: Points = []
        for (t, window) in windows(r) {
            guard let steps = window.steps.map(Double.init) else { continue }
            let x = Double(t.step)
            if let v = t.windowBytesSent ?? window.increase(\.bytesSent) { sent.append((x, v / steps / 1e6)) }
            if let v = t.windowBytesRaw ?? window.increase(\.bytesRaw) { raw.append((x, v / steps / 1e6)) }
        }
        return (sent, raw)
    }

    static func bytes(_ r: RunRecords) -> [ChartSeries] {
        let (sent, raw) = bytesPerStep(r)
        return [ChartSeries(name: "raw (uncompressed)", points: raw, color: color[7], dashed: true),
                ChartSeries(name: "on the wire", points: sent, color: color[0])]
    }

    /// Raw bytes over bytes on the wire, per window (1 = no compression).
    static func compressionRatio(_ r: RunRecords) -> [ChartSeries] {
        let ratio = windows(r).compactMap { (t, window) -> (x: Double, y: Double)? in
            guard let sent = t.windowBytesSent ?? window.increase(\.bytesSent), sent > 0,
                  let raw = t.windowBytesRaw ?? window.increase(\.bytesRaw) else { return nil }
            return (Double(t.step), raw / sent)
        }
        return [ChartSeries(name: "raw / on the wire", points: ratio, color: color[3])]
    }
}
