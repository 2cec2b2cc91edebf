import Foundation
import Training
import XCTest

final class MetricsTests: XCTestCase {
    /// 3 classes, top-2:
    ///   A [2, 1, 0] label 0: top-1 right.          B [0, 3, 1] label 2: rank 1, predicted 1.
    ///   C [1, 1, 1] label 1: tie, class 0 ranks first, so rank 1; predicted 0.
    private func sample() -> ClassificationMetrics {
        var m = ClassificationMetrics(classCount: 3, k: 2)
        m.add(logits: [2, 1, 0, 0, 3, 1, 1, 1, 1], labels: [0, 2, 1])
        return m
    }

    func testCountsLossAndAccuracy() {
        let m = sample()
        XCTAssertEqual(m.count, 3)
        XCTAssertEqual(m.top1Correct, 1)
        XCTAssertEqual(m.topKCorrect, 3)
        XCTAssertEqual(m.top1, 1.0 / 3, accuracy: 1e-12)
        let lse = { (xs: [Double]) in log(xs.map(exp).reduce(0, +)) }
        let expected = (lse([2, 1, 0]) - 2) + (lse([0, 3, 1]) - 1) + (lse([1, 1, 1]) - 1)
        XCTAssertEqual(m.loss, expected / 3, accuracy: 1e-6)
        XCTAssertEqual(m.confusionMatrix, [[1, 0, 0], [1, 0, 0], [0, 1, 0]])
    }

    func testPerClassPrecisionRecallF1() {
        var m = sample()
        m.add(logits: [.nan, 0, 0], labels: [0])      // NaN for the true class: wrong, predicted 1
        XCTAssertEqual(m.top1Correct, 1)
        XCTAssertEqual(m.topKCorrect, 3)
        XCTAssertEqual(m.lossSum, .infinity)
        XCTAssertEqual(m.confusionMatrix, [[1, 1, 0], [1, 0, 0], [0, 1, 0]])
        let s = m.perClass()
        XCTAssertEqual(s[0].precision, 0.5); XCTAssertEqual(s[0].recall, 0.5); XCTAssertEqual(s[0].f1, 0.5)
        XCTAssertEqual(s[0].support, 2); XCTAssertEqual(s[0].predicted, 2)
        XCTAssertEqual(s[1].precision, 0); XCTAssertEqual(s[1].recall, 0); XCTAssertEqual(s[1].f1, 0)
        XCTAssertEqual(s[2].predicted, 0); XCTAssertEqual(s[2].precision, 0, "zero division gives 0")
        XCTAssertEqual(m.summary().macroF1, 0.5 / 3, accuracy: 1e-12)
    }

    /// Balanced accuracy is the mean recall over the classes present; macro-F1 the mean F1.
    /// An imbalanced split: 9 of class 0 all right, 1 of class 1 wrong, class 2 absent.
    func testBalancedAccuracyAndMacroF1SeeWhatTop1Hides() {
        var m = ClassificationMetrics(classCount: 3, k: 1)
        for _ in 0..<9 { m.add(logits: [1, 0, 0], labels: [0]) }
        m.add(logits: [1, 0, 0], labels: [1])
        XCTAssertEqual(m.top1, 0.9, accuracy: 1e-12)
        XCTAssertEqual(m.balancedAccuracy, 0.5, accuracy: 1e-12, "(1 + 0) / 2: class 2 has no samples")
        // Class 0: precision 0.9, recall 1, F1 18/19; classes 1 and 2: F1 0.
        XCTAssertEqual(m.macroF1, (18.0 / 19) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, m.summary().macroF1, accuracy: 1e-12)
    }

    func testMergeAndPackedAllReduceAreExact() throws {
        var a = ClassificationMetrics(classCount: 3, k: 2)
        a.add(logits: [2, 1, 0, 0, 3, 1], labels: [0, 2])
        var b = ClassificationMetrics(classCount: 3, k: 2)
        b.add(logits: [1, 1, 1], labels: [1])
        XCTAssertEqual(a + b, sample())
        // Element-wise sum of the packed vectors, as an all-reduce would do.
        let summed = zip(a.packed(), b.packed()).map { $0 + $1 }
        let back = try ClassificationMetrics(classCount: 3, k: 2, packed: summed)
        XCTAssertEqual(back.count, 3)
        XCTAssertEqual(back.confusion, sample().confusion)
        XCTAssertEqual(back.loss, sample().loss, accuracy: 1e-12)
        var r = back
        r.reset()
        XCTAssertEqual(r, ClassificationMetrics(classCount: 3, k: 2))
    }

    /// The packed vector comes from other ranks: a wrong length, a NaN, a negative or a huge
    /// count is an error naming what is wrong, not a trap.
    func testAPackedVectorThatDoesNotAddUpIsAnError() {
        let good = [3.0, 1.5, 2, 3] + [Double](repeating: 0, count: 9)
        XCTAssertNoThrow(try ClassificationMetrics(classCount: 3, k: 2, packed: good))
        var nan = good; nan[0] = .nan
        var negative = good; negative[6] = -1
        var huge = good; huge[2] = 1e300
        for (packed, expected) in [(Array(good.dropLast()), "has 12 values; 3 classes need 13"), (nan, "count is nan"),
                                   (negative, "confusion count is -1.0"), (huge, "top-1 count is 1e+300")] {
            XCTAssertThrowsError(try ClassificationMetrics(classCount: 3, k: 2, packed: packed)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
    }

    func testProbabilitiesForEnsembles() {
        var m = ClassificationMetrics(classCount: 2)
        XCTAssertEqual(m.k, 2, "k is clamped to the class count")
        m.add(probabilities: [0.25, 0.75, 0.5, 0.5], labels: [1, 1])
        XCTAssertEqual(m.top1Correct, 1)    // the tie goes to class 0
        XCTAssertEqual(m.loss, (-log(0.75) - log(0.5)) / 2, accuracy: 1e-7)
        var z = ClassificationMetrics(classCount: 2)
        z.add(probabilities: [1, 0], labels: [1])
        XCTAssertTrue(z.loss.isFinite && z.loss > 100)
    }

    func testInt32LabelsAndLargeLogits() {
        var m = ClassificationMetrics(classCount: 10)
        let logits: [Float] = (0..<10).map { $0 == 7 ? 1000 : -1000 }
        let labels: [Int32] = [7]
        logits.withUnsafeBufferPointer { m.add(logits: $0, labels: labels) }
        XCTAssertEqual(m.top1, 1)
        XCTAssertEqual(m.loss, 0, accuracy: 1e-12, "log-sum-exp is stable")
    }

    func testSummaryJSONAndTables() throws {
        let json = try JSONEncoder().encode(sample().summary(classNames: ["cat", "dog", "eel"]))
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        for key in ["count", "loss", "top1", "top_k", "k", "macro_precision", "macro_recall", "macro_f1", "per_class", "confusion"] {
            XCTAssertNotNil(object[key], key)
        }
        XCTAssertEqual(((object["per_class"] as! [[String: Any]])[2])["name"] as? String, "eel")
        XCTAssertEqual(try JSONDecoder().decode(MetricsSummary.self, from: json), sample().summary(classNames: ["cat", "dog", "eel"]))
        XCTAssertTrue(sample().perClassTable(classNames: ["cat", "dog", "eel"]).contains("2 eel"))
        XCTAssertEqual(sample().confusionTable().split(separator: "\n").count, 4)
    }
}
