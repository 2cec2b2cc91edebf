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
        XCTAssertTrue(report.hasPrefix("stall: the slowest rank has reported no progress past step 100 for 12 s (median step 0.100 s)"), report)
        XCTAssertTrue(report.contains("rank 2: step 100 'backward', reported 12 s ago"), report)
        XCTAssertTrue(report.contains("rank 0: step 101 'wait for all-reduce', reported 2 s ago"), report)
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

    /// Heartbeats every 5 s, staggered between ranks, steps of 1 ms: the cluster's step jumps
    /// unevenly, but the step time comes from each rank's own progress, so a frozen rank is
    /// reported after the minimum, not after 20 x a bogus median.
    func testStaggeredHeartbeatsGiveTheTrueStepTime() throws {
        let inspector = StallInspector(minimumSeconds: 4, factor: 20)
        var t = 0.0
        for beat in 0..<6 {
            t = Double(beat) * 5
            inspector.observe(rank: 0, step: beat * 5000, phase: "backward", at: t0.addingTimeInterval(t))
            inspector.observe(rank: 1, step: beat * 5000 + 3, phase: "forward", at: t0.addingTimeInterval(t + 0.1))
        }
        // Rank 1 freezes; rank 0 waits in the all-reduce and keeps beating.
        for beat in 6..<9 {
            inspector.observe(rank: 0, step: 25_004, phase: "wait for all-reduce", at: t0.addingTimeInterval(Double(beat) * 5))
        }
        let report = try XCTUnwrap(inspector.check(worldSize: 2, at: t0.addingTimeInterval(40)))
        XCTAssertTrue(report.contains("median step 0.001 s"), report)
        XCTAssertTrue(report.contains("rank 1: step 25004 'forward', reported 15 s ago"), report)
    }

    /// A rank frozen before its first heartbeat is the most stalled of all: reported once the
    /// minimum has passed since the ring's first heartbeat, by name, not waited for.
    func testARankNeverHeardFromIsReported() throws {
        let inspector = StallInspector(minimumSeconds: 10)
        inspector.observe(rank: 0, step: 0, phase: "forward", at: t0)
        inspector.observe(rank: 0, step: 0, phase: "wait for all-reduce", at: t0.addingTimeInterval(5))
        XCTAssertNil(inspector.check(worldSize: 2, at: t0.addingTimeInterval(9)), "not before the minimum")
        let report = try XCTUnwrap(inspector.check(worldSize: 2, at: t0.addingTimeInterval(12)))
        XCTAssertTrue(report.hasPrefix("stall: rank 1 sent no heartbeat in the 12 s since the ring's first: rank 1: never reported; rank 0: step 1 'wait for all-reduce'"), report)
        XCTAssertNil(inspector.check(worldSize: 2, at: t0.addingTimeInterval(20)), "once per stall")
    }
}
