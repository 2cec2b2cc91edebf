import Layers
import Tensors

/// A value flowing through the graph: its name and its per-sample shape (the batch dimension
/// is always first and symbolic, so it is left out here, as Layer shapes leave it out).
struct GraphValue {
    let name: String
    let shape: [Int]
}

/// Where a layer sits, for errors: its index in the network's list, and the block around it.
struct LayerPlace {
    let index: Int
    let within: String?
}

/// Accumulates the nodes and initializers of one graph: unique node names, node outputs named
/// after their nodes, and initializers copied out of the network's arenas under their
/// state_dict names (`conv1.weight`), so the graph reads like the checkpoint.
struct GraphBuilder {
    let parameters: ParameterArena
    let buffers: ParameterArena
    private(set) var nodes: [ONNXNode] = []
    private(set) var initializers: [ONNXTensor] = []
    private var nodeNames: Set<String> = []
    private var valueNames: Set<String> = []

    init(parameters: ParameterArena, buffers: ParameterArena) {
        self.parameters = parameters; self.buffers = buffers
    }

    /// Adds a node `label/OpType` with one output, named `label/OpType_output`; returns its name.
    /// A label used twice gets a suffix (`relu/Relu_1`), so names stay unique whatever the spec says.
    mutating func node(_ opType: String, label: String, inputs: [String], attributes: [ONNXAttribute] = []) -> String {
        var name = "\(label)/\(opType)"
        var n = 1
        while nodeNames.contains(name) { name = "\(label)/\(opType)_\(n)"; n += 1 }
        nodeNames.insert(name)
        let output = unique(value: name + "_output")
        nodes.append(ONNXNode(name: name, opType: opType, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// Renames the last node's output (the graph outputs carry fixed names: `logits`, ...).
    mutating func renameLastOutput(to name: String) {
        guard let last = nodes.popLast() else { return }
        valueNames.remove(last.outputs[0])
        nodes.append(ONNXNode(name: last.name, opType: last.opType, inputs: last.inputs, outputs: [unique(value: name)],
                              attributes: last.attributes))
    }

    /// An initializer holding `values`; returns its name.
    mutating func constant(_ name: String, dims: [Int], values: [Float]) -> String {
        let unique = unique(value: name)
        initializers.append(ONNXTensor(name: unique, dims: dims, values: values))
        return unique
    }

    /// An initializer copied from the parameter or buffer arena, checked against `dims`.
    mutating func arenaTensor(_ name: String, dims: [Int]) throws -> String {
        guard let view = parameters.view(named: name) ?? buffers.view(named: name) else {
            throw ExportError.badTensor(name: name, reason: "not in the network's parameters or buffers")
        }
        let count = dims.reduce(1, *)
        guard view.count == count else {
            throw ExportError.badTensor(name: name, reason: "holds \(view.count) values, the layer needs \(dims) = \(count)")
        }
        return constant(name, dims: dims, values: Array(view))
    }

    private mutating func unique(value base: String) -> String {
        var name = base
        var n = 1
        while valueNames.contains(name) { name = "\(base)_\(n)"; n += 1 }
        valueNames.insert(name)
        return name
    }
}
