import Foundation

/// Assembles the batches of a plan on a background thread, so the next batch is ready when
/// a training step ends. Double-buffered: the batch returned by `next()` stays valid until the
/// following call, while the thread fills the other one.
public final class Prefetcher: @unchecked Sendable {
    /// Two buffers in flight: one being trained on, one being filled. More only costs memory,
    /// since assembling a batch is far cheaper than a step.
    public static let depth = 2

    private let assembler: BatchAssembler
    private let plan: [ArraySlice<Int>]
    private let epoch: Int
    private let slots: [Batch]
    private let free: DispatchSemaphore
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var cancelled = false
    private var handedOut = 0
    private var holding = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    /// `plan`: the index lists of the batches, in order (for example chunks of the sampler's
    /// indices for this rank). `capacity`: the largest batch.
    public init(assembler: BatchAssembler, plan: [ArraySlice<Int>], epoch: Int, capacity: Int) {
        self.assembler = assembler
        self.plan = plan
        self.epoch = epoch
        slots = (0..<Prefetcher.depth).map { _ in assembler.makeBatch(capacity: capacity) }
        // libdispatch traps when a semaphore is freed below its initial value, so start at 0
        // and signal the free slots in.
        free = DispatchSemaphore(value: 0)
        for _ in 0..<Prefetcher.depth { free.signal() }
        let t = Thread { [unowned self] in self.produce() }
        t.name = "ringtrain-prefetch"
        thread = t
        t.start()
    }

    /// Splits indices into batches of `batchSize` (the last may be shorter).
    public static func chunk(_ indices: [Int], batchSize: Int) -> [ArraySlice<Int>] {
        stride(from: 0, to: indices.count, by: batchSize).map { indices[$0..<min($0 + batchSize, indices.count)] }
    }

    private func produce() {
        defer { finished.signal() }
        for (i, indices) in plan.enumerated() {
            free.wait()
            if isCancelled { return }
            assembler.fill(slots[i % slots.count], indices: indices, epoch: epoch)
            // Each batch hands back the pages of its own records; now and then every page of a
            // mapped dataset goes too, for what page faults mapped around them that no record
            // release covered (measured: ~6% of the shards stayed resident without this).
            if i % 32 == 31 { assembler.data.releaseAllPages() }
            ready.signal()
        }
    }

    private var isCancelled: Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled
    }

    /// The next batch, or nil when the plan is exhausted or the prefetcher was cancelled.
    public func next() -> Batch? {
        if holding { free.signal(); holding = false }
        guard handedOut < plan.count, !isCancelled else { return nil }
        ready.wait()
        let batch = slots[handedOut % slots.count]
        handedOut += 1
        holding = true
        return batch
    }

    /// Stops the background thread and waits for it.
    public func cancel() {
        lock.lock()
        let wasCancelled = cancelled
        cancelled = true
        lock.unlock()
        guard !wasCancelled else { return }
        for _ in 0..<Prefetcher.depth { free.signal() }
        finished.wait()
    }

    deinit { cancel() }
}
