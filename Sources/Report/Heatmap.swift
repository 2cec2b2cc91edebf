import Foundation

/// A confusion matrix as an inline SVG heatmap: true classes down the left, predicted
/// classes along the bottom, each cell shaded by its share of the row (so a class's recall
/// reads along the diagonal whatever its support) and labelled with its count. Right answers
/// are blue, mistakes red.
public struct Heatmap {
    public var matrix: ConfusionMatrix
    public var classNames: [String]

    /// Longest class name shown before it is cut with an ellipsis (the whole name stays in
    /// the cell's tooltip).
    static let maxLabelCharacters = 20

    public init(matrix: ConfusionMatrix, classNames: [String]) {
        self.matrix = matrix
        self.classNames = classNames
    }

    public func render() -> String {
        let n = matrix.classes
        let names = (0..<n).map { $0 < classNames.count ? classNames[$0] : String($0) }
        let shown = names.map(Heatmap.shorten)
        let cell = min(56, max(14, (560 / Double(n)).rounded(.down)))
        let showCounts = cell >= 22
        let labelWidth = 12 + 6.6 * Double(shown.map(\.count).max() ?? 1)
        let left = 26 + labelWidth, top = 12.0
        let grid = cell * Double(n)
        // Predicted-class labels are rotated 45 degrees: they need about 0.71 of their length below.
        let bottomLabels = 12 + 0.71 * labelWidth + 24
        let width = left + grid + 16, height = top + grid + bottomLabels
        let fontSize = min(12, max(8, cell * 0.32))

        var svg = """
        <svg class="heatmap" viewBox="0 0 \(coord(width)) \(coord(height))" width="\(coord(width))" height="\(coord(height))" role="img" aria-label="confusion matrix">

        """
        for actual in 0..<n {
            let rowTotal = matrix.rowTotal(actual)
            for predicted in 0..<n {
                let count = matrix[actual, predicted]
                let share = rowTotal == 0 ? 0 : Double(count) / Double(rowTotal)
                // Mistakes are usually small shares: a square root keeps them visible.
                let intensity = actual == predicted ? share : share.squareRoot()
                let x = left + Double(predicted) * cell, y = top + Double(actual) * cell
                let tip = "true \(names[actual]), predicted \(names[predicted]): \(count)"
                    + (rowTotal == 0 ? "" : String(format: " (%.1f%% of the row)", share * 100))
                svg += "<rect x=\"\(coord(x))\" y=\"\(coord(y))\" width=\"\(coord(cell))\" height=\"\(coord(cell))\" fill=\"\(Heatmap.color(intensity, diagonal: actual == predicted))\" class=\"cell\"><title>\(HTML.escape(tip))</title></rect>"
                if showCounts && count > 0 {
                    let ink = intensity > 0.55 ? "#ffffff" : "#1a1a1a"
                    svg += "<text x=\"\(coord(x + cell / 2))\" y=\"\(coord(y + cell / 2 + fontSize * 0.35))\" font-size=\"\(coord(fontSize))\" fill=\"\(ink)\" text-anchor=\"middle\">\(count)</text>"
                }
            }
            svg += "<text x=\"\(coord(left - 6))\" y=\"\(coord(top + (Double(actual) + 0.5) * cell + 4))\" class=\"tick\" text-anchor=\"end\">\(HTML.escape(shown[actual]))<title>\(HTML.escape(names[actual]))</title></text>\n"
        }
        for predicted in 0..<n {
            let x = left + (Double(predicted) + 0.5) * cell, y = top + grid + 10
            svg += "<text transform=\"translate(\(coord(x + 3)) \(coord(y))) rotate(-45)\" class=\"tick\" text-anchor=\"end\">\(HTML.escape(shown[predicted]))<title>\(HTML.escape(names[predicted]))</title></text>\n"
        }
        svg += "<text transform=\"translate(12 \(coord(top + grid / 2))) rotate(-90)\" class=\"label\" text-anchor=\"middle\">true class</text>\n"
        svg += "<text x=\"\(coord(left + grid / 2))\" y=\"\(coord(height - 6))\" class=\"label\" text-anchor=\"middle\">predicted class</text>\n"
        svg += "</svg>"
        return svg
    }

    static func shorten(_ name: String) -> String {
        name.count <= maxLabelCharacters ? name : String(name.prefix(maxLabelCharacters - 1)) + "…"
    }

    /// White to deep blue on the diagonal (right answers), white to deep red off it.
    static func color(_ intensity: Double, diagonal: Bool) -> String {
        let t = min(1, max(0, intensity))
        let (r, g, b): (Double, Double, Double) = diagonal ? (8, 69, 148) : (165, 15, 21)
        func mix(_ c: Double) -> Int { Int((255 + (c - 255) * t).rounded()) }
        return String(format: "#%02x%02x%02x", mix(r), mix(g), mix(b))
    }
}
