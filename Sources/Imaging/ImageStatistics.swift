// Statistics for `ringtrain data` checks and the manifest: blur (variance of the Laplacian),
// per-channel mean and standard deviation, near-constant images. Integer accumulation where the
// inputs are bytes, so results do not depend on the order images are merged in.

/// Variance of the 4-neighbour Laplacian [0 1 0; 1 -4 1; 0 1 0] of one gray UInt8 plane, over
/// the valid region only (pixels with all four neighbours inside: (W - 2) x (H - 2) values; 0
/// for images narrower or shorter than 3). The common blur test `cv2.Laplacian(gray,
/// cv2.CV_64F).var()` also filters the border pixels, reflecting the image (BORDER_REFLECT_101),
/// so it differs on the outermost ring; on photographs of a few hundred pixels the difference
/// is small. Population variance (divide by the count), exact integer sums.
public func laplacianVariance(gray: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int? = nil) throws -> Double {
    let stride = try checkInterleaved(width, height, 1, rowStride)
    guard width >= 3 && height >= 3 else { return 0 }
    var sum: Int64 = 0, squares: UInt64 = 0
    for y in 1..<(height &- 1) {
        let row = gray + y &* stride, up = row - stride, down = row + stride
        for x in 1..<(width &- 1) {
            let l = Int64(up[x]) &+ Int64(down[x]) &+ Int64(row[x &- 1]) &+ Int64(row[x &+ 1]) &- 4 &* Int64(row[x])
            sum &+= l
            squares &+= UInt64(l &* l)
        }
    }
    let n = Double((width - 2) * (height - 2))
    let mean = Double(sum) / n
    return max(0, Double(squares) / n - mean * mean)
}

/// Running per-channel sums over any number of images (merge two with `+=`): exact integers,
/// so the mean and std are the same whatever the order or split of the images.
public struct ChannelStatistics: Sendable, Equatable {
    public private(set) var count: UInt64 = 0
    public private(set) var sums: [UInt64]
    public private(set) var squares: [UInt64]

    public init(channels: Int) throws {
        try checkChannels(channels)
        sums = [UInt64](repeating: 0, count: channels)
        squares = sums
    }

    public var channels: Int { sums.count }

    /// Adds an interleaved HWC image with this many channels.
    public mutating func addInterleaved(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int? = nil) throws {
        let stride = try checkInterleaved(width, height, channels, rowStride)
        for y in 0..<height {
            let row = pixels + y &* stride
            for c in 0..<channels {
                var s: UInt64 = 0, q: UInt64 = 0
                for x in 0..<width {
                    let v = UInt64(row[x &* channels &+ c])
                    s &+= v; q &+= v &* v
                }
                sums[c] &+= s; squares[c] &+= q
            }
        }
        count &+= UInt64(width &* height)
    }

    /// Adds a planar CHW image (contiguous planes) with this many channels.
    public mutating func addPlanar(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int) throws {
        _ = try checkInterleaved(width, height, channels, nil)
        let plane = width &* height
        for c in 0..<channels {
            let p = pixels + c &* plane
            var s: UInt64 = 0, q: UInt64 = 0
            for i in 0..<plane { let v = UInt64(p[i]); s &+= v; q &+= v &* v }
            sums[c] &+= s; squares[c] &+= q
        }
        count &+= UInt64(plane)
    }

    public static func += (lhs: inout ChannelStatistics, rhs: ChannelStatistics) {
        precondition(lhs.channels == rhs.channels, "merging statistics of \(lhs.channels) and \(rhs.channels) channels")
        lhs.count &+= rhs.count
        for c in 0..<lhs.channels { lhs.sums[c] &+= rhs.sums[c]; lhs.squares[c] &+= rhs.squares[c] }
    }

    /// Mean per channel, in [0, 1] (pixel / 255), as torchvision Normalize expects.
    public var mean: [Double] {
        sums.map { count == 0 ? 0 : Double($0) / Double(count) / 255 }
    }

    /// Population standard deviation per channel, in [0, 1] units.
    public var std: [Double] {
        (0..<channels).map { c in
            guard count > 0 else { return 0 }
            let n = Double(count), m = Double(sums[c]) / n
            return (max(0, Double(squares[c]) / n - m * m)).squareRoot() / 255
        }
    }
}

/// True when every channel of an interleaved image spans at most `threshold` levels
/// (max - min <= threshold): blank frames, solid fills, failed decodes. Max - min rather than
/// the std, because one bright pixel on a black frame is still content, and it is exact and
/// order-free. threshold 0: truly constant images only.
public func isNearConstant(_ pixels: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                           rowStride: Int? = nil, threshold: Int) throws -> Bool {
    let stride = try checkInterleaved(width, height, channels, rowStride)
    guard threshold >= 0 else { throw ImagingError.invalidArgument("near-constant threshold \(threshold) is negative") }
    for c in 0..<channels {
        var lo = pixels[c], hi = pixels[c]
        for y in 0..<height {
            let row = pixels + y &* stride
            for x in 0..<width {
                let v = row[x &* channels &+ c]
                lo = min(lo, v); hi = max(hi, v)
            }
        }
        if Int(hi) - Int(lo) > threshold { return false }
    }
    return true
}
