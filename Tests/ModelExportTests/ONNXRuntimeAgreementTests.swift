import Datasets
import Foundation
import Layers
import ModelExport
import XCTest

/// Each model exported and run by onnxruntime on real Fashion-MNIST test images gives our
/// logits (scripts/check-onnx.sh: onnx.checker with full_check, then the comparison).
final class ONNXRuntimeAgreementTests: XCTestCase {
    var temp = ""

    override func setUpWithError() throws {
        temp = NSTemporaryDirectory() + "ringtrain-onnx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: temp)
    }

    func testFashionCNN() throws {
        let export = try checkAgainstONNXRuntime(.builtin("fashion-cnn"), name: "fashion-cnn")
        // The structure the docs describe: explicit normalisation, the pool before the ReLU
        // (the network's order; they commute), no dropout, the softmax output.
        XCTAssertEqual(export.model.graph.nodes.map(\.opType),
                       ["Sub", "Div", "Conv", "MaxPool", "Relu", "Conv", "MaxPool", "Relu", "Flatten", "Gemm", "Relu",
                        "Gemm", "Softmax"])
        XCTAssertEqual(export.model.graph.initializers.map(\.name),
                       ["normalization.mean", "normalization.std", "conv1.weight", "conv1.bias", "conv2.weight",
                        "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        XCTAssertEqual(export.model.graph.nodes.last?.outputs, ["probabilities"])
        XCTAssertEqual(export.model.graph.nodes.dropLast().last?.outputs, ["logits"])
    }

    func testFashionCNNWithBatchNorm() throws {
        let export = try checkAgainstONNXRuntime(.builtin("fashion-cnn-bn"), name: "fashion-cnn-bn")
        XCTAssertEqual(export.model.graph.nodes.filter { $0.opType == "BatchNormalization" }.count, 2,
                       "batch norm is kept, not folded into the convolutions")
    }

    func testResNet8() throws {
        let export = try checkAgainstONNXRuntime(.builtin("resnet8"), name: "resnet8")
        let ops = export.model.graph.nodes.map(\.opType)
        XCTAssertEqual(ops.filter { $0 == "Add" }.count, 3)
        XCTAssertEqual(ops.filter { $0 == "Conv" }.count, 9, "7 3x3 convolutions and 2 projection shortcuts")
        XCTAssertEqual(ops.filter { $0 == "GlobalAveragePool" }.count, 1)
    }

    /// torchvision's resnet18 with the ImageNet stem (7x7/2 conv, 3x3/2 max-pool with padding 1)
    /// on 28x28 grey images, and with the small-image stem.
    func testResNet18BothStems() throws {
        let export = try checkAgainstONNXRuntime(.resnet(depth: 18, stem: .imagenet), name: "resnet18")
        let pool = try XCTUnwrap(export.model.graph.nodes.first { $0.opType == "MaxPool" })
        XCTAssertEqual(export.model.graph.nodes.filter { $0.opType == "Add" }.count, 8)
        XCTAssertNotNil(pool)
        XCTAssertTrue(export.model.graph.initializers.contains { $0.name == "layer2.0.downsample.0.weight" })
        _ = try checkAgainstONNXRuntime(.resnet(depth: 18, stem: .cifar), name: "resnet18-cifar")
    }

    /// A layer list with every layer type the spec knows: biased and unbiased convolutions,
    /// 2-d and 1-d batch norm, all three activations, both poolings (one strided over an odd
    /// size), both residual shortcuts, global pooling, flatten, linear, dropout.
    func testLayerListWithEveryLayerType() throws {
        let spec = ModelSpec.layers([
            LayerSpec(type: "conv", out: 8, kernel: 3, stride: 1, pad: 1, name: "stem"),
            LayerSpec(type: "batchnorm", name: "stem_bn"),
            LayerSpec(type: "leakyrelu", slope: 0.1),
            LayerSpec(type: "maxpool", size: 2),
            LayerSpec(type: "residual", out: 8, stride: 1, name: "block1"),
            LayerSpec(type: "residual", out: 16, stride: 2, name: "block2"),
            LayerSpec(type: "elu", alpha: 0.7),
            LayerSpec(type: "avgpool", stride: 2, size: 3),
            LayerSpec(type: "conv", out: 12, kernel: 1, stride: 1, pad: 0, bias: false, name: "mix"),
            LayerSpec(type: "relu"),
            LayerSpec(type: "globalavgpool"),
            LayerSpec(type: "flatten"),
            LayerSpec(type: "linear", out: 24, name: "hidden"),
            LayerSpec(type: "batchnorm", name: "hidden_bn"),
            LayerSpec(type: "elu"),
            LayerSpec(type: "dropout", p: 0.3),
            LayerSpec(type: "linear", name: "classifier"),
        ])
        let types = Set(try spec.resolvedLayers().map(\.type))
        XCTAssertEqual(types, Set(LayerSpec.types), "the model covers every layer type")
        let export = try checkAgainstONNXRuntime(spec, name: "every-layer-type")
        let ops = Set(export.model.graph.nodes.map(\.opType))
        XCTAssertTrue(ops.isSuperset(of: ["LeakyRelu", "Elu", "AveragePool", "MaxPool", "BatchNormalization", "Add"]), "\(ops)")
        XCTAssertFalse(ops.contains("Dropout"))
    }

    /// A linear layer straight after a convolution reads its NCHW flatten: the graph flattens too.
    func testLinearAfterImageFlattensImplicitly() throws {
        let spec = ModelSpec.layers([
            LayerSpec(type: "conv", out: 4, kernel: 5, stride: 2, pad: 0, name: "conv"),
            LayerSpec(type: "elu"),
            LayerSpec(type: "linear", name: "fc"),
        ])
        _ = try checkAgainstONNXRuntime(spec, name: "implicit-flatten")
    }

    /// Builds `spec` with deterministic weights, perturbed biases and batch-norm statistics,
    /// computes our logits for 64 test images, exports, and has onnxruntime compare.
    private func checkAgainstONNXRuntime(_ spec: ModelSpec, name: String, count: Int = 64) throws -> ONNXExport {
        let images = try ExportFixtures.testImages(count: count)
        let plane = images.imageSize
        let network = try Network(spec: spec, inputShape: (1, 28, 28), classes: 10, seed: 11, maxBatch: count)
        ExportFixtures.perturb(network)
        // Our input: the training pipeline's own normalisation. ONNX's: pixel/255.
        var normalised = [Float](repeating: 0, count: count * plane)
        images.pixels.withUnsafeBufferPointer { pixels in
            normalised.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    Augmenter.apply(AugmentationDraw(), source: pixels.baseAddress! + i * plane,
                                    output: out.baseAddress! + i * plane, channels: 1, height: 28, width: 28,
                                    mean: ExportFixtures.fashionMean, std: ExportFixtures.fashionStd)
                }
            }
        }
        let scaled = images.pixels.map { Float($0) / 255 }
        let logits = normalised.withUnsafeBufferPointer {
            Array(network.forward($0.baseAddress!, batch: count, training: false, step: 0))
        }
        let metadata = ExportMetadata(modelName: name, classNames: (0..<10).map { "class \($0)" }, inputShape: [1, 28, 28],
                                      mean: ExportFixtures.fashionMean, std: ExportFixtures.fashionStd,
                                      producerVersion: "test")
        let export = try ONNXExporter.export(network, metadata: metadata)
        let model = temp + "/\(name).onnx", input = temp + "/input.npy", expected = temp + "/expected.npy"
        try Data(export.bytes).write(to: URL(fileURLWithPath: model))
        try ExportFixtures.writeNPY(input, shape: [count, 1, 28, 28], values: scaled)
        try ExportFixtures.writeNPY(expected, shape: [count, 10], values: logits)

        let check = try ExportFixtures.checkONNX([model, input, expected])
        XCTAssertEqual(check.status, 0, check.output)
        let difference = try XCTUnwrap(ExportFixtures.maxRelativeDifference(in: check.output), check.output)
        XCTAssertLessThanOrEqual(difference, 1e-4, check.output)
        print("onnx \(name): \(export.bytes.count) bytes, \(export.nodeCount) nodes; "
              + (check.output.split(separator: "\n").last { $0.hasPrefix("max relative") }.map(String.init) ?? ""))
        return export
    }
}
