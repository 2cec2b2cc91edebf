import Foundation
import Training
import Tuning
import XCTest

final class CrossValidationTests: XCTestCase {
    func testMeanAndPopulationStandardDeviation() {
        // [0.8, 0.9, 1.0]: mean 0.9, std sqrt((0.01 + 0 + 0.01) / 3) = 0.08165.
        let m = CrossValidation.MeanStd([0.8, 0.9, 1.0])
        XCTAssertEqual(m.mean, 0.9, accuracy: 1e-12)
        XCTAssertEqual(m.std, (0.02 / 3).squareRoot(), accuracy: 1e-12)
    }

    func testFoldConfigsAndTheirChecks() throws {
        var base = TrainingConfig()
        base.epochs = 1
        let cv = try CrossValidation(directory: NSTemporaryDirectory() + "cv-\(UUID().uuidString)", base: base, folds: 4, stratified: true)
        let c = cv.config(fold: 3)
        XCTAssertEqual([c.cvFolds, c.cvFold], [4, 3])
        XCTAssertTrue(c.cvStratified)
        XCTAssertNoThrow(try c.validate())
        var bad = c
        bad.cvFold = 4
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("cv_fold"), "\($0)") }
        XCTAssertThrowsError(try CrossValidation(directory: "/tmp/x", base: base, folds: 1, stratified: false))
    }
}
