// Error-feedback residuals of the lossy codec: per bucket, one float per element of the
// bucket. A rank adds its residual to what it encodes and keeps the new rounding error,
// so the running sum of many steps converges to the exact running sum. Checkpoints store
// them as `residual.<bucket>` (DESIGN.md §6).
import Foundation

public final class ResidualStore: @unchecked Sendable {
    private let lock = NSLock()
    private var buffers: [Int: UnsafeMutableBufferPointer<Float>] = [:]

    public init() {}

    deinit { for (_, b) in buffers { b.deallocate() } }

    /// The residual of `bucket`, created as zeros (or reset to zeros when the bucket's size
    /// changed). The pointer stays valid until `reset`, `set` or a size change of this bucket.
    public func buffer(bucket: Int, count: Int) -> UnsafeMutableBufferPointer<Float> {
        lock.lock(); defer { lock.unlock() }
        if let b = buffers[bucket], b.count == count { return b }
        if let old = buffers[bucket] { old.deallocate() }
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        b.initialize(repeating: 0)
        buffers[bucket] = b
        return b
    }

    /// The buckets that have a residual, sorted.
    public var buckets: [Int] {
        lock.lock(); defer { lock.unlock() }
        return buffers.keys.sorted()
    }

    /// A copy of one bucket's residual (nil when none exists yet).
    public func get(bucket: Int) -> [Float]? {
        lock.lock(); defer { lock.unlock() }
        return buffers[bucket].map { Array($0) }
    }

    /// Replaces one bucket's residual (e.g. from a checkpoint).
    public func set(bucket: Int, _ values: [Float]) {
        lock.lock(); defer { lock.unlock() }
        if let old = buffers[bucket] { old.deallocate() }
        let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
        _ = b.initialize(from: values)
        buffers[bucket] = b
    }

    /// Every residual, for a checkpoint.
    public func snapshot() -> [Int: [Float]] {
        lock.lock(); defer { lock.unlock() }
        return buffers.mapValues { Array($0) }
    }

    /// Replaces every residual (from a checkpoint).
    public func restore(_ all: [Int: [Float]]) {
        reset()
        for (k, v) in all { set(bucket: k, v) }
    }

    /// Drops every residual (e.g. when the world size changes on resume).
    public func reset() {
        lock.lock(); defer { lock.unlock() }
        for (_, b) in buffers { b.deallocate() }
        buffers = [:]
    }
}
