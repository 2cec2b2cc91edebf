import Foundation
import Training
import XCTest

final class RunDirectoryTests: XCTestCase {
    /// metrics.jsonl that cannot be written (here: a directory stands in its place, as a full
    /// disk would fail it): one warning, every lost line counted, no error.
    func testUnwritableMetricsLinesAreWarnedAboutOnceAndCounted() throws {
        let path = NSTemporaryDirectory() + "ringtrain-rundir-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try RunDirectory(path: path)
        try FileManager.default.createDirectory(atPath: run.metricsPath, withIntermediateDirectories: true)
        var warnings: [String] = []
        for step in 1...3 { run.appendMetrics(["event": "train", "step": step], warningOnce: { warnings.append($0) }) }
        XCTAssertEqual(run.droppedMetricsLines, 3)
        XCTAssertEqual(warnings.count, 1, "\(warnings)")
        XCTAssertTrue(warnings.first?.hasPrefix("cannot append to \(run.metricsPath)") ?? false, "\(warnings)")
        run.close()
    }
}
