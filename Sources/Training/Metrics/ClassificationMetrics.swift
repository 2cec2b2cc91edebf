import Foundation

/// Loss, top-1 and top-k accuracy and the confusion matrix of a classifier, accumulated batch
/// by batch. Everything is a sum of counts (plus one sum of losses), so metrics from several
/// ranks or several evaluation shards combine exactly with `merge` / `+`, or through an
/// all-reduce of `packed()`.
public struct ClassificationMetrics: Codable, Sendable, Equatable {
    public let classCount: Int
    /// The k of top-k accuracy (5 by default, clamped to the class count).
    public let k: Int
    public private(set) var count: Int = 0
    /// Sum of the per-sample cross-entropy losses (natural log).
    public private(set) var lossSum: Double = 0
    public private(set) var top1Correct: Int = 0
    public private(set) var topKCorrect: Int = 0
    /// Row-major `[true class][predicted class]` counts.
    public private(set) var confusion: [Int]

    public init(classCount: Int, k: Int = 5) {
        precondition(classCount >= 1, "metrics need at least one class")
        precondition(k >= 1, "top-k needs k >= 1")
        self.classCount = classCount
        self.k = min(k, classCount)
        self.confusion = Array(repeating: 0, count: classCount * classCount)
    }

    // MARK: - Accumulating

    /// Adds a batch of raw scores: `logits` is row-major `[labels.count, classCount]`. The loss
    /// is softmax cross-entropy, computed here in Double. A NaN score for the true class counts
    /// as wrong with infinite loss; ties rank the lower class index first (as `argmax`).
    public mutating func add<L: Collection>(logits: UnsafeBufferPointer<Float>, labels: L) where L.Element: BinaryInteger {
        precondition(logits.count == labels.count * classCount,
                     "metrics: \(logits.count) logits for \(labels.count) labels of \(classCount) classes")
        var row = 0
        for label in labels {
            let y = Int(label)
            precondition(y >= 0 && y < classCount, "metrics: label \(y) outside 0..<\(classCount)")
            let scores = UnsafeBufferPointer(rebasing: logits[(row * classCount)..<((row + 1) * classCount)])
            // Cross-entropy: logsumexp - score[y].
            var maxScore = -Double.infinity
            for s in scores where Double(s) > maxScore { maxScore = Double(s) }
            var sum = 0.0
            for s in scores { sum += exp(Double(s) - maxScore) }
            let loss = maxScore + log(sum) - Double(scores[y])
            lossSum += loss.isNaN ? .infinity : loss
            record(scores: scores, label: y)
            row += 1
        }
        count += labels.count
    }

    public mutating func add(logits: [Float], labels: [Int]) {
        logits.withUnsafeBufferPointer { add(logits: $0, labels: labels) }
    }

    /// Adds a batch of class probabilities (an ensemble's mean softmax): the loss is
    /// `-log(p[label])` (p floored at 1e-45 so a zero gives a large finite loss).
    public mutating func add<L: Collection>(probabilities: UnsafeBufferPointer<Float>, labels: L) where L.Element: BinaryInteger {
        precondition(probabilities.count == labels.count * classCount,
                     "metrics: \(probabilities.count) probabilities for \(labels.count) labels of \(classCount) classes")
        var row = 0
        for label in labels {
            let y = Int(label)
            precondition(y >= 0 && y < classCount, "metrics: label \(y) outside 0..<\(classCount)")
            let p = UnsafeBufferPointer(rebasing: probabilities[(row * classCount)..<((row + 1) * classCount)])
            let py = Double(p[y])
            lossSum += py.isNaN ? .infinity : -log(max(py, 1e-45))
            record(scores: p, label: y)
            row += 1
        }
        count += labels.count
    }

    public mutating func add(probabilities: [Float], labels: [Int]) {
        probabilities.withUnsafeBufferPointer { add(probabilities: $0, labels: labels) }
    }

    /// Adds one sample of a voting ensemble: the loss from `probabilities`, the ranking by
    /// vote total, then probability, then class index (nil votes: by probability alone).
    public mutating func add(probabilities p: [Float], votes: [Double]?, label y: Int) {
        precondition(p.count == classCount && y >= 0 && y < classCount, "metrics: a sample of \(p.count) probabilities, label \(y), \(classCount) classes")
        guard let votes else {
            add(probabilities: p, labels: [y])
            return
        }
        let py = Double(p[y])
        lossSum += py.isNaN ? .infinity : -log(max(py, 1e-45))
        func ahead(_ a: Int, of b: Int) -> Bool {
            if votes[a] != votes[b] { return votes[a] > votes[b] }
            if p[a] != p[b] { return p[a] > p[b] }
            return a < b
        }
        var argmax = 0
        for c in 1..<classCount where ahead(c, of: argmax) { argmax = c }
        let rank = (0..<classCount).filter { $0 != y && ahead($0, of: y) }.count
        if rank == 0 { top1Correct += 1 }
        if rank < k { topKCorrect += 1 }
        confusion[y * classCount + argmax] += 1
        count += 1
    }

    /// Rank of the true class (0 = predicted) and the argmax, then the counters.
    private mutating func record(scores: UnsafeBufferPointer<Float>, label y: Int) {
        let target = scores[y]
        var rank = 0
        var argmax = -1
        var best = -Float.infinity
        for (j, s) in scores.enumerated() {
            if !s.isNaN, argmax < 0 || s > best { best = s; argmax = j }
            if s > target || (s == target && j < y) { rank += 1 }
        }
        if target.isNaN { rank = classCount }
        if argmax < 0 { argmax = 0 }
        if rank == 0 { top1Correct += 1 }
        if rank < k { topKCorrect += 1 }
        confusion[y * classCount + argmax] += 1
    }

    /// Adds another accumulator's counts (another rank, another shard). Class count and k must match.
    public mutating func merge(_ other: ClassificationMetrics) {
        precondition(other.classCount == classCount && other.k == k, "metrics: merging different class counts or k")
        count += other.count
        lossSum += other.lossSum
        top1Correct += other.top1Correct
        topKCorrect += other.topKCorrect
        for i in confusion.indices { confusion[i] += other.confusion[i] }
    }

    public static func + (a: ClassificationMetrics, b: ClassificationMetrics) -> ClassificationMetrics {
        var c = a
        c.merge(b)
        return c
    }

    /// Starts a new window (e.g. for the progress line), keeping the class count and k.
    public mutating func reset() { self = ClassificationMetrics(classCount: classCount, k: k) }

    // MARK: - All-reduce

    /// `[count, lossSum, top1Correct, topKCorrect, confusion...]`: sum these element-wise across
    /// ranks and rebuild with `init(classCount:k:packed:)`. Counts are exact in Double (and in
    /// Float up to 16,777,216 per entry).
    public func packed() -> [Double] {
        [Double(count), lossSum, Double(top1Correct), Double(topKCorrect)] + confusion.map(Double.init)
    }

    /// Rebuilds the metrics from a packed vector, which comes from the other ranks: a wrong
    /// length or a count that is not a whole number in range is an error, not a trap.
    public init(classCount: Int, k: Int = 5, packed: [Double]) throws {
        self.init(classCount: classCount, k: k)
        guard packed.count == 4 + classCount * classCount else {
            throw MetricsError("a packed metrics vector has \(packed.count) values; \(classCount) classes need \(4 + classCount * classCount)")
        }
        func whole(_ v: Double, _ what: String) throws -> Int {
            // 2^53: every whole number below it is exact in a Double.
            guard v.isFinite, v >= 0, v < 9_007_199_254_740_992 else { throw MetricsError("a packed metrics vector's \(what) is \(v)") }
            return Int(v.rounded())
        }
        count = try whole(packed[0], "count")
        lossSum = packed[1]
        top1Correct = try whole(packed[2], "top-1 count")
        topKCorrect = try whole(packed[3], "top-k count")
        confusion = try packed[4...].map { try whole($0, "confusion count") }
    }

    // MARK: - Results

    /// Mean cross-entropy (0 when empty).
    public var loss: Double { count == 0 ? 0 : lossSum / Double(count) }
    public var top1: Double { count == 0 ? 0 : Double(top1Correct) / Double(count) }
    public var topK: Double { count == 0 ? 0 : Double(topKCorrect) / Double(count) }

    public func confusion(actual: Int, predicted: Int) -> Int { confusion[actual * classCount + predicted] }

    /// The confusion matrix as rows (true class) of columns (predicted class).
    public var confusionMatrix: [[Int]] {
        (0..<classCount).map { Array(confusion[($0 * classCount)..<(($0 + 1) * classCount)]) }
    }

    /// Precision, recall, F1 and support per class. A ratio with a zero denominator is 0
    /// (scikit-learn's `zero_division=0`).
    /// Mean recall over the classes with at least one sample (scikit-learn's
    /// `balanced_accuracy_score`); 0 when there are none.
    public var balancedAccuracy: Double {
        let present = perClass().filter { $0.support > 0 }
        return present.isEmpty ? 0 : present.map(\.recall).reduce(0, +) / Double(present.count)
    }

    /// Mean F1 over all classes (scikit-learn's `f1_score(average="macro")`).
    public var macroF1: Double {
        classCount == 0 ? 0 : perClass().map(\.f1).reduce(0, +) / Double(classCount)
    }

    public func perClass() -> [ClassStats] {
        (0..<classCount).map { c in
            let tp = confusion[c * classCount + c]
            let support = (0..<classCount).reduce(0) { $0 + confusion[c * classCount + $1] }
            let predicted = (0..<classCount).reduce(0) { $0 + confusion[$1 * classCount + c] }
            let precision = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let recall = support == 0 ? 0 : Double(tp) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassStats(index: c, precision: precision, recall: recall, f1: f1, support: support, predicted: predicted)
        }
    }

    public func summary(classNames: [String]? = nil, includeConfusion: Bool = true) -> MetricsSummary {
        let stats = perClass()
        let named = stats.map { s -> ClassStats in
            var s = s
            if let names = classNames, s.index < names.count { s.name = names[s.index] }
            return s
        }
        return MetricsSummary(count: count, loss: loss, top1: top1, topK: topK, k: k,
                              macroPrecision: stats.map(\.precision).reduce(0, +) / Double(classCount),
                              macroRecall: stats.map(\.recall).reduce(0, +) / Double(classCount),
                              macroF1: stats.map(\.f1).reduce(0, +) / Double(classCount),
                              perClass: named, confusion: includeConfusion ? confusionMatrix : nil)
    }
}

/// One class's row of the per-class table.
public struct ClassStats: Codable, Sendable, Equatable {
    public var index: Int
    public var name: String?
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Samples whose true class this is.
    public var support: Int
    /// Samples predicted as this class.
    public var predicted: Int

    public init(index: Int, name: String? = nil, precision: Double, recall: Double, f1: Double, support: Int, predicted: Int) {
        self.index = index; self.name = name; self.precision = precision; self.recall = recall
        self.f1 = f1; self.support = support; self.predicted = predicted
    }
}

/// A JSON-ready snapshot of `ClassificationMetrics`. Keys: `count`, `loss`, `top1`, `top_k`,
/// `k`, `macro_precision`, `macro_recall`, `macro_f1`, `per_class` (`index`, `name`,
/// `precision`, `recall`, `f1`, `support`, `predicted`), `confusion` (rows = true class).
public struct MetricsSummary: Codable, Sendable, Equatable {
    public var count: Int
    public var loss: Double
    public var top1: Double
    public var topK: Double
    public var k: Int
    public var macroPrecision: Double
    public var macroRecall: Double
    public var macroF1: Double
    public var perClass: [ClassStats]
    public var confusion: [[Int]]?

    enum CodingKeys: String, CodingKey {
        case count, loss, top1, k, confusion
        case topK = "top_k", macroPrecision = "macro_precision", macroRecall = "macro_recall"
        case macroF1 = "macro_f1", perClass = "per_class"
    }
}

/// Metrics from another rank that do not add up.
public struct MetricsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
