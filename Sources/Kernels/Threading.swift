import Dispatch

// Threads for the kernels.
//
// One process-wide setting (`KernelThreads.count`, set from `--threads N`), and one helper
// that splits `0..<tasks` over that many workers with DispatchQueue.concurrentPerform.
// Every kernel splits its *outputs* between threads (never a sum), so results are
// bit-identical for any thread count.

public enum KernelThreads {
    /// Number of threads the kernels use. 1 runs everything on the calling thread.
    nonisolated(unsafe) public static var count: Int = 1
}

/// Runs `body(t)` for t in 0..<tasks on up to `threads` workers (the calling thread is one).
@inlinable
public func parallelFor(_ tasks: Int, threads: Int = KernelThreads.count, _ body: (Int) -> Void) {
    if tasks <= 0 { return }
    let workers = min(max(threads, 1), tasks)
    if workers == 1 {
        for t in 0..<tasks { body(t) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            // Static contiguous split: task t goes to worker t * workers / tasks.
            let lo = w * tasks / workers, hi = (w + 1) * tasks / workers
            for t in lo..<hi { body(t) }
        }
    }
}
