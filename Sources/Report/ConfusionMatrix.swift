/// A square confusion matrix, row = true class, column = predicted class.
public struct ConfusionMatrix: Equatable {
    public let classes: Int
    /// Row-major counts, `classes * classes` of them.
    public let counts: [Int]

    /// Nil unless `flat` holds a square number (at least 1) of counts.
    public init?(flat: [Int]) {
        let n = Int(Double(flat.count).squareRoot().rounded())
        guard n > 0, n * n == flat.count else { return nil }
        classes = n
        counts = flat
    }

    public subscript(actual: Int, predicted: Int) -> Int { counts[actual * classes + predicted] }

    public func rowTotal(_ actual: Int) -> Int { (0..<classes).reduce(0) { $0 + self[actual, $1] } }
    public func columnTotal(_ predicted: Int) -> Int { (0..<classes).reduce(0) { $0 + self[$1, predicted] } }
    public var total: Int { counts.reduce(0, +) }
    public var correct: Int { (0..<classes).reduce(0) { $0 + self[$1, $1] } }

    /// Precision, recall, F1 and support per class, with the trainer's convention (and
    /// `ringtrain evaluate`'s) that an undefined ratio (no predictions, no samples) is 0.
    public func perClass(names: [String]) -> [ClassFigures] {
        (0..<classes).map { c in
            let tp = Double(self[c, c])
            let support = rowTotal(c), predicted = columnTotal(c)
            let precision = predicted == 0 ? 0 : tp / Double(predicted)
            let recall = support == 0 ? 0 : tp / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassFigures(name: c < names.count ? names[c] : String(c), precision: precision, recall: recall,
                                f1: f1, support: support)
        }
    }
}
