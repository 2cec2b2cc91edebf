import Foundation

/// The trials table (Markdown, so it reads in a terminal and renders in docs): best first,
/// with each rung's ranking metric.
public enum TrialTable {
    public static func markdown(_ state: TuneState) -> String {
        let ranked = Tuner.ranking(state)
        var header = "| rank | trial | epochs |"
        var rule = "|---:|---|---:|"
        for (i, e) in state.rungEpochs.enumerated() {
            let label = state.metric.label
            header += state.rungEpochs.count > 1 ? " \(label) @ rung \(i + 1) (\(e) ep) |" : " \(label) (\(e) ep) |"
            rule += "---:|"
        }
        header += " values |"
        rule += "---|"
        var lines = [header, rule]
        for (place, t) in ranked.enumerated() {
            var row = "| \(place + 1) | \(t.name) | \(t.epochs) |"
            for i in 0..<state.rungEpochs.count {
                if i < t.results.count {
                    row += t.results[i] < 0 ? " failed |" : " \(state.metric.format(t.results[i])) |"
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
