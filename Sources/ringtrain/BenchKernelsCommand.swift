import ArgumentParser
import Foundation
import Kernels
import Layers
import Tensors

/// `ringtrain bench kernels`: FMA peak, GEMM 1024^3, every conv and linear product of
/// fashion-cnn at batch 128, and fashion-cnn forward+backward throughput.
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernels", abstract: "Benchmark: kernels.")

    @Flag(help: "Print one JSON object.") var json = false
    @Option(help: "Kernel threads.") var threads: Int = 1
    @Option(help: "Batch size for the fashion-cnn figures.") var batch: Int = 128
    @Option(help: "Timed repetitions per figure (the median is reported).") var repeats: Int = 7
    @Flag(help: "Only the forward+backward figure (used by scripts/bench-vs-pytorch.sh).")
    var trainOnly = false
    @OptionGroup var modelOptions: BenchModelOptions
    @Option(help: ArgumentHelp("Also time OpenBLAS's cblas_sgemm from this shared library on every product, "
                               + "repetitions taken in turn with ours (a benchmark reference only).",
                               valueName: "libopenblas.so"))
    var openblas: String?
    @Option(help: .hidden) var only: String?  // one product by name, nothing else (for profiling)

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        KernelThreads.count = threads
        var results: [BenchResult] = []
        func say(_ s: String) { if !json { print(s) } }

        let blas = try openblas.map { try OpenBLASReference(path: $0) }
        // (--only is for profiling one figure: no peak loops in the profile.)
        let measurePeak = !trainOnly && only == nil
        let perThread = measurePeak ? measurePeakPerThread() : 0
        let peak = perThread * Double(threads)
        let concurrentPeak = measurePeak ? measureConcurrentPeak(threads: threads) : 0
        if let blas { say("OpenBLAS reference: \(blas.path) (core \(blas.coreName)); ratio = OpenBLAS ms / ours") }
        if !trainOnly { try measureProducts(&results, openblas: blas) }
        if only != nil {
            for r in results { print(String(format: "%@ %.4f ms%@%@", r.name, r.seconds * 1e3,
                                            r.openblasRatio.map { String(format: " (OpenBLAS ratio %.3f)", $0) } ?? "",
                                            r.speedup.map { String(format: " (%.3fx one thread)", $0) } ?? "")) }
            return
        }
        if !trainOnly { say(String(format: "FMA peak: %.1f GFLOP/s per thread (register-only loop), %.1f for %d threads (%.1f measured together)",
                   perThread / 1e9, peak / 1e9, threads, concurrentPeak / 1e9)) }
        // The peak loop is AVX2 (ymm); with the AVX-512 GEMM kernel "% of peak" can pass 100.
        say("GEMM micro-kernel: \(KernelISA.name) (RINGTRAIN_KERNELS=avx2 selects the AVX2 one)")

        // The model's forward + loss + backward at the batch size.
        let model = modelOptions.model
        let shape = try modelOptions.shape()
        let net = try Network(spec: modelOptions.spec(), inputShape: shape, classes: 10, seed: 1, maxBatch: batch)
        let images = filled(batch * shape.0 * shape.1 * shape.2, 10)
        let labels = (0..<batch).map { Int32($0 % 10) }
        let dLogits = FloatBuffer(count: batch * 10)
        var step = 0
        let stepTime = median(model == "fashion-cnn" ? max(repeats, 5) : repeats) {
            step += 1
            net.gradients.zero()
            let logits = net.forward(images.pointer, batch: batch, training: true, step: step)
            labels.withUnsafeBufferPointer { l in
                _ = softmaxCrossEntropy(dLogits: dLogits.pointer, logits: logits.baseAddress!, labels: l.baseAddress!,
                                        batch: batch, classes: 10)
            }
            net.backward(dLogits: dLogits.pointer, batch: batch, gradientReady: nil)
        }
        let imagesPerSec = Double(batch) / stepTime
        if !json {
            net.profiling = true
            net.resetProfile()
            for _ in 0..<5 {
                step += 1
                let logits = net.forward(images.pointer, batch: batch, training: true, step: step)
                labels.withUnsafeBufferPointer { l in
                    _ = softmaxCrossEntropy(dLogits: dLogits.pointer, logits: logits.baseAddress!, labels: l.baseAddress!,
                                            batch: batch, classes: 10)
                }
                net.backward(dLogits: dLogits.pointer, batch: batch, gradientReady: nil)
            }
            print("per-layer ms (mean of 5 steps): layer, forward, backward")
            for (i, l) in net.layers.enumerated() {
                print(String(format: "  %2d %@ %8.3f %8.3f", i, String(describing: type(of: l)),
                             net.layerSeconds[i].forward * 200, net.layerSeconds[i].backward * 200))
            }
        }

        if json {
            var items: [String] = []
            for r in results {
                let g = r.flops / r.seconds
                var item = String(format: "{\"name\": \"%@\", \"gflops\": %.2f, \"percent_of_peak\": %.1f, \"ms\": %.4f",
                                  r.name, g / 1e9, 100 * g / peak, r.seconds * 1e3)
                if let o = r.openblasSeconds, let ratio = r.openblasRatio {
                    item += String(format: ", \"openblas_ms\": %.4f, \"openblas_ratio\": %.3f", o * 1e3, ratio)
                }
                if let o = r.oneThreadSeconds, let x = r.speedup {
                    item += String(format: ", \"one_thread_ms\": %.4f, \"speedup_vs_one_thread\": %.3f", o * 1e3, x)
                }
                items.append(item + "}")
            }
            print(String(format: "{\"threads\": %d, \"peak_gflops\": %.2f, \"peak_gflops_per_thread\": %.2f, ", threads,
                         peak / 1e9, perThread / 1e9)
                  + String(format: "\"peak_gflops_measured_together\": %.2f, \"batch\": %d, ", concurrentPeak / 1e9, batch)
                  + "\"kernel_isa\": \"\(KernelISA.name)\", "
                  + "\"results\": [" + items.joined(separator: ", ") + "], "
                  + String(format: "\"train_step_ms\": %.3f, \"train_images_per_sec\": %.1f}", stepTime * 1e3, imagesPerSec))
        } else {
            print("name                        ms      GFLOP/s  % of peak" + (blas == nil ? "" : "  OpenBLAS ms  ratio"))
            for r in results {
                let g = r.flops / r.seconds
                var line = r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(format: "%9.3f %9.1f %8.1f%%", r.seconds * 1e3, g / 1e9, 100 * g / peak)
                if let o = r.openblasSeconds, let ratio = r.openblasRatio { line += String(format: " %12.3f %5.2fx", o * 1e3, ratio) }
                if let o = r.oneThreadSeconds, let x = r.speedup {
                    line += String(format: "   1 thread %.3f ms: %.2fx", o * 1e3, x)
                }
                print(line)
            }
            print(String(format: "%@ forward+backward, batch %d: %.2f ms/step, %.1f images/s",
                         model, batch, stepTime * 1e3, imagesPerSec))
        }
    }

    /// One product call, with `gemm`'s arguments; run by our GEMM or by OpenBLAS's.
    typealias GemmCall = (_ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                          _ transA: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, _ transB: Bool,
                          _ m: Int, _ n: Int, _ k: Int, _ accumulate: Bool) -> Void

    func measureProducts(_ results: inout [BenchResult], openblas: OpenBLASReference?) throws {
        func ours(threads: Int) -> GemmCall {
            return { c, ldc, a, lda, ta, b, ldb, tb, m, n, k, acc in
                gemm(c, ldc: ldc, a, lda: lda, transA: ta, b, ldb: ldb, transB: tb, m: m, n: n, k: k, accumulate: acc,
                     threads: threads)
            }
        }
        let theirs: GemmCall? = openblas.map { blas in
            { c, ldc, a, lda, ta, b, ldb, tb, m, n, k, acc in
                blas.gemm(c, ldc: ldc, a, lda: lda, transA: ta, b, ldb: ldb, transB: tb, m: m, n: n, k: k, accumulate: acc)
            }
        }
        // A product timed with our GEMM and, where --openblas is given, with OpenBLAS's too:
        // the two sides' repetitions taken in turn.
        func product(_ name: String, _ flops: Double, oursThreads: Int, _ body: (GemmCall) -> Void) {
            if let only, only != name { return }
            let mine = ours(threads: oursThreads)
            guard let theirs else {
                results.append(BenchResult(name: name, flops: flops, seconds: median(repeats) { body(mine) }))
                return
            }
            let t = medianPaired(repeats, { body(mine) }, { body(theirs) })
            results.append(BenchResult(name: name, flops: flops, seconds: t.first, openblasSeconds: t.second,
                                       openblasRatio: t.ratio))
        }
        // The same for work that is not one GEMM call per image (no OpenBLAS counterpart). With
        // `scaling` and more than one thread, repetitions on one thread are taken in turn with
        // the N-thread ones, for the speed-up between neighbouring samples.
        func timed(_ name: String, _ flops: Double, scaling: Bool = false, _ body: () -> Void) {
            if let only, only != name { return }
            guard scaling && threads > 1 else {
                results.append(BenchResult(name: name, flops: flops, seconds: median(repeats, body)))
                return
            }
            // Before each N-thread run, an empty parallelFor wakes the pool threads, which park
            // during a one-thread run longer than their spin window: in training, kernel calls
            // follow each other and find them awake (KernelThreadPool.swift).
            let t = medianPaired(repeats, body, { KernelThreads.count = 1; body(); KernelThreads.count = threads },
                                 beforeFirst: { parallelFor(threads, threads: threads) { _ in } })
            results.append(BenchResult(name: name, flops: flops, seconds: t.first, oneThreadSeconds: t.second,
                                       speedup: t.ratio))
        }

        // GEMM 1024^3 on all threads: ours splits C, OpenBLAS runs a pool of as many.
        do {
            let n = 1024
            let a = filled(n * n, 1), b = filled(n * n, 2), c = FloatBuffer(count: n * n)
            openblas?.setThreads(threads)
            product("gemm-1024", 2 * Double(n * n * n), oursThreads: threads) { g in
                g(c.pointer, n, a.pointer, n, false, b.pointer, n, false, n, n, n, false)
            }
            openblas?.setThreads(1)
        }

        // The conv products of fashion-cnn, per image as the layers run them, threads over
        // images (each call on one thread, OpenBLAS's too).
        let convs = [("conv1", Conv2dShape(batch: batch, channels: 1, height: 28, width: 28, outChannels: 32,
                                           kernelH: 3, kernelW: 3, padding: 1)),
                     ("conv2", Conv2dShape(batch: batch, channels: 32, height: 14, width: 14, outChannels: 64,
                                           kernelH: 3, kernelW: 3, padding: 1))]
        for (name, s) in convs {
            let ckk = s.colRows, ohw = s.colCols, oc = s.outChannels
            let w = filled(oc * ckk, 3), col = filled(ckk * ohw, 4), dOut = filled(batch * oc * ohw, 5)
            let out = FloatBuffer(count: batch * oc * ohw)
            let perThread = max(ckk * ohw, oc * ckk)
            let scratch = FloatBuffer(count: threads * perThread)
            // Each thread's scratch: the one of the worker that owns the range starting at `first`.
            func scratchOf(_ first: Int) -> UnsafeMutablePointer<Float> {
                scratch.pointer + ((first * threads + batch - 1) / batch) * perThread
            }
            let x = filled(batch * s.inputPlane, 6), y = FloatBuffer(count: batch * s.outputPlane)
            let dx = FloatBuffer(count: x.count), dw = FloatBuffer(count: oc * ckk)
            let flops = s.forwardFlops
            product("\(name)-forward", flops, oursThreads: 1) { g in
                parallelRanges(batch) { r in
                    for n in r { g(out.pointer + n * oc * ohw, ohw, w.pointer, ckk, false, col.pointer, ohw, false, oc, ohw, ckk, false) }
                }
            }
            product("\(name)-backward-data", flops, oursThreads: 1) { g in
                parallelRanges(batch) { r in
                    let dCol = scratchOf(r.lowerBound)
                    for n in r { g(dCol, ohw, w.pointer, ckk, true, dOut.pointer + n * oc * ohw, ohw, false, ckk, ohw, oc, false) }
                }
            }
            product("\(name)-backward-weights", flops, oursThreads: 1) { g in
                parallelRanges(batch) { r in
                    let pw = scratchOf(r.lowerBound)
                    for n in r {
                        g(pw, ckk, dOut.pointer + n * oc * ohw, ohw, false, col.pointer, ohw, true, oc, ckk, ohw, n != r.lowerBound)
                    }
                }
            }
            // The glue around the products: every image's col matrix built, and scattered back.
            timed("\(name)-im2col", 0) {
                parallelRanges(batch) { r in
                    let c = scratchOf(r.lowerBound)
                    for n in r { im2col(c, x.pointer + n * s.inputPlane, s) }
                }
            }
            timed("\(name)-col2im", 0) {
                parallelRanges(batch) { r in
                    for n in r { col2im(dx.pointer + n * s.inputPlane, col.pointer, s) }
                }
            }
            // The whole ops (im2col, bias, col2im, partial sums included).
            timed("\(name)-op-forward", flops, scaling: true) {
                conv2dForward(output: y.pointer, input: x.pointer, weight: w.pointer, bias: nil, shape: s)
            }
            timed("\(name)-op-backward", 2 * flops, scaling: true) {
                conv2dBackward(dInput: name == "conv1" ? nil : dx.pointer, dWeight: dw.pointer, dBias: nil,
                               dOutput: y.pointer, input: x.pointer, weight: w.pointer, shape: s)
            }
            // A first layer as fashion-cnn runs it: fused with its 2x2 max-pool and ReLU.
            let pool = PoolShape(batch: batch, channels: oc, height: s.outHeight, width: s.outWidth, size: 2)
            if conv2dMaxPoolFusible(s, pool) {
                let pooled = FloatBuffer(count: batch * oc * pool.outHeight * pool.outWidth)
                let argMax = ByteBuffer(count: pooled.count)
                timed("\(name)-pool-op-forward", flops, scaling: true) {
                    conv2dMaxPoolForward(pooled: pooled.pointer, argMax: argMax.pointer, input: x.pointer, weight: w.pointer,
                                         bias: nil, conv: s, pool: pool, reluSlope: 0)
                }
                timed("\(name)-pool-op-backward", flops, scaling: true) {
                    conv2dMaxPoolBackward(dWeight: dw.pointer, dBias: nil, dPooled: pooled.pointer, argMax: argMax.pointer,
                                          input: x.pointer, conv: s, pool: pool, reluSlope: 0)
                }
            }
        }

        // The linear products of fashion-cnn, whole batch per call (all threads for ours; OpenBLAS
        // gets as many).
        openblas?.setThreads(threads)
        for (name, inF, outF) in [("fc1", 3136, 128), ("fc2", 128, 10)] {
            let x = filled(batch * inF, 7), w = filled(outF * inF, 8), dy = filled(batch * outF, 9)
            let y = FloatBuffer(count: batch * outF), dx = FloatBuffer(count: batch * inF), dw = FloatBuffer(count: outF * inF)
            let flops = 2 * Double(batch * inF * outF)
            product("\(name)-forward", flops, oursThreads: threads) { g in
                g(y.pointer, outF, x.pointer, inF, false, w.pointer, inF, true, batch, outF, inF, false)
            }
            product("\(name)-backward-data", flops, oursThreads: threads) { g in
                g(dx.pointer, inF, dy.pointer, outF, false, w.pointer, inF, false, batch, inF, outF, false)
            }
            product("\(name)-backward-weights", flops, oursThreads: threads) { g in
                g(dw.pointer, inF, dy.pointer, outF, true, x.pointer, inF, false, outF, inF, batch, false)
            }
        }
        openblas?.setThreads(1)
    }
}

/// One figure of `bench kernels`: seconds is the median of the timed repetitions; with
/// --openblas, OpenBLAS's median on the same calls and the median over repetitions of the ratio
/// OpenBLAS seconds / ours taken one right after the other (above 1: ours faster); for the
/// whole conv ops with --threads N > 1, the one-thread median and the median of the ratios
/// one-thread seconds / N-thread seconds taken in turn.
struct BenchResult {
    var name: String
    var flops: Double
    var seconds: Double
    var openblasSeconds: Double? = nil
    var openblasRatio: Double? = nil
    var oneThreadSeconds: Double? = nil
    var speedup: Double? = nil
}

func filled(_ count: Int, _ seed: UInt64) -> FloatBuffer {
    var rng = CounterRNG(seed: seed, purpose: .synthetic)
    let b = FloatBuffer(count: count)
    for i in 0..<count { b[i] = rng.nextUnitFloat() - 0.5 }
    return b
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// Median seconds of `repeats` timed runs after one warm-up run.
func median(_ repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let t0 = now(); body(); times.append(now() - t0)
    }
    times.sort()
    return times[times.count / 2]
}

/// Medians of `repeats` timed runs of `first` and of `second` taken in turn (after one warm-up
/// each; which goes first alternates, as the later of two neighbours tends to run slower), and
/// the median of the ratios second / first within each pair: noise that moves on a scale of
/// seconds cancels in the pairs.
/// `beforeFirst` runs, untimed, right before every timed run of `first`.
func medianPaired(_ repeats: Int, _ first: () -> Void, _ second: () -> Void, beforeFirst: () -> Void = {})
    -> (first: Double, second: Double, ratio: Double) {
    first(); second()
    var a: [Double] = [], b: [Double] = [], ratios: [Double] = []
    for r in 0..<repeats {
        func timed(_ body: () -> Void) -> Double { let t0 = now(); body(); return now() - t0 }
        func timedFirst() -> Double { beforeFirst(); return timed(first) }
        let (x, y): (Double, Double)
        if r % 2 == 0 { let tx = timedFirst(); y = timed(second); x = tx } else { let ty = timed(second); x = timedFirst(); y = ty }
        a.append(x); b.append(y); ratios.append(y / x)
    }
    func mid(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    return (mid(a), mid(b), mid(ratios))
}

/// A register-only FMA loop: 12 independent 8-wide accumulators, so the two FMA pipes never
/// wait on latency. Returns FLOP/s for one thread (best of 5).
@inline(never)
func fmaLoop(_ iterations: Int, _ seed: Float) -> Float {
    let m = SIMD8<Float>(repeating: 0.999_999), d = SIMD8<Float>(repeating: 1e-7 * seed)
    var a0 = SIMD8<Float>(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5
    var a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
    for _ in 0..<iterations {
        // a = d + a * m: one FMA each, converging (no overflow), 12 independent chains.
        a0 = d.addingProduct(a0, m); a1 = d.addingProduct(a1, m); a2 = d.addingProduct(a2, m)
        a3 = d.addingProduct(a3, m); a4 = d.addingProduct(a4, m); a5 = d.addingProduct(a5, m)
        a6 = d.addingProduct(a6, m); a7 = d.addingProduct(a7, m); a8 = d.addingProduct(a8, m)
        a9 = d.addingProduct(a9, m); a10 = d.addingProduct(a10, m); a11 = d.addingProduct(a11, m)
    }
    let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
    return s.sum()
}

func fmaFlops(_ iterations: Int) -> Double { Double(iterations) * 12 * 8 * 2 }

func measurePeakPerThread() -> Double {
    let iters = 20_000_000
    var best = 0.0
    var sink: Float = 0
    for _ in 0..<5 {
        let t0 = now(); sink += fmaLoop(iters, 1); let dt = now() - t0
        best = max(best, fmaFlops(iters) / dt)
    }
    if sink.isNaN { print("") }
    return best
}

func measureConcurrentPeak(threads: Int) -> Double {
    let iters = 20_000_000
    var best = 0.0
    for _ in 0..<3 {
        let t0 = now()
        DispatchQueue.concurrentPerform(iterations: threads) { i in
            if fmaLoop(iters, Float(i)).isNaN { print("") }
        }
        best = max(best, fmaFlops(iters) * Double(threads) / (now() - t0))
    }
    return best
}
