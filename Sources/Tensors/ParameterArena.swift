/// What a named tensor is, which decides how the optimizer treats it: weight decay applies to
/// `.weight` only by default; `.buffer` (batch-norm running statistics) gets no gradient.
public enum TensorRole: String, Codable, Sendable {
    case weight
    case bias
    case normScale
    case normShift
    case buffer
}

/// One named tensor inside an arena: PyTorch state_dict name, PyTorch shape, offset in floats.
public struct TensorSlot: Codable, Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public let role: TensorRole

    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// The layout of a flat arena: every tensor's place. Parameters and gradients share one
/// layout, so the optimizer, the gradient buckets and the checkpoint all walk the same offsets.
public struct ArenaLayout: Codable, Sendable, Equatable {
    /// Each tensor starts on a multiple of 16 floats (64 bytes) so SIMD loads stay aligned.
    public static let slotAlignment = 16

    public private(set) var slots: [TensorSlot] = []
    public private(set) var count: Int = 0

    public init() {}

    /// Appends a tensor and returns its slot. Names must be unique.
    @discardableResult
    public mutating func append(name: String, shape: [Int], role: TensorRole) -> TensorSlot {
        precondition(!slots.contains { $0.name == name }, "duplicate tensor name \(name)")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(name): \(shape)")
        let a = ArenaLayout.slotAlignment
        let offset = (count + a - 1) / a * a
        let slot = TensorSlot(name: name, shape: shape, offset: offset, role: role)
        slots.append(slot)
        count = offset + slot.count
        return slot
    }

    public func slot(named name: String) -> TensorSlot? {
        slots.first { $0.name == name }
    }
}

/// One flat, aligned Float buffer holding every tensor of a layout.
public final class ParameterArena: @unchecked Sendable {
    public let layout: ArenaLayout
    public let storage: FloatBuffer

    public init(layout: ArenaLayout) {
        self.layout = layout
        storage = FloatBuffer(count: layout.count)
    }

    /// A new arena with the same layout, zero-filled (the gradient twin of a parameter arena).
    public func makeTwin() -> ParameterArena { ParameterArena(layout: layout) }

    public var count: Int { layout.count }
    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    public func view(_ slot: TensorSlot) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: storage.pointer + slot.offset, count: slot.count)
    }

    public func view(named name: String) -> UnsafeMutableBufferPointer<Float>? {
        layout.slot(named: name).map(view)
    }

    public func zero() { storage.zero() }

    public func copy(from other: ParameterArena) {
        precondition(other.layout == layout, "arena layouts differ")
        storage.copy(from: other.storage)
    }
}
