import Foundation
import CKernelHints

// The kernels' worker threads: persistent, and spinning for a while after each job before they
// park, so that the next kernel call of a training step finds them awake.
//
// Why not DispatchQueue.concurrentPerform (used until 2026-11-23): on the 2-vCPU VM, two
// iterations of 232 us of arithmetic each took 333-490 us (median) through concurrentPerform,
// 236 us through a spinning worker. Waking a parked thread costs tens of microseconds
// (longer on a VM, where an idle vCPU is halted), and the woken thread started on the busy
// CPU before it migrated; the fused conv1+pool backward pass (1.7 ms) scaled 1.1-1.5x on two
// threads. OpenMP runtimes and OpenBLAS spin between parallel regions for the same reason.
//
// Protocol: the caller publishes a job (body, task and worker counts) and increments `epoch`;
// every pool thread runs its share (the same static split as before, `workerShare`; the caller
// is worker 0) and decrements
// `remaining`; the caller runs its own share and then waits for `remaining` to reach zero. A
// thread that saw no new epoch for `spinSeconds` parks on a condition variable; the caller
// wakes parked threads after publishing (`parked` and `epoch` are sequentially consistent, so
// either the caller sees the parked count or the thread sees the new epoch before it waits).
// A call made while the pool is busy (from inside a job, or from a second thread: the
// distributed tests run ranks as threads) runs its tasks serially on the calling thread; the
// split never changes the bits, so neither does that.

final class KernelThreadPool: @unchecked Sendable {
    static let shared = KernelThreadPool()

    /// How long an idle pool thread spins before it parks: longer than the gaps between the
    /// kernel calls of a training step, short enough that the threads leave the CPU during
    /// data loading and communication. `RINGTRAIN_KERNEL_SPIN_US` overrides it (0: park at once).
    static let spinSeconds: Double = {
        if let text = ProcessInfo.processInfo.environment["RINGTRAIN_KERNEL_SPIN_US"], let us = Double(text), us >= 0 {
            return us * 1e-6
        }
        return 2e-3
    }()

    // The counters, each on its own cache line: epoch, remaining, parked, busy.
    private let counters: UnsafeMutablePointer<Int>
    private var epoch: UnsafeMutablePointer<Int> { counters }
    private var remaining: UnsafeMutablePointer<Int> { counters + 8 }
    private var parked: UnsafeMutablePointer<Int> { counters + 16 }
    private var busy: UnsafeMutablePointer<Int> { counters + 24 }
    private let wakeUp = NSCondition()
    /// Pool threads started so far (grows to the largest worker count asked for, minus the caller).
    private var threadCount = 0

    // The published job; written by the caller before it increments epoch, read by the threads after.
    private var job: ((Int) -> Void)?
    private var jobTasks = 0, jobWorkers = 0

    private init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 4 * 64, alignment: 64)
        counters = raw.bindMemory(to: Int.self, capacity: 32)
        counters.initialize(repeating: 0, count: 32)
    }

    /// Runs `body(t)` for t in 0..<tasks on `workers` threads (the caller is one), or returns
    /// false at once, having run nothing, when the pool is busy.
    func run(tasks: Int, workers: Int, _ body: (Int) -> Void) -> Bool {
        guard rt_atomic_exchange_if(busy, 0, 1) else { return false }
        defer { rt_atomic_store_release(busy, 0) }
        startThreads(upTo: workers &- 1)
        withoutActuallyEscaping(body) { body in
            job = body
            jobTasks = tasks
            jobWorkers = workers
            rt_atomic_store_release(remaining, threadCount)
            _ = rt_atomic_add(epoch, 1)
            if rt_atomic_load(parked) > 0 {
                wakeUp.lock()
                wakeUp.broadcast()
                wakeUp.unlock()
            }
            runShare(0)
            waitForThreads()
            job = nil  // before withoutActuallyEscaping checks that the closure did not escape
        }
        return true
    }

    private func runShare(_ w: Int) {
        let workers = jobWorkers, tasks = jobTasks
        guard w < workers, let body = job else { return }
        for t in workerShare(w, of: workers, tasks: tasks) { body(t) }
    }

    /// Spins on `remaining`; yields the CPU after a while, in case a pool thread was descheduled
    /// (more threads than cores) and needs this one's core to finish.
    private func waitForThreads() {
        var spins = 0
        while rt_atomic_load_acquire(remaining) != 0 {
            spins &+= 1
            if spins < 4096 { rt_cpu_relax() } else { sched_yield() }
        }
    }

    private func startThreads(upTo count: Int) {
        while threadCount < count {
            let index = threadCount &+ 1, seen = rt_atomic_load(epoch)
            let thread = Thread { [unowned self] in self.threadLoop(index: index, seen: seen) }
            thread.name = "ringtrain-kernels-\(index)"
            thread.start()
            threadCount &+= 1
        }
    }

    private func threadLoop(index: Int, seen initial: Int) {
        var seen = initial
        while true {
            waitForEpoch(after: seen)
            seen = rt_atomic_load_acquire(epoch)
            runShare(index)  // its reference to the job is gone when it returns
            _ = rt_atomic_add(remaining, -1)
        }
    }

    private func waitForEpoch(after seen: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        let spinNanos = UInt64(KernelThreadPool.spinSeconds * 1e9)
        var spins = 0
        while rt_atomic_load_acquire(epoch) == seen {
            spins &+= 1
            if spins & 255 != 0 { rt_cpu_relax(); continue }
            if DispatchTime.now().uptimeNanoseconds &- start < spinNanos { continue }
            wakeUp.lock()
            _ = rt_atomic_add(parked, 1)
            while rt_atomic_load(epoch) == seen { wakeUp.wait() }
            _ = rt_atomic_add(parked, -1)
            wakeUp.unlock()
        }
    }
}
