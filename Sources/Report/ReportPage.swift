import Foundation

/// The HTML page: one self-contained file (inline CSS and SVG, no scripts, nothing fetched).
/// Each section is a function of the run's records; everything from the run is escaped.
struct ReportPage {
    let runDirectory: String
    let records: RunRecords
    let summary: RunSummary?
    /// `config.json`, used only when neither summary.json nor a `start` line has the config.
    let configFile: [String: Any]?
    /// `lr_find.json`, when `ringtrain lr-find` wrote one here.
    var lrCurve: LearningRateCurveFile? = nil
    /// `cv.json`, when this is a `ringtrain cv` directory.
    var cv: CrossValidationFile? = nil
    /// A directory of lr-find or cv, without a run's metrics: only their sections.
    var isSummaryOnly: Bool { (lrCurve != nil || cv != nil) && records.train.isEmpty }

    func render() -> String {
        let name = URL(fileURLWithPath: runDirectory).standardizedFileURL.lastPathComponent
        // Derived once, for both sections' charts.
        let domain = stepDomain
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>RingTrain report: \(HTML.escape(name))</title>
        <style>\(ReportPage.css)</style>
        </head>
        <body>
        <header>
        <h1>RingTrain run report</h1>
        <p class="path">run directory <code>\(HTML.escape(runDirectory))</code></p>
        </header>
        \(isSummaryOnly ? "" : headline())
        \(crossValidationSection())
        \(learningRateCurveSection())
        \(isSummaryOnly ? "" : trainingSection(domain: domain))
        \(isSummaryOnly ? "" : systemSection(domain: domain))
        \(isSummaryOnly ? "" : classesSection())
        \(isSummaryOnly ? "" : configSection())
        \(isSummaryOnly ? "" : checkpointsSection())
        \(warningsSection())
        </body>
        </html>

        """
    }

    // MARK: headline

    func headline() -> String {
        let position = records.lastPosition
        var banner = ""
        var cards: [(String, String)] = []
        if let s = summary {
            if let final = s.finalStep, let p = position, p.step > final {
                banner = "<p class=\"banner\">summary.json is from step \(final); metrics.jsonl goes on to step \(p.step) "
                    + "(a resumed run still in progress?). The figures below are the summary's.</p>"
            }
            cards = [("test top-1", percent(s.testTop1)), ("test top-5", percent(s.testTop5)),
                     ("best validation top-1", percent(s.bestValTop1)), ("images/s", number(s.imagesPerSec, decimals: 0)),
                     ("wall time", duration(s.wallSeconds)), ("world size", s.worldSize.map(String.init) ?? "–"),
                     ("compression ratio", s.compressionRatio.map { String(format: "%.2f×", $0) } ?? "–"),
                     ("test loss", number(s.testLoss, decimals: 4)), ("steps", s.finalStep.map(String.init) ?? "–"),
                     ("epochs", s.epochsCompleted.map(String.init) ?? "–")]
            // One process sends nothing: a ratio of 1.00 there would only look like a figure.
            if s.worldSize == 1 { cards.removeAll { $0.0 == "compression ratio" } }
            if s.stoppedEarly == true { cards.append(("stopped", "early")) }
            if let model = s.model ?? records.starts.last?.model { cards.append(("model", model)) }
        } else {
            let step = position?.step ?? 0, epoch = (position?.epoch ?? 0) + 1
            let epochs = (records.starts.last?.config?["epochs"]).flatMap(JSONValues.int)
                ?? (configFile?["epochs"]).flatMap(JSONValues.int)
            banner = "<p class=\"banner progress\">run in progress (no summary.json yet): step \(step), epoch \(epoch)"
                + (epochs.map { " of \($0)" } ?? "") + "</p>"
            let lastTrain = records.train.last, lastVal = records.validation.last
            cards = [("train loss (latest)", number(lastTrain?.loss, decimals: 4)),
                     ("train top-1 (latest)", percent(lastTrain?.trainTop1)),
                     ("validation top-1 (latest)", percent(lastVal?.top1)),
                     ("best validation top-1 so far", percent(records.validation.compactMap(\.top1).max())),
                     ("images/s (latest window)", number(lastTrain?.imagesPerSec, decimals: 0)),
                     ("world size", records.starts.last?.worldSize.map(String.init) ?? "–")]
            if let model = records.starts.last?.model { cards.append(("model", model)) }
        }
        let items = cards.map { "<div class=\"card\"><div class=\"value\">\(HTML.escape($0.1))</div><div class=\"key\">\(HTML.escape($0.0))</div></div>" }
        return "<section class=\"headline\">\(banner)<div class=\"cards\">\(items.joined())</div></section>"
    }

    // MARK: charts

    /// The steps every chart against steps spans, so that their x axes line up: from the
    /// first step any of them has a point at to the last.
    var stepDomain: (lower: Double, upper: Double)? {
        let series = RunSeries.loss(records) + RunSeries.accuracy(records) + RunSeries.learningRate(records)
            + RunSeries.throughput(records) + RunSeries.stepTimes(records).series + RunSeries.bytes(records)
        let xs = series.flatMap { $0.points.map(\.x) }
        guard let lower = xs.min(), let upper = xs.max() else { return nil }
        return (lower, upper)
    }

    func trainingSection(domain: (lower: Double, upper: Double)?) -> String {
        let marks = RunSeries.epochMarks(records)
        func chart(_ title: String, _ y: String, _ series: [ChartSeries], fromZero: Bool = false) -> String {
            var c = SVGChart(title: title, xLabel: "step", yLabel: y, series: series)
            c.marks = marks
            c.yFromZero = fromZero
            c.xDomain = domain
            return "<figure>\(c.render())</figure>"
        }
        return """
        <section><h2>Training</h2>
        <p class="note">Against optimizer steps; dashed verticals mark the epoch boundaries (labelled with the epoch that starts there).</p>
        <div class="charts">
        \(chart("Loss", "loss", RunSeries.loss(records)))
        \(chart("Accuracy", "accuracy (%)", RunSeries.accuracy(records)))
        \(chart("Learning rate", "learning rate", RunSeries.learningRate(records), fromZero: true))
        </div>\(scheduleNote())</section>
        """
    }

    /// The coordinator's plateau cuts and early stop, one sentence each (the decisions that
    /// changed nothing are left out).
    func scheduleNote() -> String {
        let changes = records.scheduleDecisions.filter { $0.reducedLR || $0.stop }
        guard !changes.isEmpty else { return "" }
        func number(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "–" }
        let items = changes.map { d in
            let what = [d.reducedLR ? "learning rate cut to \(number(d.lr, "%.3g"))" : nil, d.stop ? "early stopping" : nil]
                .compactMap { $0 }.joined(separator: ", ")
            return "<li>step \(d.step) (epoch \(d.epoch + 1), \(HTML.escape(d.monitor)) \(number(d.metric, "%.4g"))): <b>\(what)</b></li>"
        }
        return "<p class=\"note\">Scheduler decisions (taken by the coordinator):</p><ul class=\"note\">\(items.joined())</ul>"
    }

    /// Throughput and communication. Charts with nothing to show are left out, with one line
    /// that says why: a single process has no all-reduce (no wait, bytes or compression), and
    /// codec `none` sends gradients raw (a ratio of exactly 1 throughout).
    func systemSection(domain: (lower: Double, upper: Double)?) -> String {
        let marks = RunSeries.epochMarks(records)
        func chart(_ title: String, _ y: String, _ series: [ChartSeries], fromZero: Bool = true) -> String {
            var c = SVGChart(title: title, xLabel: "step", yLabel: y, series: series)
            c.marks = marks
            c.yFromZero = fromZero
            c.xDomain = domain
            return "<figure>\(c.render())</figure>"
        }
        var (times, derived) = RunSeries.stepTimes(records)
        let workerWait = RunSeries.workerWait(records)
        let noTraffic = !records.train.isEmpty
            && records.train.allSatisfy { ($0.windowBytesSent ?? $0.bytesSent ?? 0) == 0 }
        let ratio = RunSeries.compressionRatio(records)
        let raw = !noTraffic && !ratio[0].points.isEmpty && ratio[0].points.allSatisfy { $0.y == 1 }
        // A series that is zero at every point (no all-reduce, no encoding) is not drawn.
        times = times.filter { series in !series.points.allSatisfy { $0.y == 0 } || series.name == "compute" }
        var notes: [String] = []
        if noTraffic {
            notes.append("No all-reduce traffic (a single process): the wait, bytes and compression charts are left out.")
        } else if raw {
            notes.append("Codec none: gradients travel raw (a compression ratio of 1.00 throughout), so that chart is left out.")
        }
        if derived { notes.append("Some step times are derived from the cumulative compute and wait counters (lines written by an older version).") }
        if records.train.contains(where: { $0.windowPauseSeconds != nil }) {
            notes.append("Images/s counts training time only: validation and checkpoints are left out of each window.")
        }
        var charts = [chart("Images/s per worker", "images/s", RunSeries.throughput(records)),
                      chart("Time per step (rank 0)", "ms per step", times)]
        if !noTraffic {
            if !workerWait.isEmpty { charts.append(chart("Waiting for the all-reduce, per worker", "ms per step", workerWait)) }
            charts.append(chart("All-reduce bytes per step (rank 0)", "MB per step", RunSeries.bytes(records)))
            if !raw { charts.append(chart("Compression ratio", "raw / on the wire", ratio, fromZero: false)) }
        }
        let noteText = notes.map { "<p class=\"note\">\(HTML.escape($0))</p>" }.joined()
        return """
        <section><h2>Throughput and communication</h2>
        <div class="charts">
        \(charts.joined(separator: "\n"))
        </div>\(noteText)\(codecNote())</section>
        """
    }

    /// `--codec auto`'s decisions, one sentence each.
    func codecNote() -> String {
        guard !records.codecDecisions.isEmpty else { return "" }
        func ms(_ v: Double?) -> String { v.map { String(format: "%.1f ms", $0 * 1000) } ?? "–" }
        let items = records.codecDecisions.map { d in
            "<li>step \(d.step) (\(HTML.escape(d.reason))): none \(ms(d.noneStepSeconds)), zstd \(ms(d.zstdStepSeconds)) per step → <b>\(HTML.escape(d.chosen))</b></li>"
        }
        return "<p class=\"note\">--codec auto (slowest rank's median step time with each):</p><ul class=\"note\">\(items.joined())</ul>"
    }

    // MARK: confusion matrix and per-class table

    /// The matrix shown and where it comes from: summary.json's test matrix, else the last
    /// `test` line's, else the latest validation line's.
    func confusionSource() -> (flat: [Int], caption: String)? {
        if let m = summary?.testConfusion { return (m, "Test split (summary.json <code>test_confusion</code>).") }
        if let t = records.test.last(where: { $0.confusion != nil }) {
            return (t.confusion!, "Test split (metrics.jsonl <code>test</code> line at step \(t.step)).")
        }
        if let v = records.validation.last(where: { $0.confusion != nil }) {
            return (v.confusion!, "Validation split at step \(v.step), epoch \(v.epoch + 1) (latest <code>validation</code> line; no test matrix yet).")
        }
        return nil
    }

    /// summary.json's `class_names`, else the latest `start` line's.
    var namedClasses: [String]? { summary?.classNames ?? records.starts.last(where: { $0.classNames != nil })?.classNames }

    func classesSection() -> String {
        guard let source = confusionSource() else {
            return """
            <section><h2>Confusion matrix</h2><p class="nodata">no data yet (no confusion matrix in summary.json or metrics.jsonl)</p>
            \(perClassTable(summary?.namedPerClass(namedClasses ?? []), caption: "summary.json <code>per_class</code>")
               ?? "<h3>Per class</h3><p class=\"nodata\">no data yet (no per-class figures recorded)</p>")
            </section>
            """
        }
        guard let matrix = ConfusionMatrix(flat: source.flat) else {
            return "<section><h2>Confusion matrix</h2><p class=\"nodata\">the confusion matrix has \(source.flat.count) counts, not a square number: not shown</p></section>"
        }
        var names = (0..<matrix.classes).map(String.init)
        var namesNote = "Classes are numbered: no class names were recorded."
        if let recorded = namedClasses {
            if recorded.count == matrix.classes {
                names = recorded
                namesNote = ""
            } else {
                namesNote = "The \(recorded.count) recorded class names do not match the \(matrix.classes) classes: classes are numbered."
            }
        }
        let accuracy = matrix.total > 0 ? String(format: " %d of %d right (%.2f%%).", matrix.correct, matrix.total,
                                                 Double(matrix.correct) / Double(matrix.total) * 100) : ""
        let rows: [ClassFigures]
        let tableCaption: String
        if let fromSummary = summary?.namedPerClass(names), !fromSummary.isEmpty {
            rows = fromSummary
            tableCaption = "summary.json <code>per_class</code>"
        } else {
            rows = matrix.perClass(names: names)
            tableCaption = "computed from the confusion matrix above"
        }
        return """
        <section><h2>Confusion matrix</h2>
        <p class="note">\(source.caption)\(accuracy) Rows: true class; columns: predicted class. Cell colour: share of the row (blue: right, red: mistaken). \(namesNote)</p>
        <figure class="wide">\(Heatmap(matrix: matrix, classNames: names).render())</figure>
        \(perClassTable(rows, caption: tableCaption) ?? "")
        </section>
        """
    }

    /// Nil without rows.
    func perClassTable(_ rows: [ClassFigures]?, caption: String) -> String? {
        guard let rows, !rows.isEmpty else { return nil }
        func cell(_ x: Double) -> String { String(format: "%.4f", x) }
        let body = rows.map { r in
            "<tr><th scope=\"row\">\(HTML.escape(r.name))</th><td>\(cell(r.precision))</td><td>\(cell(r.recall))</td><td>\(cell(r.f1))</td><td>\(r.support)</td></tr>"
        }
        let n = Double(rows.count)
        let macro = "<tr class=\"total\"><th scope=\"row\">macro average</th><td>\(cell(rows.map(\.precision).reduce(0, +) / n))</td>"
            + "<td>\(cell(rows.map(\.recall).reduce(0, +) / n))</td><td>\(cell(rows.map(\.f1).reduce(0, +) / n))</td>"
            + "<td>\(rows.map(\.support).reduce(0, +))</td></tr>"
        return """
        <h3>Per class</h3>
        <table class="perclass"><caption>\(caption)</caption>
        <thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead>
        <tbody>
        \(body.joined(separator: "\n"))
        \(macro)
        </tbody></table>
        """
    }

    // MARK: config, checkpoints, warnings

    func configSection() -> String {
        let source: (config: [String: Any], from: String)?
        if let c = summary?.config {
            source = (c, "summary.json <code>config</code>")
        } else if let start = records.starts.last(where: { $0.config != nil }) {
            source = (start.config!, "the latest <code>start</code> line of metrics.jsonl (step \(start.step))")
        } else if let c = configFile {
            source = (c, "config.json (no config in summary.json or metrics.jsonl)")
        } else {
            source = nil
        }
        guard let source else {
            return "<section><h2>Config</h2><p class=\"nodata\">no data yet (no resolved config recorded)</p></section>"
        }
        let rows = ReportPage.flatten(source.config).map { key, value in
            "<tr><th scope=\"row\">\(HTML.escape(key))</th><td>\(HTML.escape(value))</td></tr>"
        }
        return """
        <section><h2>Config</h2>
        <p class="note">The resolved config, from \(source.from).</p>
        <table class="config"><tbody>
        \(rows.joined(separator: "\n"))
        </tbody></table>
        <details><summary>as JSON</summary><pre>\(HTML.escape(JSONValues.prettyText(source.config)))</pre></details>
        </section>
        """
    }

    /// Nested objects become dotted keys; arrays of objects (the layers) one element a line.
    static func flatten(_ object: [String: Any], prefix: String = "") -> [(String, String)] {
        object.keys.sorted().flatMap { key -> [(String, String)] in
            let path = prefix.isEmpty ? key : prefix + "." + key
            let value = object[key]!
            if let nested = value as? [String: Any], !nested.isEmpty { return flatten(nested, prefix: path) }
            if let array = value as? [Any], array.contains(where: { $0 is [String: Any] }) {
                return [(path, array.map(JSONValues.compactText).joined(separator: "\n"))]
            }
            return [(path, JSONValues.compactText(value))]
        }
    }

    func checkpointsSection() -> String {
        let kept = summary?.checkpoints
        let keptNames = Set((kept ?? []).map { URL(fileURLWithPath: $0).lastPathComponent })
        var rows: [(step: String, path: String, status: String)] = []
        var listed = Set<String>()
        for c in records.checkpoints {
            let name = URL(fileURLWithPath: c.path).lastPathComponent
            listed.insert(name)
            let status = kept == nil ? "" : keptNames.contains(name) ? "kept" : "removed since (keep_checkpoints)"
            rows.append((String(c.step), c.path, status))
        }
        for path in kept ?? [] where !listed.contains(URL(fileURLWithPath: path).lastPathComponent) {
            rows.append((ReportPage.step(inCheckpointName: path).map(String.init) ?? "–", path, "kept"))
        }
        if rows.isEmpty, let last = summary?.lastCheckpoint {
            rows.append((ReportPage.step(inCheckpointName: last).map(String.init) ?? "–", last, "last checkpoint (summary.json)"))
        }
        guard !rows.isEmpty else {
            return "<section><h2>Checkpoints</h2><p class=\"nodata\">no data yet (no checkpoint recorded)</p></section>"
        }
        let body = rows.map { "<tr><td>\(HTML.escape($0.step))</td><td><code>\(HTML.escape($0.path))</code></td><td>\(HTML.escape($0.status))</td></tr>" }
        return """
        <section><h2>Checkpoints</h2>
        <p class="note">From <code>checkpoint</code> lines of metrics.jsonl and summary.json's <code>checkpoints</code> (the files kept at the end, relative to the run directory).</p>
        <table class="checkpoints"><thead><tr><th>step</th><th>file</th><th></th></tr></thead><tbody>
        \(body.joined(separator: "\n"))
        </tbody></table></section>
        """
    }

    /// The step in a checkpoint file name such as `step-00002110.safetensors`.
    static func step(inCheckpointName path: String) -> Int? {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        guard name.hasPrefix("step-") else { return nil }
        return Int(name.dropFirst(5))
    }

    func warningsSection() -> String {
        guard !records.warnings.isEmpty else { return "" }
        let items = records.warnings.prefix(100).map { "<li>\(HTML.escape($0))</li>" }
        let more = records.warnings.count > 100 ? "<li>… and \(records.warnings.count - 100) more</li>" : ""
        return "<section><h2>Warnings</h2><ul class=\"warnings\">\(items.joined())\(more)</ul></section>"
    }

    // MARK: formatting

    func percent(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "–" }

    func number(_ x: Double?, decimals: Int) -> String {
        guard let x else { return "–" }
        if decimals == 0 {
            let formatter = NumberFormatter()
            formatter.numberStyle = .decimal
            formatter.maximumFractionDigits = 0
            formatter.locale = Locale(identifier: "en_US")
            return formatter.string(from: NSNumber(value: x)) ?? String(format: "%.0f", x)
        }
        return String(format: "%.\(decimals)f", x)
    }

    func duration(_ seconds: Double?) -> String {
        guard let s = seconds else { return "–" }
        if s < 60 { return String(format: "%.1f s", s) }
        let total = Int(s.rounded())
        if total < 3600 { return "\(total / 60) min \(total % 60) s" }
        return "\(total / 3600) h \(total % 3600 / 60) min"
    }

    static let css = """
    body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 24px auto; max-width: 1280px; padding: 0 16px; color: #1a1a1a; background: #ffffff; }
    h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; } h3 { font-size: 16px; }
    .path, .note { color: #555555; font-size: 14px; } code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
    .banner { background: #eef4fb; border: 1px solid #9cc0e6; border-radius: 6px; padding: 10px 14px; font-weight: 600; }
    .banner.progress { background: #fff6e0; border-color: #e5b84b; }
    .cards { display: flex; flex-wrap: wrap; gap: 10px; }
    .card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; min-width: 120px; background: #f6f8fa; }
    .card .value { font-size: 20px; font-weight: 600; } .card .key { font-size: 13px; color: #555555; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
    figure { margin: 0; } svg.chart { width: 100%; height: auto; } figure.wide { overflow-x: auto; }
    svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
    svg .title { font-size: 14px; font-weight: 600; fill: #1a1a1a; } svg .tick { font-size: 11px; fill: #444444; }
    svg .label, svg .legend { font-size: 12px; fill: #333333; } svg .marklabel { font-size: 10px; fill: #777777; }
    svg .nodata { font-size: 15px; fill: #888888; font-style: italic; }
    svg .grid { stroke: #e6e6e6; stroke-width: 1; } svg .axis { stroke: #888888; stroke-width: 1; }
    svg .frame { fill: none; stroke: #888888; stroke-width: 1; } svg .empty { fill: #fafafa; stroke: #dddddd; stroke-dasharray: 4 4; }
    svg .mark { stroke: #9a9a9a; stroke-width: 1; stroke-dasharray: 3 3; } svg .cell { stroke: #ffffff; stroke-width: 1; }
    p.nodata { color: #888888; font-style: italic; }
    table { border-collapse: collapse; font-size: 14px; margin: 8px 0; } caption { text-align: left; color: #555555; font-size: 13px; padding-bottom: 4px; }
    th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
    table.perclass td { text-align: right; font-variant-numeric: tabular-nums; } tr.total th, tr.total td { font-weight: 600; background: #f6f8fa; }
    table.config td { white-space: pre-wrap; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; }
    pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 13px; } ul.warnings { color: #8a4b00; }
    """
}
