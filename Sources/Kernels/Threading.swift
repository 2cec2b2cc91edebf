import Foundation

// Threads for the kernels.
//
// One process-wide setting (`KernelThreads.count`, set from `--threads N`), and one helper
// that splits `0..<tasks` over that many workers of the kernel thread pool.
// Every kernel splits its *outputs* between threads (never a sum), so results are
// bit-identical for any thread count.

public enum KernelThreads {
    /// Number of threads the kernels use. 1 runs everything on the calling thread.
    nonisolated(unsafe) public static var count: Int = 1

    /// `RINGTRAIN_KERNEL_THREADS=dispatch`: DispatchQueue.concurrentPerform instead of the
    /// kernel thread pool (the way before 2026-11-23), to time both in one binary.
    static let useDispatch = ProcessInfo.processInfo.environment["RINGTRAIN_KERNEL_THREADS"] == "dispatch"
}

/// The tasks worker w of `workers` runs: a static contiguous split of 0..<tasks, the same for
/// every way of running them (so the bits never depend on which thread ran what).
@inlinable
public func workerShare(_ w: Int, of workers: Int, tasks: Int) -> Range<Int> {
    (w &* tasks / workers)..<((w &+ 1) &* tasks / workers)
}

/// Runs `body(t)` for t in 0..<tasks on up to `threads` workers (the calling thread is one),
/// on the kernel thread pool (KernelThreadPool.swift); worker w runs `workerShare(w, ...)`.
public func parallelFor(_ tasks: Int, threads: Int = KernelThreads.count, _ body: (Int) -> Void) {
    if tasks <= 0 { return }
    let workers = min(max(threads, 1), tasks)
    if workers == 1 { for t in 0..<tasks { body(t) }; return }
    if KernelThreads.useDispatch {
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                for t in workerShare(w, of: workers, tasks: tasks) { body(t) }
            }
        }
        return
    }
    if !KernelThreadPool.shared.run(tasks: tasks, workers: workers, body) {
        for t in 0..<tasks { body(t) }
    }
}
