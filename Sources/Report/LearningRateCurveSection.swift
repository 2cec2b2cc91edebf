import Foundation

/// `lr_find.json` of `ringtrain lr-find`, as the report reads it: the sweep's learning rates,
/// raw and smoothed losses, and the suggestion.
struct LearningRateCurveFile {
    var lrs: [Double]
    var losses: [Double]
    var smoothed: [Double]
    var suggestedLR: Double?
    var stoppedEarly: Bool

    static let fileName = "lr_find.json"

    /// Nil when the run directory has no curve; a file that is not one is a warning naming it.
    static func load(directory: String, warnings: inout [String]) -> LearningRateCurveFile? {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let lrs = o["lrs"] as? [Double], let losses = o["losses"] as? [Double],
              let smoothed = o["smoothed_losses"] as? [Double], lrs.count == losses.count, lrs.count == smoothed.count else {
            warnings.append("\(path): not a learning-rate curve (lrs, losses and smoothed_losses of one length); left out")
            return nil
        }
        return LearningRateCurveFile(lrs: lrs, losses: losses, smoothed: smoothed, suggestedLR: o["suggested_lr"] as? Double,
                                     stoppedEarly: o["stopped_early"] as? Bool ?? false)
    }
}

extension ReportPage {
    /// The learning-rate finder's curve: loss against log10(lr), the suggestion marked.
    func learningRateCurveSection() -> String {
        guard let curve = lrCurve else { return "" }
        let points = zip(curve.lrs, curve.losses).filter { $0.0 > 0 }.map { (x: log10($0.0), y: $0.1) }
        let smooth = zip(curve.lrs, curve.smoothed).filter { $0.0 > 0 }.map { (x: log10($0.0), y: $0.1) }
        var chart = SVGChart(title: "Learning-rate finder", xLabel: "log10 learning rate", yLabel: "loss",
                             series: [ChartSeries(name: "loss", points: points, color: SVGChart.palette[7]),
                                      ChartSeries(name: "smoothed loss", points: smooth, color: SVGChart.palette[0])])
        if let lr = curve.suggestedLR, lr > 0 {
            chart.marks = [ChartMark(x: log10(lr), label: String(format: "%.2g", lr))]
            chart.marksLegend = "suggested learning rate"
        }
        let note = (curve.suggestedLR.map { String(format: "Suggested learning rate %.3g: where the smoothed loss falls fastest. ", $0) }
                    ?? "No suggestion: too few steps. ")
            + "\(curve.lrs.count) steps" + (curve.stoppedEarly ? ", stopped when the loss diverged." : ".")
        return """
        <section><h2>Learning-rate finder</h2>
        <p class="note">\(HTML.escape(note))</p>
        <div class="charts"><figure>\(chart.render())</figure></div></section>
        """
    }
}
