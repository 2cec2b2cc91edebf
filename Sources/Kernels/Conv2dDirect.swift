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

/// Whether `conv2dBackward` computes the weight gradient directly (a 3x3 first layer of the
/// direct forward route): nine accumulators in registers instead of 9 x OC dot products.
@inlinable
public func conv2dUsesDirectWeightGradient(_ s: Conv2dShape) -> Bool {
    conv2dUsesDirectForward(s) && s.kernelH == 3 && s.kernelW == 3
}

/// partial[OC, 9] += the weight gradient of `images` (one input channel, 3x3, same width):
/// dW[oc][kh][kw] = sum over pixels of dOut[oc][y][x] * paddedInput[y + kh][x + kw]. For each
/// output channel, 8 pixels of a row at a time against the nine shifted input rows; when the
/// width is not a multiple of 8 the last group overlaps the one before it with its repeated
/// lanes of dOut set to zero (they multiply finite input values, so they add exact zeros).
/// Each output channel's nine sums are reduced lane by lane at the end of each image, images
/// in order, so the bits depend only on the images given, not on threads.
func conv2dDirectWeightGradient(_ partial: UnsafeMutablePointer<Float>, dOutput: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, shape s: Conv2dShape, images: Range<Int>) {
    let oh = s.outHeight, ow = s.outWidth, h = s.height, w = s.width, p = s.padding
    let paddedWidth = w &+ 2 &* p, paddedHeight = h &+ 2 &* p
    let fullGroups = ow / 8, tail = ow % 8, groups = fullGroups &+ (tail > 0 ? 1 : 0)
    // The taps' byte offsets come from the shape, not literals: with constants 4 and 8, LLVM
    // merged the three overlapping loads of a row into one load and lane shuffles, which took
    // longer than the loads (perf annotate).
    let tap1 = (s.kernelW &- 2) &* 4, tap2 = tap1 &* 2
    // Lanes of the overlapping last group that the full groups already counted.
    var repeated = SIMDMask<SIMD8<Int32>>()
    for lane in 0..<(tail > 0 ? 8 &- tail : 0) { repeated[lane] = true }
    withScratch(paddedWidth &* paddedHeight) { padded in
        padded.update(repeating: 0, count: paddedWidth &* paddedHeight)
        for n in images {
            let image = input + n &* h &* w
            for y in 0..<h {
                let row: UnsafeMutablePointer<Float> = padded + ((y &+ p) &* paddedWidth &+ p)
                row.update(from: image + y &* w, count: w)
            }
            for oc in 0..<s.outChannels {
                let dOut = UnsafeRawPointer(dOutput + (n &* s.outputPlane &+ oc &* oh &* ow))
                var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>()
                var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>()
                var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a22 = SIMD8<Float>()
                for y in 0..<oh {
                    for g in 0..<groups {
                        let x = g < fullGroups ? g &* 8 : ow &- 8
                        var d = dOut.loadUnaligned(fromByteOffset: (y &* ow &+ x) &* 4, as: SIMD8<Float>.self)
                        if g == fullGroups { d = d.replacing(with: 0, where: repeated) }
                        let start: UnsafeMutablePointer<Float> = padded + (y &* paddedWidth &+ x)
                        let r0 = UnsafeRawPointer(start)
                        let r1 = r0 + paddedWidth &* 4, r2 = r1 + paddedWidth &* 4
                        a00.addProduct(d, r0.loadUnaligned(as: SIMD8<Float>.self))
                        a01.addProduct(d, r0.loadUnaligned(fromByteOffset: tap1, as: SIMD8<Float>.self))
                        a02.addProduct(d, r0.loadUnaligned(fromByteOffset: tap2, as: SIMD8<Float>.self))
                        a10.addProduct(d, r1.loadUnaligned(as: SIMD8<Float>.self))
                        a11.addProduct(d, r1.loadUnaligned(fromByteOffset: tap1, as: SIMD8<Float>.self))
                        a12.addProduct(d, r1.loadUnaligned(fromByteOffset: tap2, as: SIMD8<Float>.self))
                        a20.addProduct(d, r2.loadUnaligned(as: SIMD8<Float>.self))
                        a21.addProduct(d, r2.loadUnaligned(fromByteOffset: tap1, as: SIMD8<Float>.self))
                        a22.addProduct(d, r2.loadUnaligned(fromByteOffset: tap2, as: SIMD8<Float>.self))
                    }
                }
                let out = partial + oc &* 9
                out[0] += a00.sum(); out[1] += a01.sum(); out[2] += a02.sum()
                out[3] += a10.sum(); out[4] += a11.sum(); out[5] += a12.sum()
                out[6] += a20.sum(); out[7] += a21.sum(); out[8] += a22.sum()
            }
        }
    }
}
