import Datasets
import XCTest

/// The real data set (scripts/test.sh installs Debian's dataset-fashion-mnist).
final class FashionMNISTTests: XCTestCase {
    static let directory = "/usr/share/datasets/fashion-mnist"

    func testRealFashionMNISTCountsShapeAndStatistics() throws {
        let d = try Dataset.load(directory: Self.directory)
        XCTAssertEqual(d.train.count, 60000)
        XCTAssertEqual(d.test.count, 10000)
        XCTAssertEqual([d.train.channels, d.train.height, d.train.width], [1, 28, 28])
        XCTAssertEqual(d.train.classCounts, Array(repeating: 6000, count: 10))
        XCTAssertEqual(d.test.classCounts, Array(repeating: 1000, count: 10))
        let s = DatasetStatistics(d.train)
        XCTAssertEqual(s.mean[0], 0.286, accuracy: 0.001)
        XCTAssertEqual(s.std[0], 0.353, accuracy: 0.001)
        XCTAssertEqual(s.imbalanceRatio, 1)
    }
}
