import Datasets
import XCTest

final class SplitsTests: XCTestCase {
    let labels: [Int32] = (0..<1000).map { Int32($0 % 7 == 0 ? 3 : $0 % 3) }

    func testStratifiedSplitKeepsProportionsAndPartitions() {
        let (train, val) = Splits.stratified(labels: labels, classCount: 4, validationFraction: 0.1, seed: 1)
        XCTAssertEqual(Set(train).intersection(val), [])
        XCTAssertEqual(Set(train).union(val), Set(0..<1000))
        var total = [Int](repeating: 0, count: 4), inVal = [Int](repeating: 0, count: 4)
        for l in labels { total[Int(l)] += 1 }
        for i in val { inVal[Int(labels[i])] += 1 }
        for c in 0..<4 { XCTAssertEqual(inVal[c], Int((0.1 * Double(total[c])).rounded())) }
        let again = Splits.stratified(labels: labels, classCount: 4, validationFraction: 0.1, seed: 1)
        XCTAssertEqual(again.validation, val)
        XCTAssertNotEqual(Splits.stratified(labels: labels, classCount: 4, validationFraction: 0.1, seed: 2).validation, val)
    }

    func testKFoldPartitionsAndBalancesClasses() {
        let folds = Splits.kFold(labels: labels, classCount: 4, folds: 5, seed: 3)
        XCTAssertEqual(folds.count, 5)
        XCTAssertEqual(folds.flatMap { $0 }.sorted(), Array(0..<1000))
        for c in 0..<4 {
            let counts = folds.map { f in f.filter { labels[$0] == Int32(c) }.count }
            XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "class \(c): \(counts)")
        }
    }

    func testBalancedClassWeights() {
        let w = ClassWeights.balanced(classCounts: [50, 25, 25, 0])
        // n = 100, k = 4: 100 / (4 * 50) = 0.5, 100 / (4 * 25) = 1.
        XCTAssertEqual(w, [0.5, 1, 1, 0])
    }

    func testShuffledKFoldPartitionsIntoEqualFolds() {
        let folds = Splits.kFoldShuffled(count: 103, folds: 4, seed: 9)
        XCTAssertEqual(folds.flatMap { $0 }.sorted(), Array(0..<103))
        XCTAssertEqual(folds.map(\.count), [26, 26, 26, 25])
        XCTAssertEqual(folds, Splits.kFoldShuffled(count: 103, folds: 4, seed: 9))
        XCTAssertNotEqual(folds, Splits.kFoldShuffled(count: 103, folds: 4, seed: 10))
        XCTAssertNotEqual(folds[0], Array(0..<26), "shuffled, not contiguous")
    }
}
