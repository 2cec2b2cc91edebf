import Foundation
import Report
import XCTest

/// The whole page from synthetic run directories, through the public entry point.
final class ReportRendererTests: XCTestCase {
    var fixtures: [RunFixture] = []

    override func tearDown() {
        for f in fixtures { f.remove() }
    }

    func makeRun() throws -> RunFixture {
        let f = try RunFixture()
        fixtures.append(f)
        return f
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testFinishedRunHasEverySectionWithData() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.finishedLines)
        try run.writeSummary(RunFixture.finishedSummary())
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings, [])

        for title in ["Loss", "Accuracy", "Learning rate", "Images/s per worker", "Time per step (rank 0)",
                      "Waiting for the all-reduce, per worker", "All-reduce bytes per step (rank 0)", "Compression ratio",
                      "Confusion matrix", "Per class", "Config", "Checkpoints"] {
            XCTAssertTrue(html.contains(">\(title)<"), "section or chart \(title) is missing")
        }
        // 8 charts (3 training, 5 system with per-worker waits) and the heatmap.
        XCTAssertEqual(count("<svg", in: html), 9)
        XCTAssertEqual(count("</svg>", in: html), 9)
        XCTAssertFalse(html.contains("no data yet"), "every chart of a finished run has data")
        XCTAssertFalse(html.contains("run in progress"))

        // Headline figures from summary.json.
        for figure in ["75.00%", "100.00%", "80.00%", "1,988", "2 min 5 s", "4.00×", "tiny-cnn"] {
            XCTAssertTrue(html.contains(">\(figure)<"), "headline figure \(figure) is missing")
        }
        // Workers as series, epoch boundary at step 100 labelled with the epoch that starts.
        XCTAssertTrue(html.contains(">rank 0<") && html.contains(">rank 1<"))
        XCTAssertTrue(html.contains(">ep 2<"))
        // Per-step bytes: 1 MB per 50 steps on the wire = 0.02 MB/step; raw 4x; ratio 4.
        XCTAssertTrue(html.contains("on the wire at step 150: 0.02<"), "bytes per step from window_bytes_sent")
        XCTAssertTrue(html.contains("raw / on the wire at step 150: 4<"))

        // The confusion matrix shown is the test one, with class names on both axes.
        XCTAssertTrue(html.contains("Test split (summary.json <code>test_confusion</code>)"))
        XCTAssertTrue(html.contains("15 of 20 right (75.00%)"))
        XCTAssertGreaterThanOrEqual(count(">cat<title>cat</title></text>", in: html), 2, "cat labels a row and a column")
        XCTAssertGreaterThanOrEqual(count(">dog<title>dog</title></text>", in: html), 2)

        // The config as a table (nested keys dotted) and the checkpoints with their steps.
        XCTAssertTrue(html.contains("<th scope=\"row\">schedule.warmup_steps</th><td>10</td>"))
        XCTAssertTrue(html.contains("<th scope=\"row\">codec</th><td>bf16-zstd</td>"))
        XCTAssertTrue(html.contains("<tr><td>100</td><td><code>checkpoints/step-00000100.safetensors</code></td><td>removed since (keep_checkpoints)</td></tr>"))
        XCTAssertTrue(html.contains("<tr><td>200</td><td><code>checkpoints/step-00000200.safetensors</code></td><td>kept</td></tr>"))
    }

    /// Without `per_class` in the summary the table is computed from the matrix shown.
    /// `--codec auto` decisions (`codec` lines) are read, not warned about, and listed under
    /// the communication charts.
    func testCodecAutoDecisionsAreListed() throws {
        let run = try makeRun()
        let codec = RunFixture.line(["event": "codec", "step": 15, "epoch": 0, "chosen": "zstd", "reason": "start",
                                     "none_step_seconds": 0.331, "zstd_step_seconds": 0.286, "probe_steps": 12])
        try run.writeMetrics(RunFixture.finishedLines + [codec])
        try run.writeSummary(RunFixture.finishedSummary())
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings, [])
        XCTAssertTrue(html.contains("--codec auto"), html)
        XCTAssertTrue(html.contains("step 15 (start): none 331.0 ms, zstd 286.0 ms per step → <b>zstd</b>"), html)
    }

    /// The coordinator's scheduler decisions (`schedule` lines) are read, not warned about; the
    /// cuts and the early stop are listed under the training charts, the others left out.
    func testSchedulerDecisionsAreListed() throws {
        let run = try makeRun()
        func decision(_ step: Int, _ epoch: Int, _ metric: Double, _ lr: Double, reduced: Bool, stop: Bool) -> String {
            RunFixture.line(["event": "schedule", "step": step, "epoch": epoch, "monitor": "val_loss", "metric": metric, "lr": lr,
                             "reduced_lr": reduced, "stop": stop, "is_best": false, "decided_by": "coordinator"])
        }
        try run.writeMetrics(RunFixture.finishedLines + [decision(100, 0, 0.61, 0.1, reduced: false, stop: false),
                                                          decision(200, 1, 0.625, 0.05, reduced: true, stop: false),
                                                          decision(300, 2, 0.63, 0.025, reduced: true, stop: true)])
        try run.writeSummary(RunFixture.finishedSummary())
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings, [])
        XCTAssertTrue(html.contains("Scheduler decisions (taken by the coordinator)"), html)
        XCTAssertTrue(html.contains("<li>step 200 (epoch 2, val_loss 0.625): <b>learning rate cut to 0.05</b></li>"), html)
        XCTAssertTrue(html.contains("<li>step 300 (epoch 3, val_loss 0.63): <b>learning rate cut to 0.025, early stopping</b></li>"), html)
        XCTAssertFalse(html.contains("<li>step 100 "), "a decision that changed nothing is not listed")
    }

    func testPerClassTableComputedFromTheConfusionMatrix() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.finishedLines)
        try run.writeSummary(RunFixture.finishedSummary())
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertTrue(html.contains("computed from the confusion matrix above"))
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">cat</th><td>0.7143</td><td>0.8333</td><td>0.7692</td><td>6</td></tr>"), html)
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">dog</th><td>0.8571</td><td>0.6000</td><td>0.7059</td><td>10</td></tr>"))
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">&lt;b&gt;&amp;&quot;x&quot;</th><td>0.6667</td><td>1.0000</td><td>0.8000</td><td>4</td></tr>"))
        XCTAssertTrue(html.contains("<th scope=\"row\">macro average</th><td>0.7460</td><td>0.8111</td><td>0.7584</td><td>20</td>"))
    }

    /// With `per_class` in the summary, its figures are shown (rows given by index get names).
    func testPerClassTableFromSummaryWhenPresent() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.finishedLines)
        try run.writeSummary(RunFixture.finishedSummary(perClass: [
            ["class": "cat", "precision": 0.1, "recall": 0.2, "f1": 0.3, "support": 7],
            ["class": 1, "precision": 0.4, "recall": 0.5, "f1": 0.6, "support": 8],
            ["class": "<b>&\"x\"", "precision": 0.7, "recall": 0.8, "f1": 0.9, "support": 9],
        ]))
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertTrue(html.contains("summary.json <code>per_class</code>"))
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">cat</th><td>0.1000</td><td>0.2000</td><td>0.3000</td><td>7</td></tr>"))
        XCTAssertTrue(html.contains("<tr><th scope=\"row\">dog</th><td>0.4000</td><td>0.5000</td><td>0.6000</td><td>8</td></tr>"))
        XCTAssertFalse(html.contains("<td>0.7143</td>"), "the computed table is not shown as well")
    }

    func testRunInProgressWithTruncatedLastLine() throws {
        let run = try makeRun()
        let lines = Array(RunFixture.finishedLines.prefix(6))  // up to the train line at step 150
        let next = RunFixture.trainLine(step: 200, epoch: 1, loss: 0.5, top1: 0.8)
        try run.writeMetrics(lines, unfinishedTail: String(next.prefix(next.count / 2)))
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings, [], "a line the trainer is still writing is skipped silently")
        XCTAssertTrue(html.contains("run in progress (no summary.json yet): step 150, epoch 2 of 2"), html)
        // No test matrix yet: the latest validation one is shown, and said to be.
        XCTAssertTrue(html.contains("Validation split at step 100"))
        XCTAssertTrue(html.contains("<td>3</td>") || html.contains(">3</text>"), "validation counts are drawn")
        XCTAssertTrue(html.contains("<th scope=\"row\">cat</th><td>0.7500</td><td>0.7500</td>"),
                      "per-class figures from the validation matrix (class names from the start line)")
        XCTAssertTrue(html.contains("the latest <code>start</code> line"), "config from the start line")
        XCTAssertTrue(html.contains(">70.00%<"), "best validation top-1 so far")
        XCTAssertFalse(html.contains("no data yet (no confusion"))
    }

    func testOldFormatLinesRender() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.oldFormatLines)
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings, [])
        XCTAssertTrue(html.contains("run in progress (no summary.json yet): step 150, epoch 2</p>"),
                      "epoch of the last train or validation line, 1-based; no config to give the total")
        XCTAssertTrue(html.contains(">whole cluster<"), "images/s of the whole cluster as one series")
        // Step times derived from the cumulative counters: 5 s of compute over 50 steps.
        XCTAssertTrue(html.contains("compute at step 100: 100<"), "100 ms per step")
        XCTAssertTrue(html.contains("waiting for the all-reduce at step 150: 10<"))
        XCTAssertTrue(html.contains("derived from the cumulative compute and wait counters"))
        // Bytes from differences of the cumulative counters: 50 MB per 50 steps.
        XCTAssertTrue(html.contains("on the wire at step 100: 1<"))
        // Raw bytes equal those on the wire throughout: no compression chart, one line why.
        XCTAssertFalse(html.contains("raw / on the wire at step"))
        XCTAssertTrue(html.contains("Codec none: gradients travel raw (a compression ratio of 1.00 throughout), so that chart is left out."))
        XCTAssertTrue(html.contains("validation top-5 at step 100: 99<"))
        // Charts with data: 6 (no per-worker waits, no compression); the matrix section says there is none.
        XCTAssertEqual(count("<svg", in: html), 6)
        XCTAssertEqual(count(">no data yet<", in: html), 0, "every chart has data")
        XCTAssertTrue(html.contains("no data yet (no confusion matrix"))
    }

    /// A single process: no all-reduce, so no wait, bytes or compression charts (one line says
    /// why), and no flat-zero wait or encoding series in the step times.
    func testASingleProcessRunLeavesOutTheCommunicationCharts() throws {
        let run = try makeRun()
        func train(_ step: Int) -> String {
            RunFixture.line(["event": "train", "step": step, "epoch": 0, "loss": 1.0, "train_top1": 0.5, "lr": 0.05, "images_per_sec": 900.0,
                             "window_steps": 50, "step_compute_seconds": 0.02, "step_wait_seconds": 0.0, "step_encode_seconds": 0.0,
                             "window_bytes_sent": 0, "window_bytes_raw": 0, "bytes_sent": 0, "bytes_raw": 0,
                             "window_pause_seconds": 0.0, "workers": [["rank": 0, "images_per_sec": 900.0, "step_compute_seconds": 0.02,
                                                                       "step_wait_seconds": 0.0, "step_encode_seconds": 0.0]]])
        }
        try run.writeMetrics([RunFixture.startLine(), train(50), train(100)])
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        for title in ["All-reduce bytes per step (rank 0)", "Compression ratio", "Waiting for the all-reduce, per worker"] {
            XCTAssertFalse(html.contains(">\(title)<"), title)
        }
        XCTAssertTrue(html.contains("No all-reduce traffic (a single process): the wait, bytes and compression charts are left out."))
        XCTAssertTrue(html.contains("Images/s counts training time only"))
        XCTAssertTrue(html.contains(">Time per step (rank 0)<") && html.contains("compute at step 100: 20<"))
        XCTAssertFalse(html.contains("waiting for the all-reduce at step"), "no flat-zero wait series")
        XCTAssertFalse(html.contains("encoding (overlaps compute) at step"), "no flat-zero encoding series")
        XCTAssertFalse(html.contains(">no data yet<"), "every chart shown has data")
    }

    /// The learning rate from `lr_points` (a triangle's corners between two lines), and a
    /// validation's rate after a plateau cut, from the next step on: drawn although no train
    /// line follows it. The loss and learning-rate charts share their x axis.
    func testTheLearningRateIsDrawnFromItsCornersAndTheAxesLineUp() throws {
        let run = try makeRun()
        func train(_ step: Int, _ points: [[Double]]) -> String {
            RunFixture.line(["event": "train", "step": step, "epoch": 0, "loss": 1.0 - Double(step) / 1000, "lr": points.last![1],
                             "lr_points": points])
        }
        let validation = RunFixture.line(["event": "validation", "step": 100, "epoch": 0, "val_loss": 0.5, "val_top1": 0.7,
                                          "val_top5": 1.0, "lr": 0.005])
        try run.writeMetrics([RunFixture.startLine(), train(50, [[1, 0.01], [25, 0.1], [50, 0.01]]),
                              train(100, [[75, 0.1], [100, 0.01]]), validation])
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        for corner in ["at step 1: 0.01<", "at step 25: 0.1<", "at step 50: 0.01<", "at step 75: 0.1<", "at step 100: 0.01<",
                       "at step 101: 0.005<"] {
            XCTAssertTrue(html.contains("learning rate " + corner), corner)
        }
        // Each chart's x tick labels (the text right under its plot area).
        let charts = html.components(separatedBy: "<svg").dropFirst()
        func xTicks(_ title: String) -> [String] {
            guard let svg = charts.first(where: { $0.contains(">\(title)</text>") }) else { return [] }
            return svg.components(separatedBy: "y=\"284\" class=\"tick\" text-anchor=\"middle\">").dropFirst()
                .map { String($0.prefix { $0 != "<" }) }
        }
        XCTAssertFalse(xTicks("Loss").isEmpty)
        XCTAssertEqual(xTicks("Loss"), xTicks("Learning rate"))
        XCTAssertEqual(xTicks("Loss").first, "20", "from the first lr point at step 1, not the first loss at step 50")
    }

    /// Cumulative counters that drop mark a restarted process: the new value is the window.
    func testCumulativeBytesAcrossARestart() throws {
        let run = try makeRun()
        func old(_ step: Int, _ bytes: Double) -> String {
            RunFixture.line(["step": step, "epoch": 0, "loss": 1.0, "bytes_sent": bytes, "bytes_raw": bytes * 2])
        }
        try run.writeMetrics([old(50, 100e6), old(100, 200e6), RunFixture.startLine(step: 100, resumed: true),
                              old(120, 40e6), old(140, 80e6)])
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertTrue(html.contains("on the wire at step 100: 2<"))
        XCTAssertTrue(html.contains("on the wire at step 120: 2<"), "40 MB over the 20 steps since the restart")
        XCTAssertTrue(html.contains("on the wire at step 140: 2<"))
        XCTAssertTrue(html.contains("raw / on the wire at step 120: 2<"))
        XCTAssertFalse(html.contains("on the wire at step 120: -"), "no negative window")
    }

    func testUserTextIsEscapedEverywhere() throws {
        let run = try makeRun()
        var summary = RunFixture.finishedSummary()
        var config = RunFixture.config
        config["data"] = "</pre></td><script>alert(1)</script>"
        config["schedule"] = ["type": "<cos>"]
        summary["config"] = config
        summary["model"] = "<i>m</i>"
        try run.writeMetrics(RunFixture.finishedLines)
        try run.writeSummary(summary)
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertFalse(html.contains("<b>&\"x\""), "the raw class name never appears")
        XCTAssertFalse(html.contains("<b>"))
        XCTAssertTrue(html.contains("&lt;b&gt;&amp;&quot;x&quot;"))
        XCTAssertGreaterThanOrEqual(count("&lt;b&gt;&amp;&quot;x&quot;</title></text>", in: html), 2, "both heatmap axes")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains("&lt;/pre&gt;&lt;/td&gt;&lt;script&gt;"))
        XCTAssertFalse(html.contains("<i>m</i>"))
        XCTAssertTrue(html.contains("<th scope=\"row\">schedule.type</th><td>&lt;cos&gt;</td>"), "nested config strings too")
        XCTAssertFalse(html.contains("<cos>"))
    }

    func testNoExternalAssets() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.finishedLines)
        try run.writeSummary(RunFixture.finishedSummary())
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        for forbidden in ["http://", "https://", "<script", "<link", "<img", "@import", "url(", "@font-face"] {
            XCTAssertFalse(html.lowercased().contains(forbidden), "the page must not reference \(forbidden)")
        }
        let sources = html.components(separatedBy: "src=\"").dropFirst()
        for s in sources { XCTAssertTrue(s.hasPrefix("data:"), "src= outside a data: URI") }
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<style>") && html.contains("<meta charset=\"utf-8\">"))
    }

    func testMalformedMiddleLineIsWarnedWithItsNumber() throws {
        let run = try makeRun()
        var lines = RunFixture.finishedLines
        lines.insert("{\"step\": 75, \"loss\": 1.1", at: 2)  // line 3
        lines.insert("[1, 2]", at: 4)  // line 5: JSON, but not an object
        lines.insert("{\"epoch\": 0, \"loss\": 1.0}", at: 5)  // line 6: no step
        try run.writeMetrics(lines)
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings.count, 3, "\(warnings)")
        XCTAssertTrue(warnings[0].contains("metrics.jsonl line 3"), warnings[0])
        XCTAssertTrue(warnings[0].hasPrefix(run.path), "the warning names the file")
        XCTAssertTrue(warnings[1].contains("metrics.jsonl line 5"), warnings[1])
        XCTAssertTrue(warnings[2].contains("metrics.jsonl line 6") && warnings[2].contains("step"), warnings[2])
        XCTAssertTrue(html.contains(">Warnings<") && html.contains("metrics.jsonl line 3"))
        XCTAssertTrue(html.contains("train loss (epoch running mean) at step 200: 0.5<"), "the lines after it still count")
    }

    /// A broken last line that does end in a newline was written whole: it is warned about.
    func testMalformedCompleteLastLineIsWarned() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.finishedLines + ["{\"step\": 3"])
        let (_, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("line \(RunFixture.finishedLines.count + 1)") ?? false, "\(warnings)")
    }

    func testMissingMetricsOrDirectoryNamesThePath() throws {
        let run = try makeRun()
        XCTAssertThrowsError(try ReportRenderer.render(runDirectory: run.path)) { error in
            XCTAssertEqual(error as? ReportError, .missingFile(path: run.path + "/metrics.jsonl"))
            XCTAssertTrue(String(describing: error).contains(run.path + "/metrics.jsonl"), "\(error)")
        }
        let nowhere = run.path + "/no-such-run"
        XCTAssertThrowsError(try ReportRenderer.render(runDirectory: nowhere)) { error in
            XCTAssertEqual(error as? ReportError, .missingRunDirectory(path: nowhere))
            XCTAssertTrue(String(describing: error).contains(nowhere))
        }
    }

    /// A finished run resumed for more epochs: the old summary.json is still there.
    func testMetricsPastTheSummaryAreFlagged() throws {
        let run = try makeRun()
        var summary = RunFixture.finishedSummary()
        summary["final_step"] = 100
        try run.writeMetrics(RunFixture.finishedLines)
        try run.writeSummary(summary)
        let (html, _) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertTrue(html.contains("summary.json is from step 100; metrics.jsonl goes on to step 200"))
    }

    func testSummaryThatIsNotJSONIsAWarningNotAFailure() throws {
        let run = try makeRun()
        try run.writeMetrics(RunFixture.finishedLines)
        try Data("{\"final_step\": ".utf8).write(to: URL(fileURLWithPath: run.path + "/summary.json"))
        let (html, warnings) = try ReportRenderer.render(runDirectory: run.path)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("summary.json"), warnings[0])
        XCTAssertTrue(html.contains("run in progress (no summary.json yet): step 200, epoch 2 of 2"))
        XCTAssertTrue(html.contains("Test split (metrics.jsonl <code>test</code> line at step 200)"))
    }
}
