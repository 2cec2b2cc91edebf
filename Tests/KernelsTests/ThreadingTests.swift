import XCTest
import Foundation
import Tensors
import Kernels

/// parallelFor on the kernel thread pool: every task runs exactly once, on the worker the
/// static split names, also when calls nest, come from several threads at once, or follow each
/// other after the pool threads have parked.
final class ThreadingTests: XCTestCase {
    /// Runs parallelFor and returns, per task, how many times it ran and which thread ran it.
    func record(tasks: Int, threads: Int, inside: ((Int) -> Void)? = nil) -> (counts: [Int], runners: [UInt64]) {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
        let runners = UnsafeMutablePointer<UInt64>.allocate(capacity: tasks)
        counts.initialize(repeating: 0, count: tasks)
        runners.initialize(repeating: 0, count: tasks)
        defer { counts.deallocate(); runners.deallocate() }
        parallelFor(tasks, threads: threads) { t in
            counts[t] += 1  // each task has its own slot: no two threads write one
            runners[t] = UInt64(pthread_self())
            inside?(t)
        }
        return (Array(UnsafeBufferPointer(start: counts, count: tasks)), Array(UnsafeBufferPointer(start: runners, count: tasks)))
    }

    func testEveryTaskRunsOnceOnTheWorkerOfTheStaticSplit() {
        for (tasks, threads) in [(1, 2), (2, 2), (7, 2), (7, 3), (64, 4), (3, 8), (1000, 2)] {
            let (counts, runners) = record(tasks: tasks, threads: threads)
            XCTAssertEqual(counts, Array(repeating: 1, count: tasks), "tasks \(tasks) threads \(threads)")
            // Tasks of one worker's contiguous range share a thread; the caller takes range 0.
            let workers = min(threads, tasks)
            let me = UInt64(pthread_self())
            for w in 0..<workers {
                let range = (w * tasks / workers)..<((w + 1) * tasks / workers)
                XCTAssertEqual(Set(range.map { runners[$0] }).count, 1, "worker \(w) of \(workers), tasks \(tasks)")
                if w == 0 { XCTAssertEqual(runners[range.lowerBound], me, "the caller runs range 0") }
            }
            if workers > 1 {
                let distinct = Set(runners)
                XCTAssertEqual(distinct.count, workers, "tasks \(tasks) threads \(threads): one thread per worker")
            }
        }
    }

    /// A parallelFor inside a task runs serially on that task's thread (the pool is busy), and
    /// still runs every inner task once.
    func testNestedCallsRunSeriallyAndCompletely() {
        let inner = UnsafeMutablePointer<Int>.allocate(capacity: 4 * 10)
        inner.initialize(repeating: 0, count: 40)
        defer { inner.deallocate() }
        let (counts, _) = record(tasks: 4, threads: 2) { t in
            let outer = pthread_self()
            parallelFor(10, threads: 2) { i in
                XCTAssertTrue(pthread_equal(pthread_self(), outer) != 0, "an inner task left its outer task's thread")
                inner[t * 10 + i] += 1
            }
        }
        XCTAssertEqual(counts, [1, 1, 1, 1])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: inner, count: 40)), Array(repeating: 1, count: 40))
    }

    /// Several threads calling at once (ranks run as threads in the distributed tests): one gets
    /// the pool, the others run serially; every call completes every task once.
    func testConcurrentCallersAllComplete() {
        let callers = 4, tasks = 50, rounds = 200
        let totals = UnsafeMutablePointer<Int>.allocate(capacity: callers * tasks)
        totals.initialize(repeating: 0, count: callers * tasks)
        defer { totals.deallocate() }
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<rounds {
                parallelFor(tasks, threads: 2) { t in totals[c * tasks + t] += 1 }
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: totals, count: callers * tasks)),
                       Array(repeating: rounds, count: callers * tasks))
    }

    /// Calls spaced wider than the spin window find the pool threads parked and must wake them.
    func testCallsAfterThePoolThreadsParked() {
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: 0.01)  // the default spin window is 2 ms
            let (counts, runners) = record(tasks: 8, threads: 2)
            XCTAssertEqual(counts, Array(repeating: 1, count: 8))
            XCTAssertEqual(Set(runners).count, 2)
        }
    }

    /// Kernels give the same bits on one thread and on several through the pool.
    func testGemmBitsDoNotDependOnThePool() {
        let m = 200, n = 300, k = 150
        let a = randomBuffer(m * k, seed: 31), b = randomBuffer(k * n, seed: 32)
        let one = FloatBuffer(count: m * n), three = FloatBuffer(count: m * n)
        gemm(one.pointer, ldc: n, a.pointer, lda: k, transA: false, b.pointer, ldb: n, transB: false,
             m: m, n: n, k: k, accumulate: false, threads: 1)
        for _ in 0..<3 {
            gemm(three.pointer, ldc: n, a.pointer, lda: k, transA: false, b.pointer, ldb: n, transB: false,
                 m: m, n: n, k: k, accumulate: false, threads: 3)
            XCTAssertEqual(one.array, three.array)
        }
    }
}
