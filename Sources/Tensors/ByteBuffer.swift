/// A fixed-size, 64-byte aligned, zero-initialised buffer of bytes that owns its memory: the
/// kernels' per-element codes (a max-pool's arg-max) kept from forward to backward.
public final class ByteBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<UInt8>

    public init(count: Int) {
        precondition(count >= 0, "ByteBuffer count must not be negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: FloatBuffer.alignment)
        pointer = raw.bindMemory(to: UInt8.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    public var array: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
