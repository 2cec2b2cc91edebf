import Foundation

/// `cv.json` of `ringtrain cv`, as the report reads it.
struct CrossValidationFile {
    struct Fold { var fold: Int; var run: String; var valLoss: Double; var valTop1: Double; var valTop5: Double }
    var folds: [Fold]
    var stratified: Bool
    var meanTop1: Double, stdTop1: Double, meanLoss: Double, stdLoss: Double
    var ensembleTop1: Double?, ensembleLoss: Double?

    static let fileName = "cv.json"

    /// Nil when the directory has no cv.json; one that is not a cv summary is a warning.
    static func load(directory: String, warnings: inout [String]) -> CrossValidationFile? {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        func figure(_ o: [String: Any], _ key: String, _ field: String) -> Double? { (o[key] as? [String: Any])?[field] as? Double }
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let perFold = o["per_fold"] as? [[String: Any]],
              let meanTop1 = figure(o, "val_top1", "mean"), let stdTop1 = figure(o, "val_top1", "std"),
              let meanLoss = figure(o, "val_loss", "mean"), let stdLoss = figure(o, "val_loss", "std") else {
            warnings.append("\(path): not a cv summary (per_fold, val_top1 and val_loss with mean and std); left out")
            return nil
        }
        let folds = perFold.compactMap { f -> Fold? in
            guard let i = f["fold"] as? Int else { return nil }
            return Fold(fold: i, run: f["run_directory"] as? String ?? "fold-\(i)", valLoss: f["val_loss"] as? Double ?? .nan,
                        valTop1: f["val_top1"] as? Double ?? .nan, valTop5: f["val_top5"] as? Double ?? .nan)
        }
        return CrossValidationFile(folds: folds, stratified: o["stratified"] as? Bool ?? false, meanTop1: meanTop1, stdTop1: stdTop1,
                                   meanLoss: meanLoss, stdLoss: stdLoss, ensembleTop1: o["ensemble_test_top1"] as? Double,
                                   ensembleLoss: o["ensemble_test_loss"] as? Double)
    }
}

extension ReportPage {
    /// The cv view: each fold's validation beside the mean ± std, and the folds' ensemble.
    func crossValidationSection() -> String {
        guard let cv else { return "" }
        let rows = cv.folds.map { f in
            "<tr><td>\(f.fold)</td><td><code>\(HTML.escape(f.run))</code></td><td>\(String(format: "%.4f", f.valLoss))</td>"
                + "<td>\(percent(f.valTop1))</td><td>\(percent(f.valTop5))</td></tr>"
        }.joined(separator: "\n")
        var chart = SVGChart(title: "Validation top-1 by fold", xLabel: "fold", yLabel: "val top-1 (%)",
                             series: [ChartSeries(name: "val top-1", points: cv.folds.map { (x: Double($0.fold), y: $0.valTop1 * 100) },
                                                  color: SVGChart.palette[0]),
                                      ChartSeries(name: "mean", points: cv.folds.map { (x: Double($0.fold), y: cv.meanTop1 * 100) },
                                                  color: SVGChart.palette[7], dashed: true)])
        chart.yFromZero = false
        let ensemble = cv.ensembleTop1.map { "<p>The \(cv.folds.count) folds' final models as one ensemble (mean of probabilities) on the test split: top-1 \(percent($0))" + (cv.ensembleLoss.map { String(format: ", loss %.4f", $0) } ?? "") + ".</p>" } ?? ""
        return """
        <section><h2>Cross-validation</h2>
        <p class="note">\(cv.folds.count) folds\(cv.stratified ? ", stratified by class" : ""): validation top-1 \(percent(cv.meanTop1)) ± \(String(format: "%.2f", cv.stdTop1 * 100)) points, loss \(String(format: "%.4f ± %.4f", cv.meanLoss, cv.stdLoss)) (mean ± standard deviation over the folds).</p>
        <table><thead><tr><th>fold</th><th>run</th><th>val loss</th><th>val top-1</th><th>val top-5</th></tr></thead>
        <tbody>
        \(rows)
        </tbody></table>
        \(ensemble)
        <div class="charts"><figure>\(chart.render())</figure></div></section>
        """
    }
}
