import Tensors
import Training
import XCTest

/// `ema_decay`: PyTorch AveragedModel's update, with the documented warm-up.
final class WeightAverageTests: XCTestCase {
    private func arenas() -> (ParameterArena, ParameterArena) {
        var p = ArenaLayout()
        p.append(name: "fc.weight", shape: [2], role: .weight)
        var b = ArenaLayout()
        b.append(name: "bn.running_mean", shape: [1], role: .buffer)
        b.append(name: "bn.num_batches_tracked", shape: [], role: .buffer)
        return (ParameterArena(layout: p), ParameterArena(layout: b))
    }

    func testUpdatesHandComputedWithoutWarmup() {
        let (w, b) = arenas()
        let ema = WeightAverage(decay: 0.75, warmup: false, parameterLayout: w.layout, bufferLayout: b.layout)
        _ = w.view(named: "fc.weight")!.update(from: [1, -4])
        b.pointer[0] = 2; b.pointer[b.layout.slots[1].offset] = 1
        ema.update(parameters: w, buffers: b)
        XCTAssertEqual(Array(ema.parameters.view(named: "fc.weight")!), [1, -4], "the first update copies")
        // ema = 0.75·ema + 0.25·w: [0.75 + 0.25·5, -3 + 0.25·0] = [2, -3]; mean 0.75·2 + 0.25·6 = 3;
        // the counter is copied: 7.
        _ = w.view(named: "fc.weight")!.update(from: [5, 0])
        b.pointer[0] = 6; b.pointer[b.layout.slots[1].offset] = 7
        ema.update(parameters: w, buffers: b)
        XCTAssertEqual(Array(ema.parameters.view(named: "fc.weight")!), [2, -3])
        XCTAssertEqual(ema.buffers.view(named: "bn.running_mean")![0], 3)
        XCTAssertEqual(ema.buffers.view(named: "bn.num_batches_tracked")![0], 7)
        XCTAssertEqual(ema.updates, 2)
    }

    func testWarmupRampsTheDecay() {
        let (w, b) = arenas()
        let ema = WeightAverage(decay: 0.999, warmup: true, parameterLayout: w.layout, bufferLayout: b.layout)
        XCTAssertEqual(ema.decay(afterUpdates: 1), 2.0 / 11.0)
        XCTAssertEqual(ema.decay(afterUpdates: 100), 101.0 / 110.0)
        XCTAssertEqual(ema.decay(afterUpdates: 1_000_000), 0.999)
        w.pointer[0] = 0
        ema.update(parameters: w, buffers: b)
        w.pointer[0] = 11
        ema.update(parameters: w, buffers: b)
        // d = 2/11: ema = 0 + (9/11)·11 = 9.
        XCTAssertEqual(ema.parameters.pointer[0], 9, accuracy: 1e-5)
    }
}
