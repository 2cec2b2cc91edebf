import XCTest
import Tensors
import Kernels

final class ConvTests: XCTestCase {
    let shapes: [Conv2dShape] = [
        Conv2dShape(batch: 1, channels: 1, height: 7, width: 9, outChannels: 5, kernelH: 3, kernelW: 3, padding: 1),
        Conv2dShape(batch: 3, channels: 3, height: 11, width: 10, outChannels: 17, kernelH: 5, kernelW: 5,
                    stride: 2, padding: 2),
        Conv2dShape(batch: 2, channels: 19, height: 6, width: 5, outChannels: 7, kernelH: 1, kernelW: 1),
        Conv2dShape(batch: 2, channels: 5, height: 9, width: 9, outChannels: 6, kernelH: 1, kernelW: 1, stride: 2),
        Conv2dShape(batch: 9, channels: 4, height: 8, width: 8, outChannels: 33, kernelH: 3, kernelW: 2,
                    stride: 1, padding: 0),
        Conv2dShape(batch: 2, channels: 2, height: 5, width: 5, outChannels: 3, kernelH: 3, kernelW: 3,
                    stride: 3, padding: 1),
        // The direct route of a first layer (one channel, same width >= 16): a width that is
        // not a multiple of 16, and one that is, with a 5x5 kernel.
        Conv2dShape(batch: 3, channels: 1, height: 9, width: 21, outChannels: 5, kernelH: 3, kernelW: 3, padding: 1),
        Conv2dShape(batch: 2, channels: 1, height: 6, width: 16, outChannels: 3, kernelH: 5, kernelW: 5, padding: 2),
        // ... and its 3x3 weight gradient over two groups of images (batch 11 > 8).
        Conv2dShape(batch: 11, channels: 1, height: 7, width: 17, outChannels: 6, kernelH: 3, kernelW: 3, padding: 1),
        // ResNet-18's shapes (cifar stem, batch 4): wide products, stride-2 3x3 and 1x1.
        Conv2dShape(batch: 4, channels: 256, height: 8, width: 8, outChannels: 512, kernelH: 3, kernelW: 3, stride: 2, padding: 1),
        Conv2dShape(batch: 4, channels: 256, height: 8, width: 8, outChannels: 512, kernelH: 1, kernelW: 1, stride: 2),
        Conv2dShape(batch: 4, channels: 128, height: 16, width: 16, outChannels: 128, kernelH: 3, kernelW: 3, padding: 1),
        Conv2dShape(batch: 4, channels: 256, height: 8, width: 8, outChannels: 256, kernelH: 3, kernelW: 3, padding: 1),
        Conv2dShape(batch: 4, channels: 512, height: 4, width: 4, outChannels: 512, kernelH: 3, kernelW: 3, padding: 1),
        Conv2dShape(batch: 4, channels: 64, height: 32, width: 32, outChannels: 128, kernelH: 3, kernelW: 3, stride: 2, padding: 1),
    ]

    func testTheDirectRouteIsTakenWhereItApplies() {
        XCTAssertEqual(shapes.filter(conv2dUsesDirectForward).count, 3)
        XCTAssertEqual(shapes.filter(conv2dUsesDirectWeightGradient).count, 2)
        XCTAssertTrue(conv2dUsesDirectForward(Conv2dShape(batch: 1, channels: 1, height: 28, width: 28, outChannels: 32,
                                                          kernelH: 3, kernelW: 3, padding: 1)), "fashion-cnn's conv1")
    }

    func testFastMatchesReference() {
        for (idx, s) in shapes.enumerated() {
            for threads in [1, 2] {
                let x = randomBuffer(s.batch * s.inputPlane, seed: 10)
                let w = randomBuffer(s.outChannels * s.colRows, seed: 11)
                let b = randomBuffer(s.outChannels, seed: 12)
                let g = randomBuffer(s.batch * s.outputPlane, seed: 13)
                let y = FloatBuffer(count: s.batch * s.outputPlane), yr = FloatBuffer(count: y.count)
                conv2dForward(output: y.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, shape: s,
                              threads: threads)
                conv2dForwardReference(output: yr.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, shape: s)
                assertClose(y, yr, tolerance: 1e-4, "conv forward shape \(idx)")

                let dx = randomBuffer(x.count, seed: 14), dxr = FloatBuffer(count: x.count)
                let dw = randomBuffer(w.count, seed: 15), dwr = FloatBuffer(count: w.count)
                dwr.copy(from: dw)
                let db = randomBuffer(b.count, seed: 16), dbr = FloatBuffer(count: b.count)
                dbr.copy(from: db)
                conv2dBackward(dInput: dx.pointer, dWeight: dw.pointer, dBias: db.pointer, dOutput: g.pointer,
                               input: x.pointer, weight: w.pointer, shape: s, threads: threads)
                conv2dBackwardReference(dInput: dxr.pointer, dWeight: dwr.pointer, dBias: dbr.pointer,
                                        dOutput: g.pointer, input: x.pointer, weight: w.pointer, shape: s)
                assertClose(dx, dxr, tolerance: 1e-4, "conv dInput shape \(idx)")
                assertClose(dw, dwr, tolerance: 1e-4, "conv dWeight shape \(idx)")
                assertClose(db, dbr, tolerance: 1e-4, "conv dBias shape \(idx)")
            }
        }
    }

    /// im2col and col2im against plain loops over every (row, y, x), bit for bit, for the
    /// geometries of each code path: "same" width at stride 1 (the shifted-plane copy, with
    /// windows taller or wider than tiny images), and the general row-by-row path.
    func testIm2colAndCol2imMatchPlainLoopsExactly() {
        var geometries: [Conv2dShape] = []
        for (h, w) in [(1, 1), (2, 3), (5, 4), (7, 9), (6, 8), (3, 17), (14, 14), (28, 28)] {
            for (kh, kw, p) in [(3, 3, 1), (5, 5, 2), (1, 3, 1), (5, 3, 1), (3, 1, 0), (1, 1, 0), (7, 7, 3)] {
                let oh = h + 2 * p - kh + 1, ow = w + 2 * p - kw + 1
                guard oh >= 1, ow >= 1 else { continue }
                geometries.append(Conv2dShape(batch: 1, channels: 3, height: h, width: w, outChannels: 1,
                                              kernelH: kh, kernelW: kw, padding: p))
            }
        }
        geometries += [Conv2dShape(batch: 1, channels: 2, height: 8, width: 8, outChannels: 1, kernelH: 3, kernelW: 2),
                       Conv2dShape(batch: 1, channels: 2, height: 9, width: 7, outChannels: 1, kernelH: 3, kernelW: 3,
                                   stride: 2, padding: 1)]
        XCTAssertGreaterThan(geometries.filter(\.hasShiftedPlaneColumns).count, 20)
        for s in geometries {
            let image = randomBuffer(s.inputPlane, seed: 40)
            // Poison, so an element im2col fails to write shows up.
            let col = FloatBuffer(count: s.colRows * s.colCols)
            for i in 0..<col.count { col[i] = .nan }
            im2col(col.pointer, image.pointer, s)
            var expected = [Float](repeating: 0, count: col.count)
            forEachColEntryInsideTheImage(s) { colIndex, pixel in expected[colIndex] = image[pixel] }
            XCTAssertEqual(col.array.map(\.bitPattern), expected.map(\.bitPattern), "im2col \(s)")

            let dCol = randomBuffer(col.count, seed: 41)
            let back = randomBuffer(s.inputPlane, seed: 42)   // col2im overwrites it
            col2im(back.pointer, dCol.pointer, s)
            var sums = [Float](repeating: 0, count: s.inputPlane)
            forEachColEntryInsideTheImage(s) { colIndex, pixel in sums[pixel] += dCol[colIndex] }
            XCTAssertEqual(back.array.map(\.bitPattern), sums.map(\.bitPattern), "col2im \(s)")
        }
    }

    /// Every col entry whose window position lies inside the image, in col-row order (row
    /// = (c, kh, kw), then y, x): its index in the col matrix and the image pixel it copies.
    func forEachColEntryInsideTheImage(_ s: Conv2dShape, _ body: (_ colIndex: Int, _ pixel: Int) -> Void) {
        let oh = s.outHeight, ow = s.outWidth
        var row = 0
        for c in 0..<s.channels {
            for kh in 0..<s.kernelH {
                for kw in 0..<s.kernelW {
                    for y in 0..<oh {
                        for x in 0..<ow {
                            let iy = y * s.stride - s.padding + kh, ix = x * s.stride - s.padding + kw
                            if iy >= 0 && iy < s.height && ix >= 0 && ix < s.width {
                                body((row * oh + y) * ow + x, (c * s.height + iy) * s.width + ix)
                            }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    func testStoredColumnsGiveIdenticalResults() {
        for s in shapes {
            let x = randomBuffer(s.batch * s.inputPlane, seed: 24), w = randomBuffer(s.outChannels * s.colRows, seed: 25)
            let g = randomBuffer(s.batch * s.outputPlane, seed: 26)
            let cols = FloatBuffer(count: s.batch * s.colRows * s.colCols)
            let y1 = FloatBuffer(count: g.count), y2 = FloatBuffer(count: g.count)
            conv2dForward(output: y1.pointer, input: x.pointer, weight: w.pointer, bias: nil, shape: s, threads: 2)
            conv2dForward(output: y2.pointer, input: x.pointer, weight: w.pointer, bias: nil, shape: s,
                          columns: cols.pointer, threads: 2)
            XCTAssertEqual(y1.array, y2.array)
            let dx1 = FloatBuffer(count: x.count), dx2 = FloatBuffer(count: x.count)
            let dw1 = FloatBuffer(count: w.count), dw2 = FloatBuffer(count: w.count)
            conv2dBackward(dInput: dx1.pointer, dWeight: dw1.pointer, dBias: nil, dOutput: g.pointer, input: x.pointer,
                           weight: w.pointer, shape: s)
            conv2dBackward(dInput: dx2.pointer, dWeight: dw2.pointer, dBias: nil, dOutput: g.pointer, input: x.pointer,
                           weight: w.pointer, shape: s, columns: UnsafePointer(cols.pointer))
            XCTAssertEqual(dx1.array, dx2.array)
            XCTAssertEqual(dw1.array, dw2.array)
        }
    }

    func testGradientCheck() {
        for s in [shapes[1], shapes[3], shapes[5], shapes[6], shapes[8]] {
            let x = randomBuffer(s.batch * s.inputPlane, seed: 20)
            let w = randomBuffer(s.outChannels * s.colRows, seed: 21)
            let b = randomBuffer(s.outChannels, seed: 22)
            let r = randomBuffer(s.batch * s.outputPlane, seed: 23)
            let y = FloatBuffer(count: r.count)
            let dx = FloatBuffer(count: x.count), dw = FloatBuffer(count: w.count), db = FloatBuffer(count: b.count)
            conv2dBackward(dInput: dx.pointer, dWeight: dw.pointer, dBias: db.pointer, dOutput: r.pointer,
                           input: x.pointer, weight: w.pointer, shape: s)
            let f: () -> Double = {
                conv2dForward(output: y.pointer, input: x.pointer, weight: w.pointer, bias: b.pointer, shape: s)
                return dot(r, y)
            }
            gradientCheck("conv dInput", x: x, analytic: dx, forward: f)
            gradientCheck("conv dWeight", x: w, analytic: dw, forward: f)
            gradientCheck("conv dBias", x: b, analytic: db, forward: f)
        }
    }
}
