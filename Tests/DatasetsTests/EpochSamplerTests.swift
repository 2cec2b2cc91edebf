import Datasets
import XCTest

final class EpochSamplerTests: XCTestCase {
    let sizes = [0, 1, 2, 5, 13, 64, 101]

    func testEveryEpochIsAPermutationAndDependsOnEpoch() {
        let s = EpochSampler(datasetSize: 101, seed: 9)
        XCTAssertEqual(s.epochOrder(epoch: 0).sorted(), Array(0..<101))
        XCTAssertNotEqual(s.epochOrder(epoch: 0), s.epochOrder(epoch: 1))
        XCTAssertEqual(s.epochOrder(epoch: 3), EpochSampler(datasetSize: 101, seed: 9).epochOrder(epoch: 3))
        XCTAssertNotEqual(s.epochOrder(epoch: 0), EpochSampler(datasetSize: 101, seed: 10).epochOrder(epoch: 0))
        XCTAssertEqual(EpochSampler(datasetSize: 7, seed: 1, order: .sequential).epochOrder(epoch: 5), Array(0..<7))
    }

    /// Across ranks every sample appears once per epoch, plus the declared padding; shards are
    /// disjoint apart from padding; shards have equal length.
    func testShardsCoverEpochExactlyOnceForWorldSizes1To7() {
        for n in sizes {
            for world in 1...7 {
                for dropLast in [false, true] {
                    let s = EpochSampler(datasetSize: n, seed: 42, dropLast: dropLast)
                    let shards = (0..<world).map { s.indices(epoch: 2, cursor: 0, rank: $0, worldSize: world) }
                    let perRank = s.samplesPerRank(cursor: 0, worldSize: world)
                    XCTAssertTrue(shards.allSatisfy { $0.count == perRank }, "n=\(n) world=\(world)")
                    let all = shards.flatMap { $0 }
                    if dropLast {
                        XCTAssertEqual(all.count, n / world * world)
                        XCTAssertEqual(Set(all).count, all.count, "disjoint, n=\(n) world=\(world)")
                    } else {
                        let padding = n == 0 ? 0 : (world - n % world) % world
                        XCTAssertEqual(all.count, n + padding, "n=\(n) world=\(world)")
                        XCTAssertEqual(Set(all), Set(0..<n), "every sample present, n=\(n) world=\(world)")
                        // Without the padding (the last `padding` positions), no sample repeats.
                        let order = s.epochOrder(epoch: 2)
                        let paddedPositions = Set(order.prefix(padding))
                        var counts: [Int: Int] = [:]
                        for i in all { counts[i, default: 0] += 1 }
                        for (i, c) in counts {
                            XCTAssertEqual(c, paddedPositions.contains(i) && n >= padding ? 2 : c, "n=\(n) world=\(world)")
                            XCTAssertLessThanOrEqual(c, n == 0 ? 0 : 1 + (world + n - 1) / n)
                        }
                        XCTAssertEqual(counts.values.reduce(0, +) - Set(all).count, padding)
                    }
                }
            }
        }
    }

    func testResultsIdenticalAcrossRuns() {
        for world in 1...7 {
            let a = EpochSampler(datasetSize: 101, seed: 5)
            let b = EpochSampler(datasetSize: 101, seed: 5)
            for r in 0..<world {
                XCTAssertEqual(a.indices(epoch: 1, cursor: 17, rank: r, worldSize: world),
                               b.indices(epoch: 1, cursor: 17, rank: r, worldSize: world))
            }
        }
    }

    /// Train with world size W for some steps, stop at the cursor, resume with world size W'
    /// (any, also equal): the union of what was seen before and after is exactly the epoch,
    /// and nothing seen before is drawn again (apart from padding at the very end).
    func testResumeFromAnyCursorWithAnyWorldSizeYieldsExactlyTheUnseen() {
        let n = 101, batch = 3
        let s = EpochSampler(datasetSize: n, seed: 77)
        for before in 1...7 {
            for steps in [0, 1, 2, 5] {
                var seen: [Int] = []
                for r in 0..<before {
                    seen += s.indices(epoch: 4, cursor: 0, rank: r, worldSize: before).prefix(batch * steps)
                }
                let cursor = s.advance(cursor: 0, batchSize: batch * steps, worldSize: before)
                XCTAssertEqual(cursor, min(batch * steps * before, n))
                let seenReal = Set(seen)
                XCTAssertEqual(seenReal, Set(s.epochOrder(epoch: 4).prefix(cursor)), "before=\(before) steps=\(steps)")
                for after in 1...7 {
                    var rest: [Int] = []
                    for r in 0..<after { rest += s.indices(epoch: 4, cursor: cursor, rank: r, worldSize: after) }
                    let padding = (after - (n - cursor) % after) % after
                    XCTAssertEqual(rest.count, n - cursor + padding)
                    let unseen = Set(0..<n).subtracting(seenReal)
                    XCTAssertEqual(Set(rest.dropLast(0)).union(seenReal), Set(0..<n))
                    // The first n - cursor positions of the remaining order are exactly the unseen.
                    let remainingOrder = Array(s.epochOrder(epoch: 4)[cursor...])
                    XCTAssertEqual(Set(remainingOrder), unseen)
                    var fromShards = [Int](repeating: -1, count: rest.count)
                    for r in 0..<after {
                        for (j, i) in s.indices(epoch: 4, cursor: cursor, rank: r, worldSize: after).enumerated() {
                            fromShards[j * after + r] = i
                        }
                    }
                    XCTAssertEqual(Array(fromShards.prefix(n - cursor)), remainingOrder)
                }
            }
        }
    }

    /// Resuming with the same world size reproduces the uninterrupted batches exactly.
    func testResumeWithSameWorldSizeReproducesBatches() {
        let s = EpochSampler(datasetSize: 50, seed: 3)
        for world in 1...4 {
            let batch = 4
            for r in 0..<world {
                let full = s.indices(epoch: 0, cursor: 0, rank: r, worldSize: world)
                let cursor = s.advance(cursor: 0, batchSize: batch * 2, worldSize: world)
                let resumed = s.indices(epoch: 0, cursor: cursor, rank: r, worldSize: world)
                XCTAssertEqual(Array(full.dropFirst(batch * 2)), resumed, "world \(world) rank \(r)")
            }
        }
    }

    func testBalancedOversamplingEqualisesClasses() {
        // 3 classes with 10, 3, 1 samples.
        let labels: [Int32] = Array(repeating: 0, count: 10) + Array(repeating: 1, count: 3) + [2]
        let s = EpochSampler(datasetSize: labels.count, seed: 11, order: .balanced(labels: labels, classCount: 3))
        XCTAssertEqual(s.epochLength, 30)
        for epoch in 0..<3 {
            let order = s.epochOrder(epoch: epoch)
            var perClass = [0, 0, 0]
            for i in order { perClass[Int(labels[i])] += 1 }
            XCTAssertEqual(perClass, [10, 10, 10])
            XCTAssertEqual(Set(order.filter { labels[$0] == 0 }).count, 10, "majority class each once")
            XCTAssertEqual(order, s.epochOrder(epoch: epoch))
        }
        XCTAssertNotEqual(s.epochOrder(epoch: 0), s.epochOrder(epoch: 1))
    }

    /// Class 0: 10 samples, class 1: 3, class 2: 1, class 3: 5, class 4: none (it takes no part).
    let imbalanced: [Int32] = [0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 0, 3, 3, 0, 1, 0, 3, 3, 3]

    func testUndersamplingDrawsTheMinorityCountFromEveryClassWithoutRepeats() {
        let labels = imbalanced
        let s = EpochSampler(datasetSize: labels.count, seed: 11, order: .undersampled(labels: labels, classCount: 5))
        XCTAssertEqual(s.epochLength, 4)
        var drawnFromMajority = Set<Int>()
        for epoch in 0..<40 {
            let order = s.epochOrder(epoch: epoch)
            var perClass = [0, 0, 0, 0, 0]
            for i in order { perClass[Int(labels[i])] += 1 }
            XCTAssertEqual(perClass, [1, 1, 1, 1, 0], "epoch \(epoch)")
            XCTAssertEqual(Set(order).count, order.count, "no sample twice in an epoch")
            XCTAssertEqual(order, s.epochOrder(epoch: epoch), "a pure function of (seed, epoch)")
            drawnFromMajority.formUnion(order.filter { labels[$0] == 0 })
        }
        // A fresh subset each epoch: over 40 epochs most of the 10 majority samples are drawn.
        XCTAssertGreaterThan(drawnFromMajority.count, 8)
        let other = EpochSampler(datasetSize: labels.count, seed: 12, order: .undersampled(labels: labels, classCount: 5))
        XCTAssertNotEqual((0..<5).flatMap { other.epochOrder(epoch: $0) }, (0..<5).flatMap { s.epochOrder(epoch: $0) })
    }

    func testSamplesPerClassUndersamplesLargeClassesAndRepeatsSmallOnes() {
        let labels = imbalanced
        let s = EpochSampler(datasetSize: labels.count, seed: 3, order: .undersampled(labels: labels, classCount: 5, perClass: 4))
        XCTAssertEqual(s.epochLength, 16)
        for epoch in 0..<5 {
            let order = s.epochOrder(epoch: epoch)
            var perClass = [0, 0, 0, 0, 0]
            for i in order { perClass[Int(labels[i])] += 1 }
            XCTAssertEqual(perClass, [4, 4, 4, 4, 0])
            // Classes with at least 4 samples: 4 distinct ones; class 1 (3 samples) all 3 and one again.
            for c: Int32 in [0, 3] { XCTAssertEqual(Set(order.filter { labels[$0] == c }).count, 4) }
            XCTAssertEqual(Set(order.filter { labels[$0] == 1 }).count, 3)
        }
        let balanced = EpochSampler(datasetSize: labels.count, seed: 3, order: .balanced(labels: labels, classCount: 5, perClass: 2))
        XCTAssertEqual(balanced.epochLength, 8, "samples_per_class applies to the balanced sampler too")
    }

    /// Undersampled epochs shard and resume like the others: any cursor, any world size before
    /// and after, and the shards together are exactly the rest of the epoch's order.
    func testUndersampledEpochResumesWithAnyWorldSize() {
        var labels: [Int32] = []
        for i in 0..<90 { labels.append(Int32(i % 7 == 0 ? 1 : i % 11 == 0 ? 2 : 0)) }
        let s = EpochSampler(datasetSize: labels.count, seed: 5, order: .undersampled(labels: labels, classCount: 3))
        let n = s.epochLength
        XCTAssertEqual(n, 3 * 7)
        let order = s.epochOrder(epoch: 2)
        for before in 1...5 {
            for steps in [0, 1, 2] {
                let cursor = s.advance(cursor: 0, batchSize: 2 * steps, worldSize: before)
                var seen = Set<Int>()
                for r in 0..<before { seen.formUnion(s.indices(epoch: 2, cursor: 0, rank: r, worldSize: before).prefix(2 * steps)) }
                XCTAssertEqual(seen, Set(order.prefix(cursor)))
                for after in 1...5 {
                    var fromShards = [Int](repeating: -1, count: s.samplesPerRank(cursor: cursor, worldSize: after) * after)
                    for r in 0..<after {
                        for (j, i) in s.indices(epoch: 2, cursor: cursor, rank: r, worldSize: after).enumerated() {
                            fromShards[j * after + r] = i
                        }
                    }
                    XCTAssertEqual(Array(fromShards.prefix(n - cursor)), Array(order[cursor...]), "before \(before) steps \(steps) after \(after)")
                }
            }
        }
    }
}
