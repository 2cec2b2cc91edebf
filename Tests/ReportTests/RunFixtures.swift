import Foundation

/// Synthetic run directories in a temporary folder, written the way the trainer writes them
/// (one JSON object per line, keys sorted).
struct RunFixture {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "ringtrain-report-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    static func line(_ object: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes metrics.jsonl from whole lines (each gets its newline) plus an optional
    /// unfinished tail without one.
    func writeMetrics(_ lines: [String], unfinishedTail: String? = nil) throws {
        let text = lines.map { $0 + "\n" }.joined() + (unfinishedTail ?? "")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/metrics.jsonl"))
    }

    func writeSummary(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: path + "/summary.json"))
    }

    // MARK: a small finished run in the current format

    static let classNames = ["cat", "dog", "<b>&\"x\""]
    /// Row = true class. Per class (precision, recall, f1, support):
    /// cat 5/7, 5/6, 0.7692, 6;  dog 6/7, 6/10, 0.7059, 10;  <b>&"x" 4/6, 4/4, 0.8, 4.
    static let confusion = [5, 1, 0,
                            2, 6, 2,
                            0, 0, 4]
    static let config: [String: Any] = [
        "epochs": 2, "lr": 0.05, "data": "/data/<fashion>", "codec": "bf16-zstd",
        "schedule": ["type": "cosine", "warmup_steps": 10],
        "layers": [["type": "conv", "out": 4], ["type": "relu"]],
    ]

    static func startLine(step: Int = 0, epoch: Int = 0, resumed: Bool = false) -> String {
        line(["event": "start", "step": step, "epoch": epoch, "world_size": 2, "model": "tiny-cnn", "parameters": 1234,
              "steps_per_epoch": 100, "class_names": classNames, "config": config, "resumed": resumed])
    }

    static func trainLine(step: Int, epoch: Int, loss: Double, top1: Double, lr: Double = 0.05,
                          windowSent: Double = 1_000_000, windowRaw: Double = 4_000_000) -> String {
        line(["event": "train", "step": step, "epoch": epoch, "loss": loss, "train_top1": top1, "lr": lr,
              "images_per_sec": 2000.0, "window_steps": 50, "step_compute_seconds": 0.04, "step_wait_seconds": 0.01,
              "step_encode_seconds": 0.005, "window_bytes_sent": windowSent, "window_bytes_raw": windowRaw,
              "bytes_sent": windowSent * Double(step / 50), "bytes_raw": windowRaw * Double(step / 50),
              "compute_seconds": 0.04 * Double(step), "communication_wait_seconds": 0.01 * Double(step),
              "encode_seconds": 0.005 * Double(step),
              "workers": [["rank": 0, "images_per_sec": 1000.0, "step_compute_seconds": 0.04, "step_wait_seconds": 0.01,
                           "step_encode_seconds": 0.005],
                          ["rank": 1, "images_per_sec": 990.0, "step_compute_seconds": 0.045, "step_wait_seconds": 0.006,
                           "step_encode_seconds": 0.005]]])
    }

    static func validationLine(step: Int, epoch: Int, top1: Double) -> String {
        line(["event": "validation", "step": step, "epoch": epoch, "val_loss": 0.5, "val_top1": top1, "val_top5": 1.0,
              "lr": 0.05, "val_confusion": [3, 1, 0, 1, 4, 1, 0, 0, 2]])
    }

    /// Two epochs of 100 steps: start, train lines every 50 steps, a validation and a
    /// checkpoint line per epoch, the test line.
    static let finishedLines: [String] = [
        startLine(),
        trainLine(step: 50, epoch: 0, loss: 1.2, top1: 0.4),
        trainLine(step: 100, epoch: 0, loss: 0.9, top1: 0.6),
        validationLine(step: 100, epoch: 0, top1: 0.7),
        line(["event": "checkpoint", "step": 100, "epoch": 0, "path": "checkpoints/step-00000100.safetensors"]),
        trainLine(step: 150, epoch: 1, loss: 0.6, top1: 0.75),
        trainLine(step: 200, epoch: 1, loss: 0.5, top1: 0.8),
        validationLine(step: 200, epoch: 1, top1: 0.8),
        line(["event": "checkpoint", "step": 200, "epoch": 1, "path": "checkpoints/step-00000200.safetensors"]),
        line(["event": "test", "step": 200, "epoch": 2, "test_loss": 0.45, "test_top1": 0.75, "test_top5": 1.0,
              "test_confusion": confusion]),
    ]

    static func finishedSummary(perClass: [[String: Any]]? = nil) -> [String: Any] {
        var s: [String: Any] = [
            "final_step": 200, "epochs_completed": 2, "test_loss": 0.45, "test_top1": 0.75, "test_top5": 1.0,
            "images_per_sec": 1987.5, "wall_seconds": 125.0, "world_size": 2, "compression_ratio": 4.0,
            "stopped_early": false, "best_val_top1": 0.8, "last_checkpoint": "checkpoints/step-00000200.safetensors",
            "compute_seconds": 8.0, "communication_wait_seconds": 2.0, "encode_seconds": 1.0, "bytes_sent": 4_000_000,
            "bytes_raw": 16_000_000, "model": "tiny-cnn", "class_names": classNames, "config": config,
            "test_confusion": confusion, "checkpoints": ["checkpoints/step-00000200.safetensors"],
        ]
        if let perClass { s["per_class"] = perClass }
        return s
    }

    /// The same run in the format of older versions: no `event`, no window or worker keys,
    /// cumulative counters only (as /work/runs/demo).
    static let oldFormatLines: [String] = [
        line(["step": 50, "epoch": 0, "loss": 1.3, "train_top1": 0.5, "lr": 0.01, "images_per_sec": 1500.0,
              "bytes_sent": 50_000_000, "bytes_raw": 50_000_000, "compute_seconds": 5.0, "communication_wait_seconds": 0.5]),
        line(["step": 100, "epoch": 0, "loss": 1.0, "train_top1": 0.6, "lr": 0.02, "images_per_sec": 1600.0,
              "bytes_sent": 100_000_000, "bytes_raw": 100_000_000, "compute_seconds": 10.0, "communication_wait_seconds": 1.0]),
        line(["step": 100, "epoch": 0, "val_loss": 0.7, "val_top1": 0.8, "val_top5": 0.99, "lr": 0.02]),
        line(["step": 150, "epoch": 1, "loss": 0.6, "train_top1": 0.8, "lr": 0.02, "images_per_sec": 1700.0,
              "bytes_sent": 150_000_000, "bytes_raw": 150_000_000, "compute_seconds": 15.0, "communication_wait_seconds": 1.5]),
        line(["step": 150, "epoch": 2, "test_loss": 0.65, "test_top1": 0.81, "test_top5": 0.995]),
    ]
}
