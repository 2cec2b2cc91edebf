// The decoder's reusable intermediate buffer (a library's own layout, before conversion or
// orientation), so decoding a million photos does not allocate a million of them.

final class ScratchBuffer {
    /// Above this the buffer is freed after each use rather than kept: one 80-megapixel PNG
    /// must not pin 640 MB to a decoder thread for the rest of the run.
    static let keepLimit = 64 << 20

    private var pointer: UnsafeMutableRawPointer?
    private var capacity = 0

    deinit { pointer?.deallocate() }

    /// Runs `body` with at least `count` bytes (16-byte aligned).
    func with<R>(count: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
        if count > capacity || pointer == nil {
            pointer?.deallocate()
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 64), alignment: 16)
            capacity = max(count, 64)
        }
        defer {
            if capacity > ScratchBuffer.keepLimit {
                pointer?.deallocate()
                pointer = nil
                capacity = 0
            }
        }
        return try body(pointer!)
    }
}

/// `count` = a product of sizes, or an error naming them when it overflows `Int`.
func checkedByteCount(_ factors: Int..., what: String) throws -> Int {
    var n = 1
    for f in factors {
        guard f >= 0 else { throw ImageDecodeError(.corrupt, "\(what): negative size \(f)") }
        let (p, overflow) = n.multipliedReportingOverflow(by: f)
        if overflow { throw ImageDecodeError(.tooLarge, "\(what): \(factors.map(String.init).joined(separator: " x ")) bytes overflow") }
        n = p
    }
    return n
}

/// Builds the returned pixel array in place: `fill` writes exactly `count` bytes.
func makePixels(count: Int, _ fill: (UnsafeMutablePointer<UInt8>) throws -> Void) rethrows -> [UInt8] {
    try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        initialized = 0
        if count > 0 { try fill(buffer.baseAddress!) }
        initialized = count
    }
}
