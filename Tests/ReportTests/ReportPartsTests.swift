import Foundation
import Report
import XCTest

/// The parts of the page on their own: records, the confusion arithmetic, ticks, charts.
final class ReportPartsTests: XCTestCase {
    func testOldLinesAreClassifiedByTheirKeys() {
        let text = RunFixture.oldFormatLines.joined(separator: "\n") + "\n"
        let records = RunRecords.parse(Data(text.utf8), fileName: "metrics.jsonl")
        XCTAssertEqual(records.train.map(\.step), [50, 100, 150])
        XCTAssertEqual(records.validation.map(\.step), [100])
        XCTAssertEqual(records.test.map(\.top1), [0.81])
        XCTAssertEqual(records.validation.first?.top5, 0.99)
        XCTAssertTrue(records.train.allSatisfy { $0.workers.isEmpty })
        XCTAssertEqual(records.warnings, [])
    }

    func testCurrentLinesAreClassifiedByEvent() throws {
        let text = RunFixture.finishedLines.joined(separator: "\n") + "\n"
        let records = RunRecords.parse(Data(text.utf8), fileName: "metrics.jsonl")
        XCTAssertEqual(records.starts.count, 1)
        XCTAssertEqual(records.starts.first?.classNames, RunFixture.classNames)
        XCTAssertEqual(records.starts.first?.resumed, false)
        XCTAssertEqual(records.train.count, 4)
        XCTAssertEqual(records.train.first?.workers.map(\.rank), [0, 1])
        XCTAssertEqual(records.train.first?.workers.last?.imagesPerSec, 990)
        XCTAssertEqual(records.validation.first?.confusion, [3, 1, 0, 1, 4, 1, 0, 0, 2])
        XCTAssertEqual(records.checkpoints.map(\.step), [100, 200])
        XCTAssertEqual(records.test.first?.confusion, RunFixture.confusion)
        XCTAssertEqual(records.lastPosition?.step, 200)
        XCTAssertEqual(records.lastPosition?.epoch, 1)
    }

    func testUnknownEventsAreIgnoredWithOneWarning() {
        let lines = [#"{"event":"gossip","step":1,"epoch":0}"#, #"{"event":"gossip","step":2,"epoch":0}"#,
                     #"{"event":"train","step":3,"epoch":0,"loss":1}"#]
        let records = RunRecords.parse(Data((lines.joined(separator: "\n") + "\n").utf8), fileName: "m.jsonl")
        XCTAssertEqual(records.train.count, 1)
        XCTAssertEqual(records.warnings, ["m.jsonl line 1: unknown event \"gossip\"; lines of that kind ignored"])
    }

    func testPerClassFiguresOfAKnownMatrix() throws {
        let m = try XCTUnwrap(ConfusionMatrix(flat: RunFixture.confusion))
        XCTAssertEqual(m.classes, 3)
        XCTAssertEqual(m.correct, 15)
        XCTAssertEqual(m.total, 20)
        let rows = m.perClass(names: ["a", "b", "c"])
        XCTAssertEqual(rows.map(\.support), [6, 10, 4])
        XCTAssertEqual(rows[0].precision, 5.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(rows[0].recall, 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(rows[1].f1, 2 * (6.0 / 7) * 0.6 / (6.0 / 7 + 0.6), accuracy: 1e-12)
        XCTAssertEqual(rows[2].recall, 1)
        // A class never predicted and never present: 0, not NaN.
        let empty = try XCTUnwrap(ConfusionMatrix(flat: [2, 0, 0, 0]))
        XCTAssertEqual(empty.perClass(names: []).last, ClassFigures(name: "1", precision: 0, recall: 0, f1: 0, support: 0))
        XCTAssertNil(ConfusionMatrix(flat: [1, 2, 3]), "not square")
        XCTAssertNil(ConfusionMatrix(flat: []))
    }

    func testNiceTicks() {
        let accuracy = NiceScale(min: 0.07, max: 0.93)
        XCTAssertEqual(accuracy.lower, 0)
        XCTAssertEqual(accuracy.upper, 1, accuracy: 1e-12)
        XCTAssertEqual(accuracy.ticks.map(accuracy.label), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let steps = NiceScale(min: 50, max: 2110, count: 6, extend: false)
        XCTAssertEqual(steps.ticks, [500, 1000, 1500, 2000])
        let bytes = NiceScale(min: 0, max: 3.4e9)
        XCTAssertEqual(bytes.ticks.map(bytes.label), ["0", "1G", "2G", "3G", "4G"])
        let flat = NiceScale(min: 1, max: 1)
        XCTAssertLessThan(flat.lower, 1)
        XCTAssertGreaterThan(flat.upper, 1)
        let zeros = NiceScale(min: 0, max: 0)
        XCTAssertEqual([zeros.lower, zeros.upper], [0, 1], "all zeros: an axis from zero, not around it")
        let lr = NiceScale(min: 0, max: 0.0004)
        XCTAssertEqual(lr.label(0.0002), "0.0002")
    }

    func testChartWithoutDataSaysSo() {
        let chart = SVGChart(title: "Loss", xLabel: "step", yLabel: "loss",
                             series: [ChartSeries(name: "train", points: [], color: "#000000")])
        XCTAssertFalse(chart.hasData)
        let svg = chart.render()
        XCTAssertTrue(svg.contains("no data yet"))
        XCTAssertFalse(svg.contains("<polyline"))
        XCTAssertFalse(svg.contains("class=\"tick\""), "no empty axes")
    }

    func testChartDrawsEverySeriesWithLegendAndMarks() {
        var chart = SVGChart(title: "Accuracy", xLabel: "step", yLabel: "%", series: [
            ChartSeries(name: "train", points: [(0, 10), (100, 50), (200, 80)], color: "#111111"),
            ChartSeries(name: "val <x>", points: [(200, 70)], color: "#222222"),
            ChartSeries(name: "nan", points: [(0, .nan)], color: "#333333"),
        ])
        chart.marks = [ChartMark(x: 100, label: "ep 2")]
        let svg = chart.render()
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 1, "a one-point series has no line")
        XCTAssertTrue(svg.contains("<circle") && svg.contains("fill=\"#222222\""), "but a marker")
        XCTAssertTrue(svg.contains(">val &lt;x&gt;<"), "escaped legend")
        XCTAssertFalse(svg.contains(">nan<"), "a series without finite points has no legend entry")
        XCTAssertTrue(svg.contains(">ep 2<") && svg.contains(">epoch boundary<"))
        XCTAssertTrue(svg.contains("class=\"mark\""))
    }

    func testHeatmapLabelsAndCounts() throws {
        let m = try XCTUnwrap(ConfusionMatrix(flat: RunFixture.confusion))
        let svg = Heatmap(matrix: m, classNames: ["cat", "dog", "bird"]).render()
        XCTAssertEqual(svg.components(separatedBy: "class=\"cell\"").count - 1, 9)
        for name in ["cat", "dog", "bird"] {
            XCTAssertEqual(svg.components(separatedBy: ">\(name)<title>").count - 1, 2, "\(name) on both axes")
        }
        // Counts in the cells; zero cells stay blank.
        XCTAssertTrue(svg.contains(">5</text>") && svg.contains(">6</text>") && svg.contains(">4</text>"))
        XCTAssertFalse(svg.contains(">0</text>"))
        XCTAssertTrue(svg.contains("true dog, predicted bird: 2 (20.0% of the row)"))
    }
}
