import Foundation
import Optim
import Tensors
import XCTest

/// A two-slot model: "fc.weight" [2] and "fc.bias" [1].
private func tinyArenas() -> (ParameterArena, ParameterArena) {
    var layout = ArenaLayout()
    layout.append(name: "fc.weight", shape: [2], role: .weight)
    layout.append(name: "fc.bias", shape: [1], role: .bias)
    let p = ParameterArena(layout: layout)
    return (p, p.makeTwin())
}

private func set(_ arena: ParameterArena, _ name: String, _ values: [Float]) {
    let v = arena.view(named: name)!
    for (i, x) in values.enumerated() { v[i] = x }
}

private func get(_ arena: ParameterArena, _ name: String) -> [Float] { Array(arena.view(named: name)!) }

final class OptimizerTests: XCTestCase {
    func testPlainSGD() {
        let (p, g) = tinyArenas()
        set(p, "fc.weight", [1, -2]); set(p, "fc.bias", [3])
        set(g, "fc.weight", [0.5, 1]); set(g, "fc.bias", [-1])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)))
        XCTAssertEqual(opt.stateNames, [])
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight"), [0.95, -2.1])
        XCTAssertEqual(get(p, "fc.bias"), [3.1])
        XCTAssertEqual(get(g, "fc.weight"), [0.5, 1], "the step leaves the gradients alone")
    }

    func testSGDMomentumHandComputed() {
        // buf1 = g = 1, p1 = 1 - 0.1*1 = 0.9; buf2 = 0.9*1 + 1 = 1.9, p2 = 0.9 - 0.19 = 0.71.
        let (p, g) = tinyArenas()
        set(p, "fc.weight", [1, 1]); set(g, "fc.weight", [1, 1])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0.9)))
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight")[0], 0.9, accuracy: 1e-7)
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight")[0], 0.71, accuracy: 1e-6)
        let buf = opt.stateTensors().first { $0.name == "optimizer.fc.weight.momentum_buffer" }!
        XCTAssertEqual(buf.values[0], 1.9, accuracy: 1e-6)
        XCTAssertEqual(opt.stepCount, 2)
    }

    func testNesterovHandComputed() {
        // step 1: buf = 1, d = 1 + 0.9*1 = 1.9, p = 1 - 0.19 = 0.81
        // step 2: buf = 1.9, d = 1 + 0.9*1.9 = 2.71, p = 0.81 - 0.271 = 0.539
        let (p, g) = tinyArenas()
        set(p, "fc.weight", [1, 1]); set(g, "fc.weight", [1, 1])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0.9, nesterov: true)))
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight")[0], 0.81, accuracy: 1e-6)
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight")[0], 0.539, accuracy: 1e-6)
    }

    func testDampeningSeedsBufferWithFirstGradient() {
        // PyTorch: the first buffer is the gradient itself; later buf = m*buf + (1-d)*g.
        let (p, g) = tinyArenas()
        set(g, "fc.weight", [1, 1])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0.5, dampening: 0.5)))
        opt.step(parameters: p, gradients: g, lr: 1)
        XCTAssertEqual(get(p, "fc.weight")[0], -1)        // buf = 1
        opt.step(parameters: p, gradients: g, lr: 1)
        XCTAssertEqual(get(p, "fc.weight")[0], -2)        // buf = 0.5*1 + 0.5*1 = 1
    }

    func testWeightDecayOnWeightsOnlyByDefault() {
        // L2 (PyTorch SGD): d = g + wd*p = 0 + 0.1*1, p = 1 - 0.1*0.1 = 0.99; the bias is not decayed.
        let (p, g) = tinyArenas()
        set(p, "fc.weight", [1, 1]); set(p, "fc.bias", [1])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0, weightDecay: 0.1)))
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight")[0], 0.99, accuracy: 1e-7)
        XCTAssertEqual(get(p, "fc.bias"), [1])

        let (p2, g2) = tinyArenas()
        set(p2, "fc.bias", [1])
        let all = Optimizer(layout: p2.layout, algorithm: .sgd(SGDOptions(momentum: 0, weightDecay: 0.1)),
                            groups: ParameterGroups(decayRoles: [.weight, .bias]))
        all.step(parameters: p2, gradients: g2, lr: 0.1)
        XCTAssertEqual(get(p2, "fc.bias")[0], 0.99, accuracy: 1e-7)
    }

    func testDecoupledSGDWeightDecay() {
        // p = 2*(1 - 0.1*0.5) - 0.1*1 = 1.8
        let (p, g) = tinyArenas()
        set(p, "fc.weight", [2, 2]); set(g, "fc.weight", [1, 1])
        let opt = Optimizer(layout: p.layout,
                            algorithm: .sgd(SGDOptions(momentum: 0, weightDecay: 0.5, weightDecayMode: .decoupled)))
        opt.step(parameters: p, gradients: g, lr: 0.1)
        XCTAssertEqual(get(p, "fc.weight")[0], 1.8, accuracy: 1e-6)
    }

    func testAdamWHandComputed() {
        // Step 1, g = 0.5: p = 1*(1 - 0.01*0.01) = 0.9999; m = 0.05; v = 0.00025;
        // step size = 0.01/0.1 = 0.1; denom = sqrt(0.00025)/sqrt(0.001) + 1e-8 = 0.5;
        // p = 0.9999 - 0.1*0.05/0.5 = 0.9899.
        let (p, g) = tinyArenas()
        set(p, "fc.weight", [1, 1]); set(p, "fc.bias", [1])
        set(g, "fc.weight", [0.5, 0.5]); set(g, "fc.bias", [0.5])
        let opt = Optimizer(layout: p.layout, algorithm: .adamw(AdamWOptions(weightDecay: 0.01)))
        opt.step(parameters: p, gradients: g, lr: 0.01)
        XCTAssertEqual(get(p, "fc.weight")[0], 0.9899, accuracy: 1e-6)
        XCTAssertEqual(get(p, "fc.bias")[0], 0.99, accuracy: 1e-6, "no decay on the bias")

        // Step 2, g = -0.25, from the formulas in Double.
        set(g, "fc.weight", [-0.25, -0.25])
        opt.step(parameters: p, gradients: g, lr: 0.01)
        let p1 = 0.9899 * (1 - 0.0001)
        let m = 0.05 + 0.1 * (-0.25 - 0.05)
        let v = 0.999 * 0.00025 + 0.001 * 0.0625
        let bc1 = 1 - 0.9 * 0.9, bc2 = 1 - 0.999 * 0.999
        let expected = p1 - (0.01 / bc1) * m / (v.squareRoot() / bc2.squareRoot() + 1e-8)
        XCTAssertEqual(Double(get(p, "fc.weight")[0]), expected, accuracy: 2e-6)
        let names = opt.stateTensors().map(\.name)
        XCTAssertEqual(names, ["optimizer.fc.weight.exp_avg", "optimizer.fc.bias.exp_avg",
                               "optimizer.fc.weight.exp_avg_sq", "optimizer.fc.bias.exp_avg_sq"])
        XCTAssertEqual(Double(opt.stateTensors()[0].values[0]), m, accuracy: 1e-7)
    }

    func testMomentumOverrideReplacesBeta1() {
        let (p, g) = tinyArenas()
        set(g, "fc.weight", [1, 1])
        let opt = Optimizer(layout: p.layout, algorithm: .adamw(AdamWOptions(weightDecay: 0)))
        opt.step(parameters: p, gradients: g, lr: 0.01, momentum: 0.5)
        XCTAssertEqual(opt.stateTensors()[0].values[0], 0.5, accuracy: 1e-7)   // m = (1 - 0.5) * 1
    }

    /// The SIMD body and the scalar tail compute the same thing as a plain loop.
    func testSIMDBodyAndTailMatchScalarReference() {
        var layout = ArenaLayout()
        layout.append(name: "a.weight", shape: [5, 7], role: .weight)    // 35: two SIMD16 blocks + 3
        layout.append(name: "a.bias", shape: [3], role: .bias)
        let p = ParameterArena(layout: layout), g = p.makeTwin()
        var rng = UInt32(12345)
        func next() -> Float { rng = rng &* 1664525 &+ 1013904223; return Float(rng >> 8) / Float(1 << 24) - 0.5 }
        for i in 0..<p.count { p.pointer[i] = next(); g.pointer[i] = next() }
        let p0 = Array(p.storage.buffer), g0 = Array(g.storage.buffer)
        let opt = Optimizer(layout: layout, algorithm: .sgd(SGDOptions(momentum: 0.9, nesterov: true, weightDecay: 0.01)))
        opt.step(parameters: p, gradients: g, lr: 0.05)
        opt.step(parameters: p, gradients: g, lr: 0.05)
        for slot in layout.slots {
            let wd: Float = slot.role == .weight ? 0.01 : 0
            for i in slot.range {
                var x = p0[i], buf: Float = 0
                for s in 0..<2 {
                    let d0 = g0[i] + wd * x
                    buf = s == 0 ? d0 : 0.9 * buf + 1 * d0
                    x = x - 0.05 * (d0 + 0.9 * buf)
                }
                XCTAssertEqual(p.pointer[i], x, accuracy: 1e-6, "\(slot.name)[\(i - slot.offset)]")
            }
        }
    }

    func testFrozenSlotsUnchangedBitForBit() {
        var layout = ArenaLayout()
        layout.append(name: "conv1.weight", shape: [4, 5], role: .weight)
        layout.append(name: "conv1.bias", shape: [4], role: .bias)
        layout.append(name: "conv10.weight", shape: [3], role: .weight)
        layout.append(name: "fc.weight", shape: [2, 3], role: .weight)
        let p = ParameterArena(layout: layout), g = p.makeTwin()
        for i in 0..<p.count { p.pointer[i] = Float(i) * 0.37 - 3; g.pointer[i] = 1e3 * Float(i % 7) - 2 }
        let frozenBefore = Array(p.view(named: "conv1.weight")!) + Array(p.view(named: "conv1.bias")!)
        for algorithm in [OptimizerAlgorithm.sgd(SGDOptions(momentum: 0.9, weightDecay: 0.1)),
                          .adamw(AdamWOptions(weightDecay: 0.1))] {
            let opt = Optimizer(layout: layout, algorithm: algorithm,
                                groups: ParameterGroups(frozenPrefixes: ["conv1"]), clipGradNorm: 1)
            let fcBefore = Array(p.view(named: "fc.weight")!)
            let c10Before = Array(p.view(named: "conv10.weight")!)
            for _ in 0..<3 { opt.step(parameters: p, gradients: g, lr: 0.1) }
            let frozenAfter = Array(p.view(named: "conv1.weight")!) + Array(p.view(named: "conv1.bias")!)
            XCTAssertEqual(frozenAfter.map(\.bitPattern), frozenBefore.map(\.bitPattern))
            XCTAssertNotEqual(Array(p.view(named: "fc.weight")!), fcBefore)
            XCTAssertNotEqual(Array(p.view(named: "conv10.weight")!), c10Before, "conv1 must not freeze conv10")
            for t in opt.stateTensors() where t.name.hasPrefix("optimizer.conv1.") {
                XCTAssertTrue(t.values.allSatisfy { $0.bitPattern == 0 }, "\(t.name) was touched")
            }
        }
    }

    func testGradientClippingByGlobalNorm() {
        let (p, g) = tinyArenas()
        set(g, "fc.weight", [3, 0]); set(g, "fc.bias", [4])
        let opt = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)))
        XCTAssertEqual(opt.gradientNorm(g), 5)
        let r = opt.clipGradients(g, maxNorm: 1)
        XCTAssertEqual(r.norm, 5); XCTAssertTrue(r.clipped)
        XCTAssertEqual(get(g, "fc.weight")[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(get(g, "fc.bias")[0], 0.8, accuracy: 1e-6)
        XCTAssertFalse(opt.clipGradients(g, maxNorm: 10).clipped)

        // Inside step, and frozen slots are left out of the norm.
        set(g, "fc.weight", [3, 0]); set(g, "fc.bias", [4])
        let frozenBias = Optimizer(layout: p.layout, algorithm: .sgd(SGDOptions(momentum: 0)),
                                   groups: ParameterGroups(frozenPrefixes: ["fc.bias"]), clipGradNorm: 1)
        let report = frozenBias.step(parameters: p, gradients: g, lr: 1)
        XCTAssertEqual(report.gradientNorm, 3)
        XCTAssertEqual(get(p, "fc.weight")[0], -1, accuracy: 1e-6)
        XCTAssertEqual(get(p, "fc.bias"), [0])
    }

    func testStateRoundTripContinuesBitIdentically() throws {
        var layout = ArenaLayout()
        layout.append(name: "a.weight", shape: [3, 11], role: .weight)
        layout.append(name: "bn.running_mean", shape: [3], role: .buffer)
        layout.append(name: "a.bias", shape: [3], role: .bias)
        for algorithm in [OptimizerAlgorithm.sgd(SGDOptions(momentum: 0.9, nesterov: true)), .adamw(AdamWOptions())] {
            let p = ParameterArena(layout: layout), g = p.makeTwin()
            for i in 0..<p.count { p.pointer[i] = sin(Float(i)); g.pointer[i] = cos(Float(i) * 1.3) }
            let a = Optimizer(layout: layout, algorithm: algorithm)
            for _ in 0..<3 { a.step(parameters: p, gradients: g, lr: 0.01) }
            XCTAssertFalse(a.stateTensors().contains { $0.name.contains("running_mean") })

            // Save, restore into a fresh optimizer and parameter copy, continue both.
            let saved = Dictionary(uniqueKeysWithValues: a.stateTensors().map { ($0.name, ($0.shape, Array($0.values))) })
            let pb = p.makeTwin(); pb.copy(from: p)
            let b = Optimizer(layout: layout, algorithm: algorithm)
            try b.loadState(stepCount: a.stepCount) { saved[$0].map { (shape: $0.0, values: $0.1) } }
            for _ in 0..<2 {
                a.step(parameters: p, gradients: g, lr: 0.01)
                b.step(parameters: pb, gradients: g, lr: 0.01)
            }
            XCTAssertEqual(p.storage.array.map(\.bitPattern), pb.storage.array.map(\.bitPattern))

            // A missing or misshapen tensor is named, and nothing is loaded.
            let c = Optimizer(layout: layout, algorithm: algorithm)
            let first = a.stateTensors()[0].name
            XCTAssertThrowsError(try c.loadState(stepCount: 3) { $0 == first ? nil : saved[$0].map { (shape: $0.0, values: $0.1) } }) {
                XCTAssertEqual(($0 as? OptimizerStateError)?.tensor, first)
            }
            XCTAssertThrowsError(try c.loadState(stepCount: 3) { name in saved[name].map { (shape: [1], values: $0.1) } }) {
                XCTAssertTrue("\($0)".contains(first))
            }
            XCTAssertEqual(c.stepCount, 0)
        }
    }

    func testConfigDecodingAndErrors() throws {
        let ok = try JSONDecoder().decode(OptimizerConfig.self, from: Data("""
        {"type": "sgd", "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4, "freeze": ["conv1"], "clip_grad_norm": 2}
        """.utf8))
        XCTAssertEqual(ok.algorithm, .sgd(SGDOptions(momentum: 0.9, nesterov: true, weightDecay: 5e-4)))
        XCTAssertEqual(ok.groups.frozenPrefixes, ["conv1"])
        let opt = Optimizer(config: ok, layout: tinyArenas().0.layout)
        XCTAssertEqual(opt.clipGradNorm, 2)
        let adam = try JSONDecoder().decode(OptimizerConfig.self, from: Data(#"{"type": "adamw"}"#.utf8))
        XCTAssertEqual(adam.algorithm, .adamw(AdamWOptions()))

        func error(_ json: String) -> ConfigError? {
            do { _ = try JSONDecoder().decode(OptimizerConfig.self, from: Data(json.utf8)); return nil }
            catch { return error as? ConfigError }
        }
        XCTAssertEqual(error(#"{"momentum": 0.9, "nestrov": true}"#)?.key, "optimizer.nestrov")
        XCTAssertEqual(error(#"{"momentum": 1.5}"#)?.key, "optimizer.momentum")
        XCTAssertEqual(error(#"{"type": "adamw", "beta2": 1}"#)?.key, "optimizer.beta2")
        XCTAssertEqual(error(#"{"momentum": 0, "nesterov": true}"#)?.key, "optimizer.nesterov")
        XCTAssertEqual(error(#"{"clip_grad_norm": -1}"#)?.key, "optimizer.clip_grad_norm")
    }
}
