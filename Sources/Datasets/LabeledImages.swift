/// Images of one split as raw bytes (N x C x H x W, CHW per image) and their labels.
/// Pixels stay UInt8 until the batcher converts, normalises and augments them: a quarter of
/// the memory of floats, and the file's bytes are the ground truth the fingerprint hashes.
public struct LabeledImages: Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let classCount: Int
    public let pixels: [UInt8]
    public let labels: [UInt8]

    public init(channels: Int, height: Int, width: Int, classCount: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(pixels.count == labels.count * channels * height * width, "pixel count does not match labels")
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
        self.pixels = pixels
        self.labels = labels
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// Images per class, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }

    /// The subset at the given indices, in that order.
    public func subset(_ indices: [Int]) -> LabeledImages {
        var p = [UInt8]()
        p.reserveCapacity(indices.count * imageSize)
        var l = [UInt8]()
        l.reserveCapacity(indices.count)
        for i in indices {
            p.append(contentsOf: pixels[(i * imageSize)..<((i + 1) * imageSize)])
            l.append(labels[i])
        }
        return LabeledImages(channels: channels, height: height, width: width, classCount: classCount, pixels: p, labels: l)
    }

    /// A cheap identity of the data: counts, shape and a 64-bit FNV-1a hash of the labels.
    /// Workers compare it with the coordinator's so a host with other data is refused.
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for l in labels {
            h ^= UInt64(l)
            h = h &* 0x0000_0100_0000_01b3
        }
        return "n=\(count) shape=\(channels)x\(height)x\(width) classes=\(classCount) labels=\(String(h, radix: 16))"
    }
}
