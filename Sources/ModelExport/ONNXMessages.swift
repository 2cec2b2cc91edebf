// The ONNX messages an inference graph of float tensors needs, each encoded with the field
// numbers of onnx/onnx.proto3 (quoted beside each field). Repeated int64 fields (dims, ints)
// are written one varint per element, as the proto2 `onnx.proto` declares them; protobuf
// parsers accept that form and the packed one alike.

/// AttributeProto. `type` (field 20) is always written: onnx.checker requires it from IR 2 on.
public struct ONNXAttribute: Equatable, Sendable {
    public enum Value: Equatable, Sendable {
        case float(Float)
        case int(Int64)
        case ints([Int64])
    }
    public let name: String
    public let value: Value

    public init(_ name: String, _ value: Value) { self.name = name; self.value = value }
    public static func int(_ name: String, _ v: Int) -> ONNXAttribute { ONNXAttribute(name, .int(Int64(v))) }
    public static func ints(_ name: String, _ v: [Int]) -> ONNXAttribute { ONNXAttribute(name, .ints(v.map(Int64.init))) }
    public static func float(_ name: String, _ v: Float) -> ONNXAttribute { ONNXAttribute(name, .float(v)) }

    /// AttributeProto.AttributeType values.
    enum AttributeType: UInt64 { case float = 1, int = 2, ints = 7 }

    public func encoded() -> ProtobufWriter {
        var w = ProtobufWriter()
        w.string(field: 1, name)                              // name = 1
        switch value {
        case .float(let f):
            w.float(field: 2, f)                              // f = 2
            w.varint(field: 20, AttributeType.float.rawValue) // type = 20
        case .int(let i):
            w.int64(field: 3, i)                              // i = 3
            w.varint(field: 20, AttributeType.int.rawValue)
        case .ints(let list):
            for i in list { w.int64(field: 8, i) }            // ints = 8
            w.varint(field: 20, AttributeType.ints.rawValue)
        }
        return w
    }
}

/// NodeProto: one operator of the default domain (ai.onnx).
public struct ONNXNode: Equatable, Sendable {
    public let name: String
    public let opType: String
    public let inputs: [String]
    public let outputs: [String]
    public let attributes: [ONNXAttribute]

    public init(name: String, opType: String, inputs: [String], outputs: [String], attributes: [ONNXAttribute] = []) {
        self.name = name; self.opType = opType; self.inputs = inputs; self.outputs = outputs
        self.attributes = attributes
    }

    public func encoded() -> ProtobufWriter {
        var w = ProtobufWriter()
        for i in inputs { w.string(field: 1, i) }             // input = 1
        for o in outputs { w.string(field: 2, o) }            // output = 2
        w.string(field: 3, name)                              // name = 3
        w.string(field: 4, opType)                            // op_type = 4
        for a in attributes { w.message(field: 5, a.encoded()) } // attribute = 5
        return w
    }
}

/// TensorProto of FLOAT data in `raw_data` (little-endian IEEE 754, row-major).
public struct ONNXTensor: Equatable, Sendable {
    public let name: String
    public let dims: [Int]
    public let values: [Float]

    public init(name: String, dims: [Int], values: [Float]) {
        precondition(dims.reduce(1, *) == values.count, "tensor \(name): dims \(dims) do not hold \(values.count) values")
        self.name = name; self.dims = dims; self.values = values
    }

    /// TensorProto.DataType.FLOAT, also TypeProto.Tensor.elem_type.
    static let floatType: UInt64 = 1

    public func encoded() -> ProtobufWriter {
        var w = ProtobufWriter()
        for d in dims { w.int64(field: 1, Int64(d)) }         // dims = 1
        w.varint(field: 2, ONNXTensor.floatType)              // data_type = 2
        w.string(field: 8, name)                              // name = 8
        w.lengthDelimited(field: 9, ProtobufWriter.littleEndianBytes(values)) // raw_data = 9
        return w
    }
}

/// ValueInfoProto of a float tensor: name and shape, each dimension a number or a symbol.
public struct ONNXValueInfo: Equatable, Sendable {
    public enum Dimension: Equatable, Sendable {
        case value(Int)
        case parameter(String)
    }
    public let name: String
    public let dims: [Dimension]

    public init(name: String, dims: [Dimension]) { self.name = name; self.dims = dims }

    public func encoded() -> ProtobufWriter {
        var shape = ProtobufWriter()                          // TensorShapeProto
        for d in dims {
            var dim = ProtobufWriter()                        // TensorShapeProto.Dimension
            switch d {
            case .value(let v): dim.int64(field: 1, Int64(v)) // dim_value = 1
            case .parameter(let p): dim.string(field: 2, p)   // dim_param = 2
            }
            shape.message(field: 1, dim)                      // dim = 1
        }
        var tensorType = ProtobufWriter()                     // TypeProto.Tensor
        tensorType.varint(field: 1, ONNXTensor.floatType)     // elem_type = 1
        tensorType.message(field: 2, shape)                   // shape = 2
        var type = ProtobufWriter()                           // TypeProto
        type.message(field: 1, tensorType)                    // tensor_type = 1
        var w = ProtobufWriter()
        w.string(field: 1, name)                              // name = 1
        w.message(field: 2, type)                             // type = 2
        return w
    }
}

/// GraphProto: nodes in topological order, initializers, inputs and outputs.
public struct ONNXGraph: Equatable, Sendable {
    public var name: String
    public var docString: String
    public var nodes: [ONNXNode]
    public var initializers: [ONNXTensor]
    public var inputs: [ONNXValueInfo]
    public var outputs: [ONNXValueInfo]

    public init(name: String, docString: String = "", nodes: [ONNXNode], initializers: [ONNXTensor],
                inputs: [ONNXValueInfo], outputs: [ONNXValueInfo]) {
        self.name = name; self.docString = docString; self.nodes = nodes; self.initializers = initializers
        self.inputs = inputs; self.outputs = outputs
    }

    public func encoded() -> ProtobufWriter {
        var w = ProtobufWriter()
        for n in nodes { w.message(field: 1, n.encoded()) }          // node = 1
        w.string(field: 2, name)                                     // name = 2
        for t in initializers { w.message(field: 5, t.encoded()) }   // initializer = 5
        if !docString.isEmpty { w.string(field: 10, docString) }     // doc_string = 10
        for i in inputs { w.message(field: 11, i.encoded()) }        // input = 11
        for o in outputs { w.message(field: 12, o.encoded()) }       // output = 12
        return w
    }
}

/// ModelProto: IR version, the operator sets, who wrote it, the graph and free-form metadata.
public struct ONNXModel: Equatable, Sendable {
    public var irVersion: Int
    /// (domain, version); "" is the default domain ai.onnx.
    public var opsetImports: [(domain: String, version: Int)]
    public var producerName: String
    public var producerVersion: String
    public var graph: ONNXGraph
    /// StringStringEntryProto pairs, in order; keys must be distinct.
    public var metadata: [(key: String, value: String)]

    public init(irVersion: Int, opsetImports: [(domain: String, version: Int)], producerName: String,
                producerVersion: String, graph: ONNXGraph, metadata: [(key: String, value: String)]) {
        self.irVersion = irVersion; self.opsetImports = opsetImports; self.producerName = producerName
        self.producerVersion = producerVersion; self.graph = graph; self.metadata = metadata
    }

    public static func == (a: ONNXModel, b: ONNXModel) -> Bool { a.encoded().bytes == b.encoded().bytes }

    public func encoded() -> ProtobufWriter {
        var w = ProtobufWriter()
        w.int64(field: 1, Int64(irVersion))                   // ir_version = 1
        w.string(field: 2, producerName)                      // producer_name = 2
        w.string(field: 3, producerVersion)                   // producer_version = 3
        w.message(field: 7, graph.encoded())                  // graph = 7
        for o in opsetImports {
            var opset = ProtobufWriter()                      // OperatorSetIdProto
            opset.string(field: 1, o.domain)                  // domain = 1
            opset.int64(field: 2, Int64(o.version))           // version = 2
            w.message(field: 8, opset)                        // opset_import = 8
        }
        for m in metadata {
            var entry = ProtobufWriter()                      // StringStringEntryProto
            entry.string(field: 1, m.key)                     // key = 1
            entry.string(field: 2, m.value)                   // value = 2
            w.message(field: 14, entry)                       // metadata_props = 14
        }
        return w
    }
}
