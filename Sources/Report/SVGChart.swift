import Foundation

/// One line of a chart: (x, y) points in the order they are drawn.
public struct ChartSeries {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public var color: String
    public var dashed: Bool

    public init(name: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
        self.name = name
        self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        self.color = color
        self.dashed = dashed
    }
}

/// A vertical mark at an x value, with a short label at its top (epoch boundaries).
public struct ChartMark {
    public var x: Double
    public var label: String

    public init(x: Double, label: String) {
        self.x = x
        self.label = label
    }
}

/// A small line chart as inline SVG: nice ticks on both axes, one line per series with a
/// legend, optional dashed vertical marks. A chart without a single point says "no data
/// yet" instead of drawing empty axes.
public struct SVGChart {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [ChartSeries]
    public var marks: [ChartMark] = []
    /// Start the y axis at zero (times, bytes, throughput) rather than at the data's minimum.
    public var yFromZero = false
    /// What `marks` mean, as a legend entry ("epoch boundary").
    public var marksLegend = "epoch boundary"
    /// Shown under "no data yet" when the chart is empty and the reason is known.
    public var emptyReason: String?
    /// The x range to draw (the page gives every chart against steps the same one, so their
    /// axes line up); nil: the data's own.
    public var xDomain: (lower: Double, upper: Double)?

    // Geometry, in SVG user units; the page scales the chart to its column.
    static let width = 620.0
    static let plotHeight = 220.0
    static let left = 64.0, right = 18.0, top = 46.0
    static let legendRow = 18.0

    /// Tableau 10: distinguishable and colour-blind tolerable.
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    public init(title: String, xLabel: String, yLabel: String, series: [ChartSeries]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    public var hasData: Bool { series.contains { !$0.points.isEmpty } }

    public func render() -> String {
        let drawn = series.filter { !$0.points.isEmpty }
        let w = SVGChart.width, left = SVGChart.left, top = SVGChart.top
        let plotWidth = w - left - SVGChart.right, plotHeight = SVGChart.plotHeight
        guard !drawn.isEmpty else {
            return """
            <svg class="chart" viewBox="0 0 \(coord(w)) 120" width="\(coord(w))" height="120" role="img" aria-label="\(HTML.escape(title)): no data yet">
            <text x="\(coord(w / 2))" y="22" class="title" text-anchor="middle">\(HTML.escape(title))</text>
            <rect x="\(coord(left))" y="36" width="\(coord(plotWidth))" height="70" class="empty"/>
            <text x="\(coord(w / 2))" y="\(emptyReason == nil ? 76 : 68)" class="nodata" text-anchor="middle">no data yet</text>
            \(emptyReason.map { "<text x=\"\(coord(w / 2))\" y=\"88\" class=\"tick\" text-anchor=\"middle\">\(HTML.escape($0))</text>" } ?? "")
            </svg>
            """
        }

        let xs = drawn.flatMap { $0.points.map(\.x) }, ys = drawn.flatMap { $0.points.map(\.y) }
        let xScale = NiceScale(min: min(xDomain?.lower ?? xs.min()!, xs.min()!), max: max(xDomain?.upper ?? xs.max()!, xs.max()!),
                               count: 6, extend: false)
        let yScale = NiceScale(min: yFromZero ? min(0, ys.min()!) : ys.min()!, max: ys.max()!, count: 5, extend: true)
        func px(_ x: Double) -> Double { left + (x - xScale.lower) / (xScale.upper - xScale.lower) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - (y - yScale.lower) / (yScale.upper - yScale.lower) * plotHeight }

        let legend = legendLayout(names: drawn.map(\.name) + (marks.isEmpty ? [] : [marksLegend]), width: w - left)
        let bottom = top + plotHeight
        let height = bottom + 48 + Double(legend.rows) * SVGChart.legendRow
        var svg = """
        <svg class="chart" viewBox="0 0 \(coord(w)) \(coord(height))" width="\(coord(w))" height="\(coord(height))" role="img" aria-label="\(HTML.escape(title))">
        <text x="\(coord(w / 2))" y="18" class="title" text-anchor="middle">\(HTML.escape(title))</text>

        """
        // Grid and y ticks.
        for tick in yScale.ticks {
            let y = py(tick)
            svg += "<line x1=\"\(coord(left))\" y1=\"\(coord(y))\" x2=\"\(coord(left + plotWidth))\" y2=\"\(coord(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(coord(left - 6))\" y=\"\(coord(y + 4))\" class=\"tick\" text-anchor=\"end\">\(HTML.escape(yScale.label(tick)))</text>\n"
        }
        for tick in xScale.ticks {
            let x = px(tick)
            svg += "<line x1=\"\(coord(x))\" y1=\"\(coord(bottom))\" x2=\"\(coord(x))\" y2=\"\(coord(bottom + 5))\" class=\"axis\"/>"
            svg += "<text x=\"\(coord(x))\" y=\"\(coord(bottom + 18))\" class=\"tick\" text-anchor=\"middle\">\(HTML.escape(xScale.label(tick)))</text>\n"
        }
        svg += "<rect x=\"\(coord(left))\" y=\"\(coord(top))\" width=\"\(coord(plotWidth))\" height=\"\(coord(plotHeight))\" class=\"frame\"/>\n"
        svg += "<text x=\"\(coord(left + plotWidth / 2))\" y=\"\(coord(bottom + 36))\" class=\"label\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(14 \(coord(top + plotHeight / 2))) rotate(-90)\" class=\"label\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>\n"

        // Marks: dashed verticals; labels thinned so neighbours never overlap.
        var lastLabelled = -Double.infinity
        for mark in marks where mark.x >= xScale.lower && mark.x <= xScale.upper {
            let x = px(mark.x)
            svg += "<line x1=\"\(coord(x))\" y1=\"\(coord(top))\" x2=\"\(coord(x))\" y2=\"\(coord(bottom))\" class=\"mark\"/>"
            if x - lastLabelled >= 9 + 6.5 * Double(mark.label.count) {
                svg += "<text x=\"\(coord(x))\" y=\"\(coord(top - 5))\" class=\"marklabel\" text-anchor=\"middle\">\(HTML.escape(mark.label))</text>"
                lastLabelled = x
            }
            svg += "\n"
        }

        // Lines, then point markers where points are sparse enough to see (and always for
        // a series of one point, which has no line).
        for s in drawn {
            let path = s.points.map { "\(coord(px($0.x))),\(coord(py($0.y)))" }.joined(separator: " ")
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            if s.points.count > 1 {
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\"\(dash)><title>\(HTML.escape(s.name))</title></polyline>\n"
            }
            if s.points.count <= 40 {
                for p in s.points {
                    svg += "<circle cx=\"\(coord(px(p.x)))\" cy=\"\(coord(py(p.y)))\" r=\"2.6\" fill=\"\(s.color)\"><title>\(HTML.escape(s.name)) at \(HTML.escape(xLabel)) \(HTML.escape(JSONValues.numberText(p.x))): \(HTML.escape(JSONValues.numberText(p.y)))</title></circle>"
                }
                svg += "\n"
            }
        }

        // Legend rows under the x label.
        let legendTop = bottom + 48
        for (i, item) in legend.items.enumerated() {
            let x = left + item.x, y = legendTop + Double(item.row) * SVGChart.legendRow
            if i < drawn.count {
                let s = drawn[i]
                let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
                svg += "<line x1=\"\(coord(x))\" y1=\"\(coord(y - 4))\" x2=\"\(coord(x + 18))\" y2=\"\(coord(y - 4))\" stroke=\"\(s.color)\" stroke-width=\"2.5\"\(dash)/>"
            } else {
                svg += "<line x1=\"\(coord(x + 9))\" y1=\"\(coord(y - 11))\" x2=\"\(coord(x + 9))\" y2=\"\(coord(y + 3))\" class=\"mark\"/>"
            }
            svg += "<text x=\"\(coord(x + 23))\" y=\"\(coord(y))\" class=\"legend\">\(HTML.escape(item.name))</text>\n"
        }
        svg += "</svg>"
        return svg
    }

    /// Places legend entries left to right, wrapping into rows of at most `width`.
    func legendLayout(names: [String], width: Double) -> (items: [(name: String, x: Double, row: Int)], rows: Int) {
        var items: [(name: String, x: Double, row: Int)] = []
        var x = 0.0, row = 0
        for name in names {
            let itemWidth = 23 + 6.6 * Double(name.count) + 16
            if x > 0 && x + itemWidth > width {
                x = 0
                row += 1
            }
            items.append((name, x, row))
            x += itemWidth
        }
        return (items, names.isEmpty ? 0 : row + 1)
    }
}

/// A coordinate with one decimal: small SVG, no visible rounding.
func coord(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
}
