import Collectives
import XCTest

final class RingPlanTests: XCTestCase {
    func testChunksCoverTheBufferAndDifferByAtMostOne() {
        for n in 1...9 {
            for count in [0, 1, 2, 7, 8, 9, 100, 1001] {
                let plan = RingPlan(worldSize: n, count: count, segmentElements: 3)
                XCTAssertEqual(plan.chunks.count, n)
                XCTAssertEqual(plan.chunks.first?.lowerBound, 0)
                XCTAssertEqual(plan.chunks.last?.upperBound, count)
                for c in 1..<n { XCTAssertEqual(plan.chunks[c - 1].upperBound, plan.chunks[c].lowerBound) }
                let sizes = plan.chunks.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1)
                for c in 0..<n {
                    let segs = plan.segments(ofChunk: c)
                    XCTAssertEqual(segs.map(\.count).reduce(0, +), plan.chunks[c].count)
                    XCTAssertTrue(segs.allSatisfy { $0.count >= 1 && $0.count <= 3 })
                }
            }
        }
    }

    func testEverySendMatchesTheRightNeighboursReceive() {
        for n in 1...8 {
            for count in [0, 1, 7, 1000] {
                let plan = RingPlan(worldSize: n, count: count, segmentElements: 64)
                for r in 0..<n {
                    let sends = plan.sends(rank: r)
                    let recvs = plan.receives(rank: (r + 1) % n)
                    XCTAssertEqual(sends.count, recvs.count)
                    for (s, t) in zip(sends, recvs) {
                        XCTAssertEqual(s.phase, t.phase); XCTAssertEqual(s.step, t.step)
                        XCTAssertEqual(s.chunk, t.chunk); XCTAssertEqual(s.segment, t.segment); XCTAssertEqual(s.range, t.range)
                    }
                    // Dependencies point backwards at a receive of the same range.
                    let mine = plan.receives(rank: r)
                    for s in sends {
                        if let a = s.after { XCTAssertEqual(mine[a].range, s.range) }
                        if s.phase == .reduceScatter && s.step == 0 { XCTAssertNil(s.after) } else { XCTAssertNotNil(s.after) }
                        if s.forward { XCTAssertTrue(mine[s.after!].forward) }
                    }
                }
            }
        }
    }

    func testOwnershipAndSummationOrder() {
        // Rank r ends the reduce-scatter owning chunk r; chunk c starts at rank c+1.
        for n in 2...8 {
            let plan = RingPlan(worldSize: n, count: 10 * n, segmentElements: 100)
            for r in 0..<n {
                XCTAssertEqual(plan.chunkReceived(rank: r, phase: .reduceScatter, step: n - 2), r)
                XCTAssertEqual(plan.chunkSent(rank: r, phase: .reduceScatter, step: 0), (r + n - 1) % n)
                XCTAssertEqual(plan.chunkSent(rank: r, phase: .allGather, step: 0), r)
                // Over the all-gather a rank receives every chunk but its own exactly once.
                let got = Set((0..<(n - 1)).map { plan.chunkReceived(rank: r, phase: .allGather, step: $0) })
                XCTAssertEqual(got, Set(0..<n).subtracting([r]))
            }
        }
    }

    func testWorldOfOneHasNoTransfers() {
        let plan = RingPlan(worldSize: 1, count: 1000, segmentElements: 10)
        XCTAssertTrue(plan.sends(rank: 0).isEmpty)
        XCTAssertTrue(plan.receives(rank: 0).isEmpty)
    }
}
