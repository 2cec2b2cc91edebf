// Direct convolution for a first layer: one input channel, stride 1, output as wide as the
// input (a "same" convolution), at least 16 outputs wide. There the im2col + GEMM route is a
// product of depth KH*KW (9 for fashion-cnn's conv1) that the GEMM runs at a quarter of its
// speed, after building a col matrix KH*KW times the image. Here each image is copied once
// into a zero-padded plane, and every output row is computed 16 pixels at a time: for each
// output channel, KH*KW fused multiply-adds of shifted input rows by broadcast weights.
//
// Each output is bias + (sum over the taps in (kh, kw) order, fused multiply-adds from zero),
// the order the GEMM uses for a single K slice; the tests compare with the reference.

/// Whether `conv2dForward` takes the direct route for this geometry.
@inlinable
public func conv2dUsesDirectForward(_ s: Conv2dShape) -> Bool {
    s.channels == 1 && s.hasShiftedPlaneColumns && s.outWidth >= 16 && s.kernelH * s.kernelW <= 49
}

func conv2dDirectForward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                         weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shape s: Conv2dShape,
                         images: Range<Int>) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width, p = s.padding
    let kh = s.kernelH, kw = s.kernelW, taps = kh &* kw
    let paddedWidth = w &+ 2 &* p, paddedHeight = h &+ 2 &* p
    withScratch(paddedWidth &* paddedHeight &+ 16) { padded in
        padded.update(repeating: 0, count: paddedWidth &* paddedHeight)
        // Groups of 16 output pixels per row; the last group overlaps the one before it when
        // the width is not a multiple of 16 (its pixels are computed again, to the same bits).
        let lastGroup = ow &- 16
        for n in images {
            let image = input + n &* h &* w
            for y in 0..<h {
                let row: UnsafeMutablePointer<Float> = padded + ((y &+ p) &* paddedWidth &+ p)
                row.update(from: image + y &* w, count: w)
            }
            let out = output + n &* s.outputPlane
            for y in 0..<oh {
                var x0 = 0
                while true {
                    let x = min(x0, lastGroup)
                    let windowStart: UnsafeMutablePointer<Float> = padded + (y &* paddedWidth &+ x)
                    let window = UnsafeRawPointer(windowStart)
                    @inline(__always) func store(_ acc: SIMD16<Float>, _ oc: Int) {
                        let b = SIMD16<Float>(repeating: bias?[oc] ?? 0)
                        let target: UnsafeMutablePointer<Float> = out + ((oc &* oh &+ y) &* ow &+ x)
                        UnsafeMutableRawPointer(target).storeBytes(of: b + acc, as: SIMD16<Float>.self)
                    }
                    // Four output channels at a time: four independent chains of fused
                    // multiply-adds share each input load (one chain alone waits on the
                    // FMA latency at every tap).
                    var oc = 0
                    while oc &+ 4 <= s.outChannels {
                        let w0 = weight + oc &* taps, w1 = w0 + taps, w2 = w1 + taps, w3 = w2 + taps
                        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                        var t = 0
                        for i in 0..<kh {
                            let row = window + (i &* paddedWidth &* 4)
                            for j in 0..<kw {
                                let v = row.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self)
                                a0.addProduct(v, SIMD16(repeating: w0[t]))
                                a1.addProduct(v, SIMD16(repeating: w1[t]))
                                a2.addProduct(v, SIMD16(repeating: w2[t]))
                                a3.addProduct(v, SIMD16(repeating: w3[t]))
                                t &+= 1
                            }
                        }
                        store(a0, oc); store(a1, oc &+ 1); store(a2, oc &+ 2); store(a3, oc &+ 3)
                        oc &+= 4
                    }
                    while oc < s.outChannels {
                        let wv = weight + oc &* taps
                        var acc = SIMD16<Float>()
                        for i in 0..<kh {
                            let row = window + (i &* paddedWidth &* 4)
                            for j in 0..<kw {
                                acc.addProduct(row.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self),
                                               SIMD16(repeating: wv[i &* kw &+ j]))
                            }
                        }
                        store(acc, oc)
                        oc &+= 1
                    }
                    if x == lastGroup { break }
                    x0 &+= 16
                }
            }
        }
    }
}
