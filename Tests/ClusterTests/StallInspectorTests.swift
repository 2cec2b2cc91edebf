import Cluster
import Foundation
import XCTest

final class StallInspectorTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    func testReportsOnceWhoIsWhereWhenTheSlowestRankStopsAdvancing() throws {
        let inspector = StallInspector(minimumSeconds: 10, factor: 20)
        // Three ranks stepping every 0.1 s for 10 s.
        for i in 0..<100 {
            let now = t0.addingTimeInterval(Double(i) * 0.1)
            for r in 0..<3 { inspector.observe(rank: r, step: i, phase: "backward", at: now) }
        }
        var now = t0.addingTimeInterval(9.9)
        XCTAssertNil(inspector.check(worldSize: 3, at: now.addingTimeInterval(5)), "steady progress is no stall")
        // Rank 2 stops after step 100; ranks 0 and 1 wait in the all-reduce of step 101.
        now = now.addingTimeInterval(0.1)
        inspector.observe(rank: 0, step: 100, phase: "wait for all-reduce", at: now)
        inspector.observe(rank: 1, step: 100, phase: "wait for all-reduce", at: now)
        inspector.observe(rank: 2, step: 99, phase: "backward", at: now)
        XCTAssertNil(inspector.check(worldSize: 3, at: now.addingTimeInterval(9)), "not yet: the minimum is 10 s")
        inspector.observe(rank: 0, step: 100, phase: "wait for all-reduce", at: now.addingTimeInterval(10))
        let report = try XCTUnwrap(inspector.check(worldSize: 3, at: now.addingTimeInterval(12)))
        XCTAssertTrue(report.hasPrefix("stall: step 100 has not completed on every rank for 12 s (median step 0.100 s)"), report)
        XCTAssertTrue(report.contains("rank 2: step 100 'backward', last heard 12 s ago"), report)
        XCTAssertTrue(report.contains("rank 0: step 101 'wait for all-reduce' (ahead by 1), last heard 2 s ago"), report)
        XCTAssertNil(inspector.check(worldSize: 3, at: now.addingTimeInterval(20)), "one report per stall")
        // Progress resumes: a later stall is reported again.
        for r in 0..<3 { inspector.observe(rank: r, step: 101, phase: "forward", at: now.addingTimeInterval(21)) }
        XCTAssertNil(inspector.check(worldSize: 3, at: now.addingTimeInterval(22)))
        XCTAssertNotNil(inspector.check(worldSize: 3, at: now.addingTimeInterval(40)))
    }

    func testSlowStepsRaiseTheThreshold() {
        let inspector = StallInspector(minimumSeconds: 1, factor: 20)
        for i in 0..<10 { inspector.observe(rank: 0, step: i, phase: "forward", at: t0.addingTimeInterval(Double(i) * 2)) }
        // Median step 2 s: a stall is 40 s, not 1 s.
        XCTAssertNil(inspector.check(worldSize: 1, at: t0.addingTimeInterval(18 + 30)))
        XCTAssertNotNil(inspector.check(worldSize: 1, at: t0.addingTimeInterval(18 + 41)))
    }

    func testNoReportBeforeEveryRankHasBeenHeard() {
        let inspector = StallInspector(minimumSeconds: 1)
        inspector.observe(rank: 0, step: 0, phase: "forward", at: t0)
        XCTAssertNil(inspector.check(worldSize: 2, at: t0.addingTimeInterval(100)))
    }
}
