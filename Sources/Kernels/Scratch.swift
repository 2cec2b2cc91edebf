import Foundation
import Tensors

// Reusable scratch memory for the kernels. Packing buffers and col matrices are hundreds of
// kilobytes, above glibc's mmap threshold: allocating them per call costs an mmap, page faults
// on first touch and an munmap, per image, and the page faults serialise threads. Buffers are
// taken from and returned to a small locked free list instead (contents are not zeroed).

final class ScratchPool: @unchecked Sendable {
    static let shared = ScratchPool()
    private let lock = NSLock()
    private var free: [FloatBuffer] = []

    func acquire(_ count: Int) -> FloatBuffer {
        lock.lock()
        defer { lock.unlock() }
        // Smallest free buffer that fits.
        var best = -1
        for (i, b) in free.enumerated() where b.count >= count && (best < 0 || b.count < free[best].count) { best = i }
        if best >= 0 { return free.remove(at: best) }
        return FloatBuffer(count: count)
    }

    func release(_ buffer: FloatBuffer) {
        lock.lock()
        if free.count < 64 { free.append(buffer) }
        lock.unlock()
    }
}

/// Runs `body` with `count` floats of 64-byte aligned scratch (uninitialised contents).
@inline(__always)
func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let buffer = ScratchPool.shared.acquire(max(count, 1))
    defer { ScratchPool.shared.release(buffer) }
    return try body(buffer.pointer)
}
