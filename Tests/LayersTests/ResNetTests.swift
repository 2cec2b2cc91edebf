import XCTest
import Foundation
import Tensors
import Kernels
import Layers

/// torchvision's resnet18 / resnet34: the state_dict names, shapes and parameter counts of
/// `torchvision.models.resnet18()` (11,689,512 parameters with 1000 classes) and the stem variants.
extension NetworkTests {
    func testResNet18HasTorchvisionNamesAndCounts() throws {
        let net = try Network(spec: .named("resnet18"), inputShape: (3, 224, 224), classes: 1000, seed: 1, maxBatch: 1)
        XCTAssertEqual(net.parameterCount, 11_689_512)
        let s = shapes(net)
        XCTAssertEqual(s["conv1.weight"], [64, 3, 7, 7])
        XCTAssertEqual(s["bn1.weight"], [64])
        XCTAssertEqual(s["layer1.0.conv1.weight"], [64, 64, 3, 3])
        XCTAssertEqual(s["layer1.1.bn2.bias"], [64])
        XCTAssertNil(s["layer1.0.downsample.0.weight"])
        XCTAssertEqual(s["layer2.0.conv1.weight"], [128, 64, 3, 3])
        XCTAssertEqual(s["layer2.0.downsample.0.weight"], [128, 64, 1, 1])
        XCTAssertEqual(s["layer2.0.downsample.1.weight"], [128])
        XCTAssertEqual(s["layer4.1.conv2.weight"], [512, 512, 3, 3])
        XCTAssertEqual(s["fc.weight"], [1000, 512])
        XCTAssertEqual(s["fc.bias"], [1000])
        XCTAssertNotNil(net.buffers.layout.slot(named: "layer3.0.downsample.1.running_var"))
        XCTAssertNotNil(net.buffers.layout.slot(named: "bn1.num_batches_tracked"))
        // torchvision's state_dict order: conv1, bn1, layer1.0.conv1, ...
        XCTAssertEqual(Array(net.parameters.layout.slots.map(\.name).prefix(5)),
                       ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.0.bn1.weight"])
        let r34 = try Network(spec: .named("resnet34"), inputShape: (3, 224, 224), classes: 1000, seed: 1, maxBatch: 1)
        XCTAssertEqual(r34.parameterCount, 21_797_672)
        XCTAssertNotNil(r34.parameters.layout.slot(named: "layer3.5.conv2.weight"))
    }

    func testResNetStemsAndShapes() throws {
        let cifar = try Network(spec: .named("resnet18", stem: .cifar), inputShape: (3, 32, 32), classes: 10, seed: 1, maxBatch: 2)
        XCTAssertEqual(shapes(cifar)["conv1.weight"], [64, 3, 3, 3])
        XCTAssertFalse(cifar.layers.contains { $0 is PoolLayer }, "the cifar stem has no max-pool")
        // 28x28 grey input (Fashion-MNIST) through the imagenet stem: 14 -> 7 -> 4 -> 2 -> 1.
        let grey = try Network(spec: .named("resnet18"), inputShape: (1, 28, 28), classes: 5, seed: 1, maxBatch: 2)
        XCTAssertEqual(shapes(grey)["conv1.weight"], [64, 1, 7, 7])
        XCTAssertEqual(shapes(grey)["fc.weight"], [5, 512])
        let x = FloatBuffer(count: 2 * 28 * 28)
        randomFill(x.pointer, x.count, seed: 3)
        let logits = grey.forward(x.pointer, batch: 2, training: true, step: 0)
        XCTAssertEqual(logits.count, 10)
        XCTAssert(logits.allSatisfy(\.isFinite))
        XCTAssertThrowsError(try ModelSpec.named("fashion-cnn", stem: .cifar))
    }

    func testResNetSpecJSONRoundTrip() throws {
        let cifar = try ModelSpec.named("resnet34", stem: .cifar)
        let text = String(decoding: try JSONEncoder().encode(cifar), as: UTF8.self)
        XCTAssertTrue(text.contains("\"stem\":\"cifar\""), text)
        XCTAssertEqual(try JSONDecoder().decode(ModelSpec.self, from: Data(text.utf8)), cifar)
        XCTAssertEqual(String(decoding: try JSONEncoder().encode(ModelSpec.named("resnet18")), as: UTF8.self), "\"resnet18\"")
        XCTAssertEqual(try JSONDecoder().decode(ModelSpec.self, from: Data(#""resnet18""#.utf8)), .resnet(depth: 18, stem: .imagenet))
    }

    /// The ImageNet stem's ops (7x7 stride-2 conv, 3x3 stride-2 pad-1 max-pool) and a
    /// downsampling block, through the whole network's backward.
    func testGradientCheckResNetStemAndDownsample() throws {
        try checkNetworkGradient(.layers([
            LayerSpec(type: "conv", out: 4, kernel: 7, stride: 2, pad: 3, bias: false), LayerSpec(type: "batchnorm"),
            LayerSpec(type: "relu"), LayerSpec(type: "maxpool", stride: 2, pad: 1, size: 3),
            LayerSpec(type: "residual", out: 4, stride: 1, name: "layer1.0", shortcut: "downsample"),
            LayerSpec(type: "residual", out: 6, stride: 2, name: "layer2.0", shortcut: "downsample"),
            LayerSpec(type: "globalavgpool"), LayerSpec(type: "linear", name: "fc"),
        ]), input: (2, 16, 16), classes: 3, batch: 3, step: 1e-3)
    }

    /// Frozen batch norms normalise with their running statistics and leave them unchanged.
    func testFrozenBatchNormUsesRunningStatistics() throws {
        let net = try Network(spec: .named("resnet18", stem: .cifar), inputShape: (3, 8, 8), classes: 3, seed: 2, maxBatch: 2)
        let frozen = net.useRunningStatistics { $0.hasPrefix("layer1.") || $0.hasPrefix("bn1.") }
        XCTAssertEqual(frozen.first, "bn1")
        XCTAssertTrue(frozen.contains("layer1.1.bn2"))
        XCTAssertFalse(frozen.contains("layer2.0.bn1"))
        let x = FloatBuffer(count: 2 * 3 * 64)
        randomFill(x.pointer, x.count, seed: 5, scale: 3)
        let before = net.buffers.storage.array
        _ = net.forward(x.pointer, batch: 2, training: true, step: 0)
        let after = net.buffers.storage.array
        let bn1Mean = net.buffers.layout.slot(named: "bn1.running_mean")!
        let l2Mean = net.buffers.layout.slot(named: "layer2.0.bn1.running_mean")!
        XCTAssertEqual(Array(after[bn1Mean.offset..<(bn1Mean.offset + 64)]), Array(before[bn1Mean.offset..<(bn1Mean.offset + 64)]))
        XCTAssertNotEqual(Array(after[l2Mean.offset..<(l2Mean.offset + 128)]), Array(before[l2Mean.offset..<(l2Mean.offset + 128)]))
    }
}
