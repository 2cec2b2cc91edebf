import Collectives
import Foundation
import Telemetry

/// What the run records besides the weights: metrics.jsonl lines (docs/run-directory.md) and
/// timeline spans (`--timeline`).
extension Trainer {
    /// The counters at the previous `train` line; that line reports the window since then.
    struct WindowStart {
        var step: Int
        var time: Date
        var computeSeconds: Double
        var waitSeconds: Double
        var stats: CommunicatorStats
        var dataWaitSeconds = 0.0
        var pauseSeconds = 0.0
    }

    /// The model as the progress line, metrics.jsonl and summary.json all name it: the
    /// built-in name (with a non-default stem) or "custom (N layers)", and the dropout rate
    /// when the config sets one (the network is then built from the model's layer list).
    public var modelName: String { Self.modelName(config) }

    /// `modelName` of a config, before any trainer is built (the coordinator's log).
    public static func modelName(_ config: TrainingConfig) -> String {
        var name: String
        if let layers = config.layers {
            name = "custom (\(layers.count) layers)"
        } else {
            name = config.model
            if let stem = config.stem, stem != .imagenet { name += " (\(stem.rawValue) stem)" }
        }
        if let p = config.dropout { name += " with dropout \(p)" }
        return name
    }

    /// Dataset class names, or "0", "1", ... when the dataset has none for some class.
    static func classNames(_ names: [String], count: Int) -> [String] {
        names.count == count ? names : (0..<count).map(String.init)
    }

    /// The `start` line: what a report needs before the run ends (classes, config, world).
    func recordStart() throws {
        let configObject = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config))
        try record(["event": "start", "step": state.globalStep, "epoch": state.epoch,
                    "world_size": communicator.worldSize, "model": modelName,
                    "parameters": network.parameterCount, "steps_per_epoch": state.stepsPerEpoch,
                    "class_names": Self.classNames(dataset.classNames, count: network.classes),
                    "config": configObject, "resumed": options.resume])
    }

    /// A `train` line for the window since `window`, with every worker's throughput and time
    /// split (all-gathered: every rank calls this at the same steps). Resets the window.
    func recordTrainWindow(since window: inout WindowStart, epoch: Int, batchSize: Int, lr: Double,
                           loss: Double, l1Penalty: Double? = nil, top1: Double, computeSeconds: Double, waitSeconds: Double) throws {
        let now = Date()
        let stats = communicator.stats
        let steps = max(state.globalStep - window.step, 1)
        // Validation and checkpoints in the window are not training: leaving them out keeps
        // an epoch's first line from showing a dip that is not in the steps.
        let paused = pauseSeconds - window.pauseSeconds
        let elapsed = max(now.timeIntervalSince(window.time) - paused, 1e-9)
        let wait = (waitSeconds - window.waitSeconds) / Double(steps)
        let compute = (computeSeconds - window.computeSeconds) / Double(steps) - wait
        let encode = (stats.encodeSeconds - window.stats.encodeSeconds) / Double(steps)
        let dataWait = (dataWaitSeconds - window.dataWaitSeconds) / Double(steps)
        let mine = [Double(steps * batchSize) / elapsed, compute, wait, encode]
        let all = communicator.worldSize > 1 ? try communicator.allGather(mine) : [mine]
        let workers: [[String: Any]] = all.enumerated().map { rank, v in
            ["rank": rank, "images_per_sec": v[0], "step_compute_seconds": v[1], "step_wait_seconds": v[2],
             "step_encode_seconds": v[3]]
        }
        var fields: [String: Any] = ["event": "train", "step": state.globalStep, "epoch": epoch, "loss": loss, "train_top1": top1, "lr": lr,
                    "images_per_sec": all.reduce(0) { $0 + $1[0] }, "window_steps": steps,
                    "step_compute_seconds": compute, "step_wait_seconds": wait, "step_encode_seconds": encode,
                    "step_data_wait_seconds": dataWait, "data_wait_seconds": dataWaitSeconds,
                    "window_bytes_sent": stats.bytesSent - window.stats.bytesSent,
                    "window_bytes_raw": stats.bytesRaw - window.stats.bytesRaw,
                    "bytes_sent": stats.bytesSent, "bytes_raw": stats.bytesRaw,
                    "compute_seconds": computeSeconds, "communication_wait_seconds": waitSeconds,
                    "encode_seconds": stats.encodeSeconds, "workers": workers,
                    "window_pause_seconds": paused, "lr_points": learningRates.take()]
        // `loss` includes the L1 term; `l1_penalty` is that term alone.
        if let l1Penalty { fields["l1_penalty"] = l1Penalty }
        try record(fields)
        // Measured after the all-gather, so its cost lands in the next window, not in this one's rate.
        window = WindowStart(step: state.globalStep, time: Date(), computeSeconds: computeSeconds, waitSeconds: waitSeconds,
                             stats: stats, dataWaitSeconds: dataWaitSeconds, pauseSeconds: pauseSeconds)
    }

    /// A `codec` line and a log line for a `--codec auto` decision.
    func recordCodecDecision(_ d: CodecDecision) throws {
        options.progress?.message(String(format: "codec auto at step %d (%@): none %.1f ms/step, zstd %.1f ms/step (slowest rank, median of %d steps each) -> %@",
                                         d.step, d.reason, d.noneStepSeconds * 1000, d.zstdStepSeconds * 1000, d.probeSteps / 2, d.chosen))
        try record(["event": "codec", "step": d.step, "epoch": state.epoch, "chosen": d.chosen, "reason": d.reason,
                    "none_step_seconds": d.noneStepSeconds, "zstd_step_seconds": d.zstdStepSeconds,
                    "probe_steps": d.probeSteps])
    }

    /// Records a training-thread span from `start` to now; returns now (the next span's start).
    @discardableResult
    func traceSpan(_ name: String, since start: Double, always: Bool = false) -> Double {
        guard tracer.isEnabled else { return 0 }
        tracer.span(name, lane: .training, start: start, always: always)
        return tracer.now()
    }

    /// Hands this rank's timeline to the coordinator, or (one process) writes the trace file.
    func finishTimeline() throws {
        guard tracer.isEnabled, let path = config.timeline else { return }
        let host = ProcessInfo.processInfo.hostName
        let events = tracer.takeEvents(processName: "rank \(communicator.rank) (\(host), pid \(getpid()))")
        if let sink = options.traceSink {
            try sink(events)
        } else if communicator.worldSize == 1 {
            try ChromeTrace.write(events, to: path)
            options.progress?.message("timeline: \(path) (open in chrome://tracing or ui.perfetto.dev)")
        }
    }
}
