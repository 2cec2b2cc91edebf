import Foundation
import Layers
import ModelExport
import Tensors
import XCTest

/// A layer type the exporter does not know (any conformance to the public Layer protocol).
final class SquareLayer: Layer {
    let name = "square"
    let inputShape: [Int]
    var outputShape: [Int] { inputShape }
    init(inputShape: [Int]) { self.inputShape = inputShape }
    var parameterNames: [String] { [] }
    func declare(parameters: inout ArenaLayout, buffers: inout ArenaLayout) {}
    func bind(parameters: ParameterArena, gradients: ParameterArena, buffers: ParameterArena, maxBatch: Int) {}
    func initialise(parameters: ParameterArena, buffers: ParameterArena, seed: UInt64) {}
    func forward(_ input: UnsafePointer<Float>, batch: Int, context: ForwardContext) -> UnsafePointer<Float> { input }
    func backward(_ dOutput: UnsafePointer<Float>, batch: Int, needInputGradient: Bool) -> UnsafePointer<Float>? { nil }
}

final class ExportErrorTests: XCTestCase {
    let metadata = ExportMetadata(modelName: "fashion-cnn", classNames: (0..<10).map(String.init), inputShape: [1, 28, 28],
                                  mean: [0.286], std: [0.353], producerVersion: "test")

    func testUnknownLayerIsAnErrorNamingIt() throws {
        let network = try Network(spec: .builtin("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 1, maxBatch: 1)
        var layers = network.layers
        layers.insert(SquareLayer(inputShape: layers[3].inputShape), at: 3)
        XCTAssertThrowsError(try ONNXExporter.export(layers: layers, parameters: network.parameters,
                                                     buffers: network.buffers, metadata: metadata)) { error in
            guard case ExportError.unsupportedLayer(let index, let type, let name, let within, _) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(index, 3)
            XCTAssertEqual(type, "SquareLayer")
            XCTAssertEqual(name, "square")
            XCTAssertNil(within)
            XCTAssertTrue("\(error)".hasPrefix("cannot export layer 3 (SquareLayer \"square\") to ONNX"), "\(error)")
        }
    }

    func testMetadataThatDoesNotFitIsAnError() throws {
        let network = try Network(spec: .builtin("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 1, maxBatch: 1)
        var names = metadata
        names.classNames = ["only", "three", "names"]
        XCTAssertThrowsError(try ONNXExporter.export(network, metadata: names)) { error in
            XCTAssertEqual(error as? ExportError, .badMetadata(field: "class_names", reason: "3 names for 10 logits"))
        }
        var shape = metadata
        shape.inputShape = [3, 32, 32]
        XCTAssertThrowsError(try ONNXExporter.export(network, metadata: shape)) { error in
            XCTAssertTrue("\(error)".contains("input_shape"), "\(error)")
        }
        var nan = metadata
        nan.std = [.nan]
        XCTAssertThrowsError(try ONNXExporter.export(network, metadata: nan)) { error in
            XCTAssertTrue("\(error)".contains("normalization_std"), "\(error)")
        }
    }

    func testTensorMissingFromTheArenasIsAnErrorNamingIt() throws {
        let network = try Network(spec: .builtin("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 1, maxBatch: 1)
        let empty = ParameterArena(layout: ArenaLayout())
        XCTAssertThrowsError(try ONNXExporter.export(layers: network.layers, parameters: empty, buffers: empty,
                                                     metadata: metadata)) { error in
            XCTAssertEqual(error as? ExportError, .badTensor(name: "conv1.weight", reason: "not in the network's parameters or buffers"))
        }
    }

    /// The metadata a runtime's user reads, and the checkpoint's weights in the graph bit for bit.
    func testMetadataPropertiesAndWeightsAsInTheCheckpoint() throws {
        let network = try Network(spec: .builtin("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 5, maxBatch: 1)
        var named = metadata
        named.classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                            "Ankle \"boot\""]
        let export = try ONNXExporter.export(network, metadata: named)
        let properties = Dictionary(uniqueKeysWithValues: export.model.metadata.map { ($0.key, $0.value) })
        XCTAssertEqual(properties["input_scaling"], "pixel/255")
        XCTAssertEqual(properties["input_shape"], "[1,28,28]")
        XCTAssertEqual(properties["normalization_mean"], "[0.286]")
        XCTAssertEqual(properties["normalization_std"], "[0.353]")
        XCTAssertEqual(properties["model"], "fashion-cnn")
        XCTAssertEqual(properties["ringtrain_version"], "test")
        let classes = try JSONDecoder().decode([String].self, from: Data(try XCTUnwrap(properties["class_names"]).utf8))
        XCTAssertEqual(classes, named.classNames)
        XCTAssertTrue(properties["class_names"]!.hasPrefix(#"["T-shirt/top","Trouser""#), properties["class_names"]!)
        XCTAssertEqual(export.model.irVersion, 8)
        XCTAssertEqual(export.model.opsetImports.map(\.version), [17])
        let conv1 = try XCTUnwrap(export.model.graph.initializers.first { $0.name == "conv1.weight" })
        XCTAssertEqual(conv1.dims, [32, 1, 3, 3])
        XCTAssertEqual(conv1.values.map(\.bitPattern), Array(network.parameters.view(named: "conv1.weight")!).map(\.bitPattern))
        XCTAssertEqual(export.model.graph.inputs.first?.dims, [.parameter("batch"), .value(1), .value(28), .value(28)])
    }
}
