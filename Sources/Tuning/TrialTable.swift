import Foundation

/// The trials table (Markdown, so it reads in a terminal and renders in docs): best first,
/// with each rung's validation top-1.
public enum TrialTable {
    public static func markdown(_ state: TuneState) -> String {
        let ranked = Tuner.ranking(state)
        var header = "| rank | trial | epochs |"
        var rule = "|---:|---|---:|"
        for (i, e) in state.rungEpochs.enumerated() {
            header += state.rungEpochs.count > 1 ? " val top-1 @ rung \(i + 1) (\(e) ep) |" : " val top-1 (\(e) ep) |"
            rule += "---:|"
        }
        header += " values |"
        rule += "---|"
        var lines = [header, rule]
        for (place, t) in ranked.enumerated() {
            var row = "| \(place + 1) | \(t.name) | \(t.epochs) |"
            for i in 0..<state.rungEpochs.count {
                if i < t.results.count {
                    row += t.results[i] < 0 ? " failed |" : String(format: " %.2f%% |", t.results[i] * 100)
                } else {
                    row += " – |"
                }
            }
            row += " \(Tuner.describe(t.values).replacingOccurrences(of: "|", with: "\\|")) |"
            lines.append(row)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
