import Imaging

/// The pixel-level data checks of `prepare`.
enum PixelChecks {
    /// Near-constant: every value within 2 levels (of 255) of every other, in every channel
    /// (a blank scan, a black frame). JPEG noise alone moves a flat image by about 1 level.
    static func isNearConstant(_ pixels: [UInt8]) -> Bool {
        guard var lo = pixels.first else { return true }
        var hi = lo
        for v in pixels {
            lo = min(lo, v)
            hi = max(hi, v)
            if hi &- lo > 2 { return false }
        }
        return true
    }

    /// Variance of the Laplacian of the record's grey image (Pillow's "L" of RGB), the usual
    /// blur measure, taken on the prepared record so the figure does not depend on the
    /// source's resolution.
    static func sharpness(record: [UInt8], channels: Int, height: Int, width: Int) -> Double {
        var gray = [UInt8](repeating: 0, count: height * width)
        if channels == 1 {
            gray = record
        } else {
            var interleaved = [UInt8](repeating: 0, count: record.count)
            record.withUnsafeBufferPointer { src in
                interleaved.withUnsafeMutableBufferPointer { dst in
                    try? planarToInterleaved(source: src.baseAddress!, width: width, height: height, channels: channels,
                                             output: dst.baseAddress!)
                }
            }
            interleaved.withUnsafeBufferPointer { src in
                gray.withUnsafeMutableBufferPointer { dst in
                    try? rgbToGray(source: src.baseAddress!, width: width, height: height, rowStride: width * channels,
                                   output: dst.baseAddress!)
                }
            }
        }
        return gray.withUnsafeBufferPointer { (try? Imaging.laplacianVariance(gray: $0.baseAddress!, width: width, height: height)) ?? 0 }
    }
}
