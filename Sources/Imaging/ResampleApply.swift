// Running a plan: interleaved UInt8 -> interleaved UInt8 (Pillow's bits), and planar UInt8 ->
// planar Float in 0...255 units: Pillow's two passes, each clamped to 0...255, never rounded
// (training-time augmentation: the record is quantised once, when it is prepared, and never
// again).
//
// Scratch memory is allocated per call (the intermediate image is at most source height x output
// row); no state is kept, so one plan serves any number of threads.

extension ResamplePlan {
    /// Interleaved HWC UInt8 (`channels` 1...4, source rows `rowStride` bytes apart) into
    /// `output`: outHeight rows of outWidth * channels bytes, `outputRowStride` apart (nil:
    /// contiguous; larger to write into a canvas).
    public func apply(source: UnsafePointer<UInt8>, channels: Int, rowStride: Int,
                      output: UnsafeMutablePointer<UInt8>, outputRowStride: Int? = nil) throws {
        try checkLayout(channels: channels, rowStride: rowStride, pixelStride: channels)
        let outRow = outWidth &* channels
        let outStride = outputRowStride ?? outRow
        guard outStride >= outRow && outStride <= imagingMaxSide &* 16 else {
            throw ImagingError.invalidArgument("output row stride \(outStride) is below \(outWidth) x \(channels) bytes")
        }
        switch path {
        case .crop(let x, let y):
            for r in 0..<outHeight {
                (output + r &* outStride).update(from: source + ((y &+ r) &* rowStride &+ x &* channels), count: outRow)
            }
        case .nearest(let columns, let rows):
            nearest8(source: source, channels: channels, rowStride: rowStride, columns: columns, rows: rows,
                     output: output, outputStride: outStride)
        case .separable(let horizontal, let vertical, let rows):
            guard let horizontal else {
                // Vertical only: the source rows are already the output's width.
                resampleVertical8(input: source, inputStride: rowStride, rowOffset: 0, rowBytes: outRow,
                                  axis: vertical!, output: output, outputStride: outStride)
                return
            }
            guard let vertical else {
                resampleHorizontal8(source: source, rowStride: rowStride, channels: channels, rows: rows,
                                    axis: horizontal, output: output, outRowStride: outStride)
                return
            }
            let temp = UnsafeMutablePointer<UInt8>.allocate(capacity: rows.count &* outRow)
            defer { temp.deallocate() }
            resampleHorizontal8(source: source, rowStride: rowStride, channels: channels, rows: rows,
                                axis: horizontal, output: temp, outRowStride: outRow)
            resampleVertical8(input: temp, inputStride: outRow, rowOffset: rows.lowerBound, rowBytes: outRow,
                              axis: vertical, output: output, outputStride: outStride)
        }
    }

    /// Planar CHW UInt8 (`channels` planes; plane c starts at source + c * planeStride, rows
    /// `rowStride` bytes apart) into planar Float `output` (channels x outHeight x outWidth,
    /// contiguous), values in 0...255, unrounded. `planeStride` nil: rowStride * sourceHeight.
    public func applyPlanar(source: UnsafePointer<UInt8>, channels: Int, rowStride: Int, planeStride: Int? = nil,
                            output: UnsafeMutablePointer<Float>) throws {
        try checkLayout(channels: channels, rowStride: rowStride, pixelStride: 1)
        let planeStride = planeStride ?? rowStride &* sourceHeight
        guard planeStride >= rowStride * (sourceHeight - 1) + sourceWidth else {
            throw ImagingError.invalidArgument("plane stride \(planeStride) is below one \(sourceWidth)x\(sourceHeight) plane")
        }
        for c in 0..<channels {
            applyPlane(source: source + c &* planeStride, rowStride: rowStride,
                       output: output + c &* outWidth &* outHeight)
        }
    }

    private func applyPlane(source: UnsafePointer<UInt8>, rowStride: Int, output: UnsafeMutablePointer<Float>) {
        switch path {
        case .crop(let x, let y):
            for r in 0..<outHeight {
                let src = source + ((y &+ r) &* rowStride &+ x), dst = output + r &* outWidth
                for i in 0..<outWidth { dst[i] = Float(src[i]) }
            }
        case .nearest(let columns, let rows):
            for (r, sy) in rows.enumerated() {
                let dst = output + r &* outWidth
                for (i, sx) in columns.enumerated() {
                    dst[i] = sy < 0 || sx < 0 ? 0 : Float(source[Int(sy) &* rowStride &+ Int(sx)])
                }
            }
        case .separable(let horizontal, let vertical, let rows):
            guard let horizontal else {
                resampleVerticalFloat(bytes: source, inputStride: rowStride, rowOffset: 0, width: outWidth,
                                      axis: vertical!, output: output)
                return
            }
            guard let vertical else {
                resampleHorizontalFloat(source: source, rowStride: rowStride, rows: rows, axis: horizontal, output: output)
                return
            }
            let temp = UnsafeMutablePointer<Float>.allocate(capacity: rows.count &* outWidth)
            defer { temp.deallocate() }
            resampleHorizontalFloat(source: source, rowStride: rowStride, rows: rows, axis: horizontal, output: temp)
            resampleVerticalFloat(input: temp, inputStride: outWidth, rowOffset: rows.lowerBound, width: outWidth,
                                  axis: vertical, output: output)
        }
    }

    /// Pillow's nearest: a table of source byte offsets per output pixel; an output row whose
    /// source row is the previous one's (enlarging) is a copy of it.
    private func nearest8(source: UnsafePointer<UInt8>, channels: Int, rowStride: Int, columns: [Int32], rows: [Int32],
                          output: UnsafeMutablePointer<UInt8>, outputStride: Int) {
        let outRow = outWidth &* channels
        let offsets = UnsafeMutablePointer<Int>.allocate(capacity: outWidth)
        defer { offsets.deallocate() }
        for i in 0..<outWidth { offsets[i] = columns[i] < 0 ? -1 : Int(columns[i]) &* channels }
        var previous: Int32 = -2
        for r in 0..<outHeight {
            let sy = rows[r], dst = output + r &* outputStride
            if sy == previous && r > 0 {
                dst.update(from: dst - outputStride, count: outRow)
                continue
            }
            previous = sy
            guard sy >= 0 else { dst.update(repeating: 0, count: outRow); continue }
            let src = source + Int(sy) &* rowStride
            switch channels {
            case 1: nearestRow(OneChannel.self, src, offsets, dst, outWidth)
            case 2: nearestRow(TwoChannels.self, src, offsets, dst, outWidth)
            case 3: nearestRow(ThreeChannels.self, src, offsets, dst, outWidth)
            default: nearestRow(FourChannels.self, src, offsets, dst, outWidth)
            }
        }
    }
}

/// One output row of the nearest path; offsets[i] < 0: outside the image (0, as Pillow's fill).
@inline(__always)
private func nearestRow<C: ChannelCount>(_: C.Type, _ src: UnsafePointer<UInt8>, _ offsets: UnsafePointer<Int>,
                                         _ dst: UnsafeMutablePointer<UInt8>, _ count: Int) {
    for i in 0..<count {
        let o = offsets[i], d = dst + i &* C.count
        for c in 0..<C.count { d[c] = o < 0 ? 0 : src[o &+ c] }
    }
}
