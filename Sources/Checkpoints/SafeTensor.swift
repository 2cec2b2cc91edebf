/// One named F32 tensor, as written to or read from a safetensors file.
public struct SafeTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// Copies a view (an arena slot, an optimizer state tensor).
    public init(name: String, shape: [Int], buffer: UnsafeBufferPointer<Float>) {
        self.init(name: name, shape: shape, values: Array(buffer))
    }

    public init(name: String, shape: [Int], buffer: UnsafeMutableBufferPointer<Float>) {
        self.init(name: name, shape: shape, values: Array(buffer))
    }

    public var elementCount: Int { shape.reduce(1, *) }
}
