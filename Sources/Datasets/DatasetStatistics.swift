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
                let base = c * plane
                var s: UInt64 = 0, q: UInt64 = 0
                for j in 0..<plane {
                    let v = UInt64(p[base + j])
                    s &+= v
                    q &+= v &* v
                }
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
