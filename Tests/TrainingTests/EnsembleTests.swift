import Training
import XCTest

/// Weighted means and votes against hand-computed cases, and the test-time views.
final class EnsembleTests: XCTestCase {
    let a: [Double] = [0.6, 0.3, 0.1]
    let b: [Double] = [0.1, 0.5, 0.4]
    let c: [Double] = [0.2, 0.45, 0.35]

    func testWeightedMeanHandComputed() {
        let (p, votes) = EnsembleRule.combine([a, b], weights: [0.75, 0.25], rule: .mean)
        XCTAssertNil(votes)
        // 0.75·0.6 + 0.25·0.1 = 0.475; 0.75·0.3 + 0.25·0.5 = 0.35; 0.75·0.1 + 0.25·0.4 = 0.175.
        for (x, y) in zip(p, [0.475, 0.35, 0.175]) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        // Weights need not sum to 1: 3:1 is the same ensemble.
        XCTAssertEqual(EnsembleRule.combine([a, b], weights: [3, 1], rule: .mean).probabilities, p)
        XCTAssertEqual(EnsembleRule.combine([a, b], weights: nil, rule: .mean).probabilities.map { ($0 * 100).rounded() }, [35, 40, 25])
    }

    func testMajorityVoteAndItsTieBreak() {
        // A confident first member votes 0, b and c vote 1: the mean is [0.4267, 0.32, 0.2533],
        // the vote 2:1 for class 1.
        let confident: [Double] = [0.98, 0.01, 0.01]
        let (p, votes) = EnsembleRule.combine([confident, b, c], weights: nil, rule: .vote)
        XCTAssertEqual(votes, [1, 2, 0])
        XCTAssertGreaterThan(p[0], p[1], "the mean favours class 0...")
        var m = ClassificationMetrics(classCount: 3, k: 1)
        m.add(probabilities: p.map(Float.init), votes: votes, label: 1)
        XCTAssertEqual(m.top1Correct, 1, "...the vote says 1")
        XCTAssertEqual(m.confusion(actual: 1, predicted: 1), 1)
        XCTAssertEqual(m.lossSum, -log(Double(Float(p[1]))), accuracy: 1e-6, "the loss is the mean probability's")

        // a votes 0, b votes 1: the 1:1 tie goes to the larger summed probability, class 1
        // (0.3 + 0.5 = 0.8 against 0.6 + 0.1 = 0.7).
        let (q, tied) = EnsembleRule.combine([a, b], weights: nil, rule: .vote)
        XCTAssertEqual(tied, [1, 1, 0])
        var t = ClassificationMetrics(classCount: 3, k: 2)
        t.add(probabilities: q.map(Float.init), votes: tied, label: 0)
        XCTAssertEqual(t.top1Correct, 0)
        XCTAssertEqual(t.topKCorrect, 1, "class 0 is second")
        XCTAssertEqual(t.confusion(actual: 0, predicted: 1), 1)

        // Weighted votes: 0.7 for a outweighs b.
        XCTAssertEqual(EnsembleRule.combine([a, b], weights: [0.7, 0.3], rule: .vote).votes, [0.7, 0.3, 0])
    }

    func testViewsMirrorAndShiftWithFill() {
        // One 2x3 single-channel image: 1 2 3 / 4 5 6.
        let image: [Float] = [1, 2, 3, 4, 5, 6]
        var out = [Float](repeating: 0, count: 6)
        func view(_ v: TestTimeView) -> [Float] {
            image.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    v.apply(source: src.baseAddress!, output: dst.baseAddress!, count: 1, channels: 1, height: 2, width: 3, fill: [-9])
                }
            }
            return out
        }
        XCTAssertEqual(view(.identity), image)
        XCTAssertEqual(view(.flip), [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(view(.shift(dx: 1, dy: 0)), [-9, 1, 2, -9, 4, 5])
        XCTAssertEqual(view(.shift(dx: -1, dy: 1)), [-9, -9, -9, 2, 3, -9])
        XCTAssertEqual(view(.flipShift(dx: 1, dy: 0)), [2, 1, -9, 5, 4, -9], "the shifted image, mirrored")
        XCTAssertEqual(TestTimeView.views(flip: true, cropPadding: 0), [.identity, .flip])
        XCTAssertEqual(TestTimeView.views(flip: false, cropPadding: 2).count, 5)
        XCTAssertEqual(TestTimeView.views(flip: true, cropPadding: 2).count, 10)
    }

    func testWeightsOption() throws {
        XCTAssertEqual(try EnsembleWeights.parse("0.5,0.3,0.2"), .list([0.5, 0.3, 0.2]))
        XCTAssertEqual(try EnsembleWeights.parse("ema"), .ema)
        XCTAssertEqual(try EnsembleWeights.parse("validation"), .validation)
        for bad in ["", "0.5,x", "0,0", "-1,2", "inf"] {
            XCTAssertThrowsError(try EnsembleWeights.parse(bad), bad)
        }
    }
}
