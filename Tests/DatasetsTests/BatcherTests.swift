import Datasets
import Tensors
import XCTest

final class BatcherTests: XCTestCase {
    func makeImages(count: Int) -> LabeledImages {
        LabeledImages(channels: 1, height: 2, width: 3, classCount: 10,
                      pixels: (0..<(count * 6)).map { UInt8($0 % 256) }, labels: (0..<count).map { UInt8($0 % 10) })
    }

    func testBatchHoldsNormalisedNCHWImagesAndLabels() {
        let data = makeImages(count: 20)
        let assembler = BatchAssembler(data: data, mean: [0.5], std: [0.25], seed: 1)
        let batch = assembler.makeBatch(capacity: 4)
        assembler.fill(batch, indices: [7, 2, 19], epoch: 0)
        XCTAssertEqual(batch.count, 3)
        XCTAssertEqual(Array(batch.labels.prefix(3)), [7, 2, 9])
        for (slot, index) in [7, 2, 19].enumerated() {
            for j in 0..<6 {
                XCTAssertEqual(batch.images[slot * 6 + j], (Float((index * 6 + j) % 256) / 255 - 0.5) / 0.25, accuracy: 1e-6)
            }
        }
    }

    func testPrefetcherDeliversThePlanInOrder() {
        let data = makeImages(count: 50)
        let assembler = BatchAssembler(data: data, mean: [0], std: [1], seed: 1)
        let sampler = EpochSampler(datasetSize: 50, seed: 4)
        let indices = sampler.indices(epoch: 0, cursor: 0, rank: 0, worldSize: 1)
        let plan = Prefetcher.chunk(indices, batchSize: 8)
        XCTAssertEqual(plan.map(\.count), [8, 8, 8, 8, 8, 8, 2])
        let prefetcher = Prefetcher(assembler: assembler, plan: plan, epoch: 0, capacity: 8)
        var got: [Int32] = []
        while let b = prefetcher.next() { got += b.labels.prefix(b.count) }
        XCTAssertEqual(got, indices.map { Int32($0 % 10) })
        XCTAssertNil(prefetcher.next())
    }

    /// One batch held, the other filled: the producer waits for a free slot. Cancelling then
    /// must wake it and return (within a bound far above its few microseconds), not hang.
    func testCancellingMidPlanReturnsPromptly() {
        let data = makeImages(count: 100)
        let assembler = BatchAssembler(data: data, mean: [0], std: [1], seed: 1)
        let plan = Prefetcher.chunk(Array(0..<100), batchSize: 5)
        let prefetcher = Prefetcher(assembler: assembler, plan: plan, epoch: 0, capacity: 5)
        XCTAssertNotNil(prefetcher.next())
        usleep(50_000)   // time for the producer to fill the other slot and block
        let returned = DispatchSemaphore(value: 0)
        Thread {
            prefetcher.cancel()
            prefetcher.cancel()   // a second cancel is a no-op
            returned.signal()
        }.start()
        XCTAssertEqual(returned.wait(timeout: .now() + 5), .success, "cancel() did not return: the producer was not woken")
        // After a cancel the plan is over: no further batch, and no wait for one.
        let started = Date()
        XCTAssertNil(prefetcher.next())
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    }
}
