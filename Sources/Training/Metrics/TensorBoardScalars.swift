/// Which metrics.jsonl numbers become TensorBoard scalars, and under which tags: every number
/// of a line, tagged `<event>/<key>` (`train/loss`, `validation/val_top1`, `test/test_top1`),
/// plus each worker's throughput as `workers/images_per_sec/rank<r>` and the window's
/// compression ratio as `train/compression_ratio`. Arrays (confusion matrices) and the
/// `start` line's config are not scalars and are left out.
public enum TensorBoardScalars {
    static let skipped: Set<String> = ["step", "epoch", "event", "world_size", "parameters", "steps_per_epoch", "resumed"]

    public static func from(_ record: [String: Any]) -> [(tag: String, value: Double)] {
        let event = record["event"] as? String ?? "train"
        if event == "start" || event == "checkpoint" { return [] }
        var out: [(tag: String, value: Double)] = []
        for (key, value) in record where !skipped.contains(key) {
            if let v = number(value) { out.append(("\(event)/\(key)", v)) }
        }
        if let workers = record["workers"] as? [[String: Any]] {
            for w in workers {
                if let r = w["rank"] as? Int, let v = w["images_per_sec"].flatMap(number) {
                    out.append(("workers/images_per_sec/rank\(r)", v))
                }
            }
        }
        if let sent = record["window_bytes_sent"].flatMap(number), let raw = record["window_bytes_raw"].flatMap(number), sent > 0 {
            out.append(("train/compression_ratio", raw / sent))
        }
        return out.sorted { $0.tag < $1.tag }
    }

    static func number(_ value: Any) -> Double? {
        if let i = value as? Int { return Double(i) }
        if let d = value as? Double { return d }
        return nil
    }
}
