/// A fixed-size, 64-byte aligned, zero-initialised buffer of Float that owns its memory.
///
/// Reference semantics on purpose: the arenas, the kernels' scratch space and the batcher
/// hand out raw pointers into it, and copying megabytes by accident would be a silent cost.
public final class FloatBuffer: @unchecked Sendable {
    /// 64 bytes: one cache line, and the width of an AVX-512 register.
    public static let alignment = 64

    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must not be negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: FloatBuffer.alignment)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit {
        pointer.deinitialize(count: max(count, 1))
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public func zero() {
        pointer.update(repeating: 0, count: count)
    }

    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer copy between sizes \(other.count) and \(count)")
        pointer.update(from: other.pointer, count: count)
    }

    public var array: [Float] { Array(buffer) }
}
