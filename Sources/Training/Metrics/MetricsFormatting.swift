import Foundation

extension ClassificationMetrics {
    /// A fixed-width per-class table for terminals:
    /// ```
    /// class          precision  recall      f1  support
    /// 0 T-shirt/top     0.8612  0.8810  0.8710     1000
    /// ...
    /// macro avg         0.9201  0.9205  0.9200    10000
    /// ```
    public func perClassTable(classNames: [String]? = nil) -> String {
        let stats = perClass()
        let labels = stats.map { s -> String in
            if let names = classNames, s.index < names.count { return "\(s.index) \(names[s.index])" }
            return "\(s.index)"
        }
        let width = max(9, labels.map(\.count).max() ?? 0)
        func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
            let fill = String(repeating: " ", count: max(0, w - s.count))
            return right ? fill + s : s + fill
        }
        func num(_ x: Double) -> String { pad(String(format: "%.4f", x), 9, right: true) }
        var lines = [pad("class", width) + pad("precision", 10, right: true) + pad("recall", 9, right: true)
                     + pad("f1", 9, right: true) + pad("support", 9, right: true)]
        for (s, label) in zip(stats, labels) {
            lines.append(pad(label, width) + " " + num(s.precision) + num(s.recall) + num(s.f1) + pad("\(s.support)", 9, right: true))
        }
        let n = Double(classCount)
        lines.append(pad("macro avg", width) + " " + num(stats.map(\.precision).reduce(0, +) / n)
                     + num(stats.map(\.recall).reduce(0, +) / n) + num(stats.map(\.f1).reduce(0, +) / n)
                     + pad("\(count)", 9, right: true))
        return lines.joined(separator: "\n")
    }

    /// The confusion matrix with true classes as rows and predictions as columns.
    public func confusionTable() -> String {
        let width = max(4, String(confusion.max() ?? 0).count + 1, String(classCount - 1).count + 1)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        var lines = ["true\\pred " + (0..<classCount).map { pad("\($0)") }.joined()]
        for r in 0..<classCount {
            lines.append(pad("\(r)") + String(repeating: " ", count: max(0, 10 - width))
                         + (0..<classCount).map { pad("\(confusion[r * classCount + $0])") }.joined())
        }
        return lines.joined(separator: "\n")
    }
}
