import Foundation

/// One rank's figures in a `train` line's `workers` array.
public struct WorkerSample: Equatable {
    public var rank: Int
    public var imagesPerSec: Double?
    public var stepComputeSeconds: Double?
    public var stepWaitSeconds: Double?
    public var stepEncodeSeconds: Double?
}

/// A `start` line: once per process start of the run.
public struct StartRecord {
    public var step: Int
    public var epoch: Int
    public var worldSize: Int?
    public var model: String?
    public var parameters: Int?
    public var stepsPerEpoch: Int?
    public var classNames: [String]?
    /// The resolved config object, as decoded by JSONSerialization.
    public var config: [String: Any]?
    public var resumed: Bool?
}

/// A `train` line (or an old line with neither `val_loss` nor `test_loss`). Every figure is
/// optional: old lines lack the window and per-worker keys.
public struct TrainRecord {
    public var step: Int
    public var epoch: Int
    public var loss: Double?
    public var trainTop1: Double?
    public var lr: Double?
    public var imagesPerSec: Double?
    public var windowSteps: Int?
    public var stepComputeSeconds: Double?
    public var stepWaitSeconds: Double?
    public var stepEncodeSeconds: Double?
    public var windowBytesSent: Double?
    public var windowBytesRaw: Double?
    public var bytesSent: Double?
    public var bytesRaw: Double?
    public var computeSeconds: Double?
    public var communicationWaitSeconds: Double?
    public var encodeSeconds: Double?
    /// Empty for old lines.
    public var workers: [WorkerSample]
    /// How many `start` lines came before this line: it changes where a new process took
    /// over (and its cumulative counters began again at zero). Always 0 in older files.
    public var process: Int = 0
    /// `lr_points`: (step, lr) pairs that redraw the window's learning rate; empty for old lines.
    public var lrPoints: [(x: Double, y: Double)] = []
    /// Seconds of validation and checkpoints in the window (left out of its images/s).
    public var windowPauseSeconds: Double?
}

/// A `validation` line.
public struct ValidationRecord {
    public var step: Int
    public var epoch: Int
    public var loss: Double?
    public var top1: Double?
    public var top5: Double?
    public var lr: Double?
    /// Flat row-major classes x classes counts (row = true class), if written.
    public var confusion: [Int]?
}

/// A `test` line.
public struct TestRecord {
    public var step: Int
    public var epoch: Int
    public var loss: Double?
    public var top1: Double?
    public var top5: Double?
    public var confusion: [Int]?
}

/// A `checkpoint` line.
public struct CheckpointRecord: Equatable {
    public var step: Int
    public var epoch: Int
    public var path: String
}

/// A `codec` line: one `--codec auto` decision.
public struct CodecRecord: Equatable {
    public var step: Int
    public var chosen: String
    public var reason: String
    public var noneStepSeconds: Double?
    public var zstdStepSeconds: Double?
}

/// A `schedule` line: the coordinator's decision on one validation result (distributed runs).
public struct ScheduleRecord: Equatable {
    public var step: Int
    public var epoch: Int
    public var monitor: String
    public var metric: Double?
    public var lr: Double?
    public var reducedLR: Bool
    public var stop: Bool
}

/// The lines of `metrics.jsonl`, typed and in file order per kind.
public struct RunRecords {
    public var starts: [StartRecord] = []
    public var train: [TrainRecord] = []
    public var validation: [ValidationRecord] = []
    public var test: [TestRecord] = []
    public var checkpoints: [CheckpointRecord] = []
    public var codecDecisions: [CodecRecord] = []
    public var scheduleDecisions: [ScheduleRecord] = []
    /// (step, epoch) of every train and validation line in file order: what epoch
    /// boundaries and the "in progress" banner are read from.
    public var progress: [(step: Int, epoch: Int)] = []
    /// Skipped lines and other oddities, each naming the file and line.
    public var warnings: [String] = []

    public init() {}

    /// The highest step and the epoch of the last line that carries one.
    public var lastPosition: (step: Int, epoch: Int)? {
        guard let last = progress.last else { return nil }
        return (progress.map(\.step).max() ?? last.step, last.epoch)
    }

    /// Reads `metrics.jsonl` at `path`; throws only if it is missing or unreadable.
    public static func load(metricsPath path: String) throws -> RunRecords {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReportError.missingFile(path: path)
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw ReportError.unreadableFile(path: path)
        }
        return parse(data, fileName: path)
    }

    /// Parses the bytes of a `metrics.jsonl`. A line that is not a JSON object with a `step`
    /// is skipped with a warning naming `fileName` and the 1-based line number, except the
    /// last line when the file does not end in a newline: that is a line the trainer is
    /// still appending, and it is skipped silently.
    public static func parse(_ data: Data, fileName: String) -> RunRecords {
        var records = RunRecords()
        let bytes = [UInt8](data)
        let endsWithNewline = bytes.last == 0x0A
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if endsWithNewline { lines.removeLast() }
        var unknownEvents: [String: Int] = [:]
        for (index, line) in lines.enumerated() {
            let number = index + 1
            let isUnfinished = index == lines.count - 1 && !endsWithNewline
            var text = Data(line)
            if text.last == 0x0D { text.removeLast() }
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any] else {
                if !isUnfinished { records.warnings.append("\(fileName) line \(number): not a JSON object; skipped") }
                continue
            }
            guard let step = JSONValues.int(object["step"]) else {
                records.warnings.append("\(fileName) line \(number): no integer \"step\"; skipped")
                continue
            }
            let epoch = JSONValues.int(object["epoch"]) ?? records.progress.last?.epoch ?? 0
            switch eventKind(of: object) {
            case "start": records.starts.append(startRecord(object, step: step, epoch: epoch))
            case "train":
                var train = trainRecord(object, step: step, epoch: epoch)
                train.process = records.starts.count
                records.train.append(train)
                records.progress.append((step, epoch))
            case "validation":
                records.validation.append(validationRecord(object, step: step, epoch: epoch))
                records.progress.append((step, epoch))
            case "test":
                records.test.append(TestRecord(step: step, epoch: epoch, loss: JSONValues.double(object["test_loss"]),
                                               top1: JSONValues.double(object["test_top1"]),
                                               top5: JSONValues.double(object["test_top5"]),
                                               confusion: JSONValues.ints(object["test_confusion"])))
            case "checkpoint":
                records.checkpoints.append(CheckpointRecord(step: step, epoch: epoch,
                                                            path: JSONValues.string(object["path"]) ?? "?"))
            case "codec":
                records.codecDecisions.append(CodecRecord(step: step, chosen: JSONValues.string(object["chosen"]) ?? "?",
                                                          reason: JSONValues.string(object["reason"]) ?? "?",
                                                          noneStepSeconds: JSONValues.double(object["none_step_seconds"]),
                                                          zstdStepSeconds: JSONValues.double(object["zstd_step_seconds"])))
            case "schedule":
                records.scheduleDecisions.append(ScheduleRecord(step: step, epoch: epoch,
                                                                monitor: JSONValues.string(object["monitor"]) ?? "metric",
                                                                metric: JSONValues.double(object["metric"]),
                                                                lr: JSONValues.double(object["lr"]),
                                                                reducedLR: JSONValues.bool(object["reduced_lr"]) ?? false,
                                                                stop: JSONValues.bool(object["stop"]) ?? false))
            case let other:
                if unknownEvents[other] == nil { unknownEvents[other] = number }
            }
        }
        // Newer writers may add events this reader does not know: say so once per kind.
        for (event, line) in unknownEvents.sorted(by: { $0.value < $1.value }) {
            records.warnings.append("\(fileName) line \(line): unknown event \"\(event)\"; lines of that kind ignored")
        }
        return records
    }

    /// The line's `event`, or for lines of older versions (no `event`): `validation` if it
    /// has `val_loss`, `test` if it has `test_loss`, else `train`.
    static func eventKind(of object: [String: Any]) -> String {
        if let event = object["event"] as? String { return event }
        if object["val_loss"] != nil { return "validation" }
        if object["test_loss"] != nil { return "test" }
        return "train"
    }

    static func startRecord(_ o: [String: Any], step: Int, epoch: Int) -> StartRecord {
        StartRecord(step: step, epoch: epoch, worldSize: JSONValues.int(o["world_size"]), model: JSONValues.string(o["model"]),
                    parameters: JSONValues.int(o["parameters"]), stepsPerEpoch: JSONValues.int(o["steps_per_epoch"]),
                    classNames: JSONValues.strings(o["class_names"]), config: o["config"] as? [String: Any],
                    resumed: JSONValues.bool(o["resumed"]))
    }

    static func trainRecord(_ o: [String: Any], step: Int, epoch: Int) -> TrainRecord {
        let d = { (key: String) in JSONValues.double(o[key]) }
        let workers = (o["workers"] as? [Any] ?? []).enumerated().compactMap { (i, w) -> WorkerSample? in
            guard let w = w as? [String: Any] else { return nil }
            return WorkerSample(rank: JSONValues.int(w["rank"]) ?? i, imagesPerSec: JSONValues.double(w["images_per_sec"]),
                                stepComputeSeconds: JSONValues.double(w["step_compute_seconds"]),
                                stepWaitSeconds: JSONValues.double(w["step_wait_seconds"]),
                                stepEncodeSeconds: JSONValues.double(w["step_encode_seconds"]))
        }
        var record = TrainRecord(step: step, epoch: epoch, loss: d("loss"), trainTop1: d("train_top1"), lr: d("lr"),
                           imagesPerSec: d("images_per_sec"), windowSteps: JSONValues.int(o["window_steps"]),
                           stepComputeSeconds: d("step_compute_seconds"), stepWaitSeconds: d("step_wait_seconds"),
                           stepEncodeSeconds: d("step_encode_seconds"), windowBytesSent: d("window_bytes_sent"),
                           windowBytesRaw: d("window_bytes_raw"), bytesSent: d("bytes_sent"), bytesRaw: d("bytes_raw"),
                           computeSeconds: d("compute_seconds"), communicationWaitSeconds: d("communication_wait_seconds"),
                           encodeSeconds: d("encode_seconds"), workers: workers)
        record.lrPoints = (o["lr_points"] as? [Any] ?? []).compactMap { pair in
            guard let p = pair as? [Any], p.count == 2, let x = JSONValues.double(p[0]), let y = JSONValues.double(p[1]) else { return nil }
            return (x, y)
        }
        record.windowPauseSeconds = d("window_pause_seconds")
        return record
    }

    static func validationRecord(_ o: [String: Any], step: Int, epoch: Int) -> ValidationRecord {
        ValidationRecord(step: step, epoch: epoch, loss: JSONValues.double(o["val_loss"]), top1: JSONValues.double(o["val_top1"]),
                         top5: JSONValues.double(o["val_top5"]), lr: JSONValues.double(o["lr"]),
                         confusion: JSONValues.ints(o["val_confusion"]))
    }
}
