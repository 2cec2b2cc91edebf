// Plain-loop twins of the resize, for the tests (and for anyone who wants to read the algorithm
// without the vectorisation). Both take interleaved HWC UInt8 in a contiguous array and use
// the same coefficient tables (ResampleAxis) as the fast paths.

/// Pillow's resize without rounding, in Double: horizontal then vertical pass with the normalised
/// weights, each pass clamped to 0...255 (as Pillow's UInt8 intermediate image is) but never
/// rounded (interleaved HWC). The Float planar path equals this within Float rounding; the 8-bit
/// path within its two roundings.
public func resizeReference(source: [UInt8], width: Int, height: Int, channels: Int, box: ResampleBox? = nil,
                            outWidth: Int, outHeight: Int, filter: ResampleFilter) throws -> [Double] {
    let plan = try referencePlan(source, width, height, channels, box, outWidth, outHeight, filter)
    let box = plan.box
    if filter == .nearest {
        let columns = ResamplePlan.nearestIndices(Double(Float(box.x0)), Double(Float(box.x1)), outWidth, width)
        let rows = ResamplePlan.nearestIndices(Double(Float(box.y0)), Double(Float(box.y1)), outHeight, height)
        var out = [Double](repeating: 0, count: outWidth * outHeight * channels)
        for y in 0..<outHeight where rows[y] >= 0 {
            for x in 0..<outWidth where columns[x] >= 0 {
                for c in 0..<channels {
                    out[(y * outWidth + x) * channels + c] =
                        Double(source[(Int(rows[y]) * width + Int(columns[x])) * channels + c])
                }
            }
        }
        return out
    }
    let h = ResampleAxis(inSize: width, in0: Float(box.x0), in1: Float(box.x1), outSize: outWidth, filter: filter)
    let v = ResampleAxis(inSize: height, in0: Float(box.y0), in1: Float(box.y1), outSize: outHeight, filter: filter)
    var temp = [Double](repeating: 0, count: height * outWidth * channels)
    for y in 0..<height {
        for x in 0..<outWidth {
            for c in 0..<channels {
                var s = 0.0
                for t in 0..<Int(h.counts[x]) {
                    s += Double(source[(y * width + Int(h.starts[x]) + t) * channels + c]) * h.weights[x * h.stride + t]
                }
                temp[(y * outWidth + x) * channels + c] = min(max(s, 0), 255)
            }
        }
    }
    var out = [Double](repeating: 0, count: outHeight * outWidth * channels)
    for y in 0..<outHeight {
        for i in 0..<outWidth * channels {
            var s = 0.0
            for t in 0..<Int(v.counts[y]) {
                s += temp[(Int(v.starts[y]) + t) * outWidth * channels + i] * v.weights[y * v.stride + t]
            }
            out[y * outWidth * channels + i] = min(max(s, 0), 255)
        }
    }
    return out
}

/// Pillow's 8-bit algorithm in plain loops (ImagingResampleInner with the 8bpc passes): fixed-
/// point weights, each pass rounded and clipped to UInt8, passes skipped where Pillow skips
/// them. The fast path must equal this byte for byte.
public func resizeReferenceFixedPoint(source: [UInt8], width: Int, height: Int, channels: Int, box: ResampleBox? = nil,
                                      outWidth: Int, outHeight: Int, filter: ResampleFilter) throws -> [UInt8] {
    let plan = try referencePlan(source, width, height, channels, box, outWidth, outHeight, filter)
    guard case .separable(let horizontal, let vertical, let rows) = plan.path else {
        // Crop and nearest copy bytes; the Double reference is already exact for them.
        return try resizeReference(source: source, width: width, height: height, channels: channels, box: box,
                                   outWidth: outWidth, outHeight: outHeight, filter: filter).map { UInt8($0) }
    }
    @inline(__always) func clip(_ acc: Int32) -> UInt8 { UInt8(min(max(acc >> resamplePrecisionBits, 0), 255)) }
    let half: Int32 = 1 << (resamplePrecisionBits - 1)
    var image = source, imageWidth = width, rowOffset = 0
    if let h = horizontal {
        var temp = [UInt8](repeating: 0, count: rows.count * outWidth * channels)
        for (i, y) in rows.enumerated() {
            for x in 0..<outWidth {
                for c in 0..<channels {
                    var acc = half
                    for t in 0..<Int(h.counts[x]) {
                        acc += Int32(source[(y * width + Int(h.starts[x]) + t) * channels + c]) * h.fixed[x * h.stride + t]
                    }
                    temp[(i * outWidth + x) * channels + c] = clip(acc)
                }
            }
        }
        image = temp; imageWidth = outWidth; rowOffset = rows.lowerBound
    }
    guard let v = vertical else { return image }
    var out = [UInt8](repeating: 0, count: outHeight * outWidth * channels)
    let row = imageWidth * channels
    for y in 0..<outHeight {
        for i in 0..<row {
            var acc = half
            for t in 0..<Int(v.counts[y]) {
                acc += Int32(image[(Int(v.starts[y]) - rowOffset + t) * row + i]) * v.fixed[y * v.stride + t]
            }
            out[y * row + i] = clip(acc)
        }
    }
    return out
}

private func referencePlan(_ source: [UInt8], _ width: Int, _ height: Int, _ channels: Int, _ box: ResampleBox?,
                           _ outWidth: Int, _ outHeight: Int, _ filter: ResampleFilter) throws -> ResamplePlan {
    let plan = try ResamplePlan(sourceWidth: width, sourceHeight: height, box: box,
                                outWidth: outWidth, outHeight: outHeight, filter: filter)
    try plan.checkLayout(channels: channels, rowStride: width * channels, pixelStride: channels)
    guard source.count == width * height * channels else {
        throw ImagingError.invalidArgument("source has \(source.count) bytes, not \(width)x\(height)x\(channels)")
    }
    return plan
}
