/// What `ringtrain data info` prints, and what normalisation uses: per-channel mean and
/// standard deviation of pixels scaled to [0, 1], class counts and the imbalance ratio.
public struct DatasetStatistics: Codable, Sendable, Equatable {
    public let count: Int
    public let classCounts: [Int]
    public let mean: [Double]
    public let std: [Double]

    /// Largest class count over smallest (1 for a balanced split; infinity if a class is empty).
    public var imbalanceRatio: Double {
        guard let lo = classCounts.min(), let hi = classCounts.max() else { return 1 }
        return lo == 0 ? .infinity : Double(hi) / Double(lo)
    }

    public init(count: Int, classCounts: [Int], mean: [Double], std: [Double]) {
        self.count = count
        self.classCounts = classCounts
        self.mean = mean
        self.std = std
    }

    public init(_ images: LabeledImages) {
        let plane = images.height * images.width
        // Exact integer sums per channel: no float drift over 47 million pixels.
        var sums = [UInt64](repeating: 0, count: images.channels)
        var squares = [UInt64](repeating: 0, count: images.channels)
        for i in 0..<images.count {
            let p = images.image(i)
            for c in 0..<images.channels {
                let (s, q) = planeSums(p + c * plane, count: plane)
                sums[c] &+= s
                squares[c] &+= q
            }
            if images.isMapped { images.releasePages(of: [i][...]) }
        }
        let n = Double(images.count * plane)
        let means = sums.map { n > 0 ? Double($0) / n / 255 : 0 }
        let stds = zip(squares, means).map { q, m -> Double in
            guard n > 0 else { return 0 }
            let ex2 = Double(q) / n / (255 * 255)
            return max(ex2 - m * m, 0).squareRoot()
        }
        self.init(count: images.count, classCounts: images.classCounts, mean: means, std: stds)
    }
}

/// (sum, sum of squares) of a plane of bytes, exactly: 16 UInt32 lanes, emptied into UInt64
/// before they can overflow (4096 steps of 16 bytes: 4096 * 255^2 per lane < 2^32).
func planeSums(_ p: UnsafePointer<UInt8>, count: Int) -> (UInt64, UInt64) {
    var sum: UInt64 = 0, squares: UInt64 = 0
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i &+ 16 <= count {
        var s = SIMD16<UInt32>(), q = SIMD16<UInt32>()
        var steps = 0
        while i &+ 16 <= count && steps < 4096 {
            let v = SIMD16<UInt32>(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self))
            s &+= v
            q &+= v &* v
            i &+= 16
            steps &+= 1
        }
        for lane in 0..<16 { sum &+= UInt64(s[lane]); squares &+= UInt64(q[lane]) }
    }
    while i < count {   // leftovers
        let v = UInt64(p[i])
        sum &+= v
        squares &+= v &* v
        i &+= 1
    }
    return (sum, squares)
}
