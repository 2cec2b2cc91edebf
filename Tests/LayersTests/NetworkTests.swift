import XCTest
import Foundation
import Tensors
import Kernels
import Layers

func randomFill(_ p: UnsafeMutablePointer<Float>, _ count: Int, seed: UInt64, scale: Float = 1) {
    var rng = CounterRNG(seed: seed, purpose: .synthetic, a: 3, b: UInt64(count))
    for i in 0..<count { p[i] = (rng.nextUnitFloat() * 2 - 1) * scale }
}

final class NetworkTests: XCTestCase {
    func shapes(_ net: Network) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: net.parameters.layout.slots.map { ($0.name, $0.shape) })
    }

    func testFashionCNNMatchesPyTorchStateDict() throws {
        let net = try Network(spec: .named("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 1, maxBatch: 4)
        XCTAssertEqual(net.parameters.layout.slots.map(\.name),
                       ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias",
                        "fc2.weight", "fc2.bias"])
        let s = shapes(net)
        XCTAssertEqual(s["conv1.weight"], [32, 1, 3, 3])
        XCTAssertEqual(s["conv2.weight"], [64, 32, 3, 3])
        XCTAssertEqual(s["fc1.weight"], [128, 3136])
        XCTAssertEqual(s["fc2.weight"], [10, 128])
        XCTAssertEqual(net.parameterCount, 421_642)
        XCTAssertEqual(net.buffers.layout.slots.count, 0)
        XCTAssertEqual(net.gradients.layout, net.parameters.layout)
    }

    func testFashionCNNBNAndResNet8Names() throws {
        let bn = try Network(spec: .named("fashion-cnn-bn"), inputShape: (1, 28, 28), classes: 10, seed: 1, maxBatch: 2)
        XCTAssertEqual(shapes(bn)["bn2.weight"], [64])
        XCTAssertEqual(bn.buffers.layout.slots.map(\.name),
                       ["bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
                        "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked"])
        let r = try Network(spec: .named("resnet8"), inputShape: (3, 32, 32), classes: 10, seed: 1, maxBatch: 2)
        let s = shapes(r)
        XCTAssertEqual(s["conv1.weight"], [16, 3, 3, 3])
        XCTAssertNil(s["conv1.bias"])
        XCTAssertEqual(s["layer1.conv1.weight"], [16, 16, 3, 3])
        XCTAssertNil(s["layer1.shortcut.0.weight"])
        XCTAssertEqual(s["layer2.conv1.weight"], [32, 16, 3, 3])
        XCTAssertEqual(s["layer2.shortcut.0.weight"], [32, 16, 1, 1])
        XCTAssertEqual(s["layer3.shortcut.1.weight"], [64])
        XCTAssertEqual(s["fc.weight"], [10, 64])
        XCTAssertNotNil(r.buffers.layout.slot(named: "layer3.bn2.running_var"))
        XCTAssertThrowsError(try ModelSpec.named("resnet9000"))
    }

    func testLayerListFromJSON() throws {
        let json = #"""
        {"layers": [{"type":"conv","out":8,"kernel":3,"pad":1},{"type":"relu"},{"type":"maxpool","size":2},
                    {"type":"flatten"},{"type":"linear","out":10}]}
        """#
        let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(json.utf8))
        let net = try Network(spec: spec, inputShape: (1, 6, 6), classes: 10, seed: 3, maxBatch: 2)
        XCTAssertEqual(net.parameters.layout.slots.map(\.name), ["0.weight", "0.bias", "4.weight", "4.bias"])
        XCTAssertEqual(shapes(net)["4.weight"], [10, 72])
        XCTAssertEqual(try JSONDecoder().decode(ModelSpec.self, from: Data(#""resnet8""#.utf8)), .builtin("resnet8"))
        let roundTrip = try JSONDecoder().decode(ModelSpec.self, from: JSONEncoder().encode(spec))
        XCTAssertEqual(roundTrip, spec)
        let bad = ModelSpec.layers([LayerSpec(type: "conv", out: 4), LayerSpec(type: "linear", out: 3)])
        XCTAssertThrowsError(try Network(spec: bad, inputShape: (1, 4, 4), classes: 10, seed: 1, maxBatch: 1))
        XCTAssertThrowsError(try Network(spec: .layers([LayerSpec(type: "softmax")]), inputShape: (1, 4, 4),
                                         classes: 10, seed: 1, maxBatch: 1))
    }

    func testInitialisationIsDeterministicAndKaimingScaled() throws {
        let a = try Network(spec: .named("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 7, maxBatch: 1)
        let b = try Network(spec: .named("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 7, maxBatch: 1)
        let c = try Network(spec: .named("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 8, maxBatch: 1)
        XCTAssertEqual(a.parameters.storage.array, b.parameters.storage.array)
        XCTAssertNotEqual(a.parameters.storage.array, c.parameters.storage.array)
        let w = a.parameters.view(named: "conv2.weight")!
        let bound = (6.0 / 288.0).squareRoot()
        XCTAssert(w.allSatisfy { abs(Double($0)) <= bound })
        XCTAssertGreaterThan(w.map { abs(Double($0)) }.max()!, 0.9 * bound)
        XCTAssert(a.parameters.view(named: "conv2.bias")!.allSatisfy { $0 == 0 })
    }

    /// Whole-network gradient check against central differences of sum(r * logits).
    func checkNetworkGradient(_ spec: ModelSpec, input: (Int, Int, Int), classes: Int, batch: Int, step h: Float = 1e-2,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let net = try Network(spec: spec, inputShape: input, classes: classes, seed: 5, maxBatch: batch)
        let n = batch * input.0 * input.1 * input.2
        let x = FloatBuffer(count: n); randomFill(x.pointer, n, seed: 1)
        let r = FloatBuffer(count: batch * classes); randomFill(r.pointer, r.count, seed: 2)
        func loss() -> Double {
            let y = net.forward(x.pointer, batch: batch, training: true, step: 3)
            var t: Double = 0
            for i in 0..<y.count { t += Double(r[i]) * Double(y[i]) }
            return t
        }
        _ = loss()
        net.gradients.zero()
        var ready: [Range<Int>] = []
        net.backward(dLogits: r.pointer, batch: batch) { ready.append($0) }
        // Ranges arrive in reverse layer order and partition the arena.
        XCTAssertEqual(ready.sorted { $0.lowerBound < $1.lowerBound }.reduce(into: [Range<Int>]()) { $0.append($1) },
                       ready.reversed(), file: file, line: line)
        XCTAssertEqual(ready.last?.lowerBound, 0, file: file, line: line)
        XCTAssertEqual(ready.first?.upperBound, net.parameters.count, file: file, line: line)
        let maxGrad = (0..<net.gradients.count).map { abs(net.gradients.pointer[$0]) }.max()!
        XCTAssertGreaterThan(maxGrad, 0, file: file, line: line)
        var checked = 0, kinks = 0
        for slot in net.parameters.layout.slots {
            let stride = max(1, slot.count / 5)
            for i in Swift.stride(from: slot.offset, to: slot.offset + slot.count, by: stride) {
                let saved = net.parameters.pointer[i]
                let centre = loss()
                net.parameters.pointer[i] = saved + h; let up = loss()
                net.parameters.pointer[i] = saved - h; let down = loss()
                net.parameters.pointer[i] = saved
                // A kink (ReLU at 0, max-pool tie) inside the step shows as unequal one-sided slopes.
                let right = (up - centre) / Double(h), left = (centre - down) / Double(h)
                if abs(right - left) > 0.05 * max(abs(right), abs(left), 1e-2 * Double(maxGrad)) + 1e-3 {
                    kinks += 1; continue
                }
                let numeric = (up - down) / (2 * Double(h))
                let analytic = Double(net.gradients.pointer[i])
                let scale = max(abs(numeric), abs(analytic), 1e-2 * Double(maxGrad))
                XCTAssertLessThan(abs(numeric - analytic) / scale, 3e-2,
                                  "\(slot.name)[\(i - slot.offset)] numeric \(numeric) analytic \(analytic)",
                                  file: file, line: line)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 4 * kinks, "too many kinks skipped (\(kinks))", file: file, line: line)
    }

    func testGradientCheckConvPoolLinear() throws {
        try checkNetworkGradient(.layers([
            LayerSpec(type: "conv", out: 5, kernel: 3, pad: 1), LayerSpec(type: "leakyrelu", slope: 0.1),
            LayerSpec(type: "maxpool", size: 2), LayerSpec(type: "conv", out: 3, kernel: 1),
            LayerSpec(type: "elu"), LayerSpec(type: "avgpool", size: 2), LayerSpec(type: "flatten"),
            LayerSpec(type: "dropout", p: 0.3), LayerSpec(type: "linear", out: 6), LayerSpec(type: "relu"),
            LayerSpec(type: "linear"),
        ]), input: (2, 8, 8), classes: 4, batch: 3)
    }

    func testGradientCheckBatchNormAndResidual() throws {
        try checkNetworkGradient(.layers([
            LayerSpec(type: "conv", out: 4, kernel: 3, pad: 1, bias: false), LayerSpec(type: "batchnorm"),
            LayerSpec(type: "relu"), LayerSpec(type: "residual", out: 4, stride: 1),
            LayerSpec(type: "residual", out: 6, stride: 2), LayerSpec(type: "globalavgpool"),
            LayerSpec(type: "batchnorm"), LayerSpec(type: "linear"),
        ]), input: (1, 6, 6), classes: 3, batch: 4, step: 1e-3)
    }

    /// fashion-cnn's ReLUs run inside the max-pool passes (the pool comes first, see Network).
    func testMaxPoolThenReLUIsFused() throws {
        let net = try Network(spec: .named("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 1, maxBatch: 2)
        let pools = net.layers.compactMap { $0 as? PoolLayer }
        XCTAssertEqual(pools.count, 2)
        XCTAssertEqual(pools.map(\.fusedReLUSlope), [0, 0])
        let activations = net.layers.compactMap { $0 as? ActivationLayer }
        XCTAssertEqual(activations.map(\.isFusedIntoPooling), [true, true, false], "fc1's ReLU has no pool before it")
    }

    /// A first convolution and its max-pool run fused (conv2dMaxPoolForward); the network's
    /// logits and gradients must be the bits of the same layers unfused. A dropout of p = 0
    /// (multiplies by exactly 1) between conv1 and its pool keeps them apart in the second net.
    func testConvPoolFusionGivesTheBitsOfTheUnfusedLayers() throws {
        func conv(_ n: String, _ out: Int) -> LayerSpec { LayerSpec(type: "conv", out: out, kernel: 3, pad: 1, name: n) }
        let relu = LayerSpec(type: "relu"), pool = LayerSpec(type: "maxpool", size: 2)
        let tail = [conv("conv2", 8), relu, pool, LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 16, name: "fc1"),
                    relu, LayerSpec(type: "linear", name: "fc2")]
        let fusedSpec = ModelSpec.layers([conv("conv1", 6), relu, pool] + tail)
        let apartSpec = ModelSpec.layers([conv("conv1", 6), LayerSpec(type: "dropout", p: 0), relu, pool] + tail)
        var results: [(logits: [Float], gradients: [Float])] = []
        for (spec, fused) in [(fusedSpec, true), (apartSpec, false)] {
            let net = try Network(spec: spec, inputShape: (1, 20, 20), classes: 5, seed: 21, maxBatch: 11)
            XCTAssertEqual((net.layers[0] as! Conv2dLayer).fusedPool != nil, fused)
            XCTAssertEqual(net.layers.compactMap { $0 as? PoolLayer }.map(\.isFusedIntoConvolution), [fused, false])
            let x = FloatBuffer(count: 11 * 400); randomFill(x.pointer, x.count, seed: 5)
            let logits = net.forward(x.pointer, batch: 11, training: true, step: 1)
            let d = FloatBuffer(count: 11 * 5)
            _ = softmaxCrossEntropy(dLogits: d.pointer, logits: logits.baseAddress!, labels: (0..<11).map { $0 % 5 },
                                    classes: 5)
            net.backward(dLogits: d.pointer, batch: 11, gradientReady: nil)
            results.append((Array(logits), net.gradients.storage.array))
        }
        XCTAssertEqual(results[0].logits.map(\.bitPattern), results[1].logits.map(\.bitPattern))
        XCTAssertEqual(results[0].gradients.map(\.bitPattern), results[1].gradients.map(\.bitPattern))
    }

    func testGradientsAreBitIdenticalForAnyThreadCount() throws {
      for model in ["fashion-cnn", "fashion-cnn-bn"] {
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let saved = KernelThreads.count
            KernelThreads.count = threads
            defer { KernelThreads.count = saved }
            let net = try Network(spec: .named(model), inputShape: (1, 28, 28), classes: 10, seed: 11,
                                  maxBatch: 19)
            let x = FloatBuffer(count: 19 * 784); randomFill(x.pointer, x.count, seed: 4)
            let logits = net.forward(x.pointer, batch: 19, training: true, step: 1)
            let d = FloatBuffer(count: 19 * 10)
            let labels = (0..<19).map { $0 % 10 }
            _ = softmaxCrossEntropy(dLogits: d.pointer, logits: logits.baseAddress!, labels: labels, classes: 10)
            net.backward(dLogits: d.pointer, batch: 19, gradientReady: nil)
            results.append(net.gradients.storage.array + net.buffers.storage.array)
        }
        XCTAssertEqual(results[0], results[1], model)
        XCTAssertEqual(results[0], results[2], model)
      }
    }

    func testResNet8RunsForwardAndBackward() throws {
        let net = try Network(spec: .named("resnet8"), inputShape: (3, 12, 12), classes: 10, seed: 3, maxBatch: 3)
        let x = FloatBuffer(count: 3 * 3 * 144); randomFill(x.pointer, x.count, seed: 12)
        let logits = net.forward(x.pointer, batch: 3, training: true, step: 1)
        XCTAssertEqual(logits.count, 30)
        XCTAssert(logits.allSatisfy(\.isFinite))
        let d = FloatBuffer(count: 30)
        let loss = softmaxCrossEntropy(dLogits: d.pointer, logits: logits.baseAddress!, labels: [1, 2, 3], classes: 10,
                                       labelSmoothing: 0.1)
        XCTAssert(loss.isFinite && loss > 0)
        var ranges: [Range<Int>] = []
        net.backward(dLogits: d.pointer, batch: 3) { ranges.append($0) }
        // conv1, bn1, layer1, layer2, layer3, fc: six buckets, last layer first.
        XCTAssertEqual(ranges.count, 6)
        XCTAssertEqual(ranges.first, net.gradientRanges.last!)
        XCTAssertEqual(ranges.last?.lowerBound, 0)
        XCTAssertGreaterThan(net.gradients.view(named: "layer1.conv1.weight")!.map { abs($0) }.max()!, 0)
        XCTAssertEqual(net.buffers.view(named: "layer3.shortcut.1.num_batches_tracked")![0], 1)
        let eval = Array(net.forward(x.pointer, batch: 3, training: false, step: 2))
        XCTAssert(eval.allSatisfy(\.isFinite))
    }

    func testEvaluationModeIsDeterministicAndSkipsDropout() throws {
        let net = try Network(spec: .named("fashion-cnn"), inputShape: (1, 28, 28), classes: 10, seed: 2, maxBatch: 2)
        let x = FloatBuffer(count: 2 * 784); randomFill(x.pointer, x.count, seed: 9)
        let a = Array(net.forward(x.pointer, batch: 2, training: false, step: 1))
        let b = Array(net.forward(x.pointer, batch: 2, training: false, step: 2))
        XCTAssertEqual(a, b)
        let c = Array(net.forward(x.pointer, batch: 2, training: true, step: 1))
        XCTAssertNotEqual(a, c)
    }
}
