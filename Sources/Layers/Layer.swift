import Tensors
import Kernels

// The Layer protocol. A layer is built for a fixed per-sample input shape and a maximum
// batch; it declares its named tensors (PyTorch state_dict names and shapes), is bound to
// the network's arenas, and owns its output and input-gradient buffers.
//
// Contract: forward keeps a pointer to its input until backward; backward accumulates (+=)
// parameter gradients into the gradient arena and returns dInput (overwritten each call).

public struct ForwardContext: Sendable {
    public var training: Bool
    public var step: Int
    public var seed: UInt64
    public init(training: Bool, step: Int, seed: UInt64) {
        self.training = training; self.step = step; self.seed = seed
    }
}

public protocol Layer: AnyObject {
    /// Per-sample shapes: [C, H, W] for images, [F] for features.
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// Appends this layer's tensors (parameters, and buffers such as running statistics).
    func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout)
    /// Binds to the arenas (after the layouts are final) and allocates activations.
    func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int)
    /// Writes initial values (parameters and buffers) from the counter-based generator.
    func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64)
    func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float>
    /// Returns dInput, or nil when `needInputGradient` is false.
    func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>?
    /// Names of this layer's parameter slots, in declaration order (empty if none).
    var parameterNames: [String] { get }
}

extension Array where Element == Int {
    var elementCount: Int { reduce(1, *) }
}

/// Kaiming-uniform (gain sqrt 2, for ReLU layers) or Glorot-uniform weights, keyed by the
/// slot's index in the layout so every tensor has its own stream.
func initialiseUniform(_ view: UnsafeMutableBufferPointer<Float>, bound: Float, seed: UInt64, slotIndex: Int) {
    var rng = CounterRNG(seed: seed, purpose: .initialisation, a: UInt64(slotIndex), b: 0)
    for i in 0..<view.count { view[i] = (rng.nextUnitFloat() * 2 - 1) * bound }
}

func slotIndex(_ layout: ArenaLayout, _ name: String) -> Int {
    layout.slots.firstIndex { $0.name == name }!
}

func qualified(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
