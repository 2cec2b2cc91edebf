/// Images of one split as raw bytes (each image C x H x W, planes in CHW order) and their
/// labels. Pixels stay UInt8 until the batcher converts, normalises and augments them: a
/// quarter of the memory of floats, and the stored bytes are the ground truth the fingerprint
/// hashes.
///
/// The bytes live in one or more `PixelStorage`s: one owned buffer for IDX and CIFAR files,
/// one memory-mapped store per shard of a prepared dataset. A subset (a validation split, a
/// fold) is a list of record locations over the same stores, so it copies no pixels.
public struct LabeledImages: @unchecked Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let classCount: Int
    public let labels: [Int32]
    let stores: [PixelStorage]
    /// Per image: which store and which record slot in it; nil for one store holding the
    /// images in order.
    let locations: [RecordLocation]?

    public struct RecordLocation: Sendable, Equatable {
        public var store: UInt32
        public var slot: UInt32
        public init(store: UInt32, slot: UInt32) { self.store = store; self.slot = slot }
    }

    /// Images held in memory, in order (`pixels.count == labels.count * C * H * W`).
    public init(channels: Int, height: Int, width: Int, classCount: Int, pixels: [UInt8], labels: [UInt8]) {
        self.init(channels: channels, height: height, width: width, classCount: classCount, pixels: pixels,
                  labels: labels.map { Int32($0) })
    }

    public init(channels: Int, height: Int, width: Int, classCount: Int, pixels: [UInt8], labels: [Int32]) {
        precondition(pixels.count == labels.count * channels * height * width, "pixel count does not match labels")
        self.init(channels: channels, height: height, width: width, classCount: classCount, labels: labels,
                  stores: [PixelStorage(copying: pixels)], locations: nil)
    }

    /// Images in the given stores at the given locations (a prepared dataset's shards).
    public init(channels: Int, height: Int, width: Int, classCount: Int, labels: [Int32],
                stores: [PixelStorage], locations: [RecordLocation]?) {
        precondition(locations == nil ? stores.count == 1 : locations!.count == labels.count, "locations do not match labels")
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
        self.labels = labels
        self.stores = stores
        self.locations = locations
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }
    /// Whether the pixels are memory-mapped (a prepared dataset) rather than held in memory.
    public var isMapped: Bool { stores.contains { $0.isMapped } }

    /// The bytes of image `i` (CHW), copied.
    public func imageBytes(_ i: Int) -> [UInt8] {
        withExtendedLifetime(self) { Array(UnsafeBufferPointer(start: image(i), count: imageSize)) }
    }

    /// The bytes of image `i` (CHW). Valid only while this value (or a copy) is alive: a
    /// mapped store is unmapped with its last owner, and the optimiser may end a local's life
    /// at its last use, so hold the value (a stored property, `withExtendedLifetime`) or use
    /// `imageBytes`.
    @inline(__always)
    public func image(_ i: Int) -> UnsafePointer<UInt8> {
        guard let locations else { return stores[0].base + i * imageSize }
        let l = locations[i]
        return stores[Int(l.store)].base + Int(l.slot) * imageSize
    }

    /// All pixels in order, copied (tests and small tools; never on a large dataset).
    public var pixels: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count * imageSize)
        withExtendedLifetime(self) {
            for i in 0..<count { out.append(contentsOf: UnsafeBufferPointer(start: image(i), count: imageSize)) }
        }
        return out
    }

    /// Images per class, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }

    /// The subset at the given indices, in that order; shares the pixel stores.
    public func subset(_ indices: [Int]) -> LabeledImages {
        let mapped: [RecordLocation] = indices.map { i in
            if let locations { return locations[i] }
            return RecordLocation(store: 0, slot: UInt32(i))
        }
        return LabeledImages(channels: channels, height: height, width: width, classCount: classCount,
                             labels: indices.map { labels[$0] }, stores: stores, locations: mapped)
    }

    /// Hands the pages of the given images back to the kernel (mapped stores only): called
    /// after a batch has been assembled from them.
    public func releasePages(of indices: ArraySlice<Int>) {
        guard isMapped else { return }
        for i in indices {
            let (store, offset) = storeOffset(i)
            stores[store].release(offset..<(offset + imageSize))
        }
    }

    /// Hands back every mapped page (after an evaluation pass).
    public func releaseAllPages() {
        for s in stores { s.releaseAll() }
    }

    func storeOffset(_ i: Int) -> (Int, Int) {
        guard let locations else { return (0, i * imageSize) }
        let l = locations[i]
        return (Int(l.store), Int(l.slot) * imageSize)
    }

    /// A cheap identity of the data: counts, shape and a 64-bit FNV-1a hash of the labels.
    /// Workers compare it with the coordinator's so a host with other data is refused.
    public var fingerprint: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for l in labels {
            // One byte per label below 256 keeps the fingerprints of existing datasets as
            // they were; larger labels add their higher bytes.
            var v = UInt32(bitPattern: l)
            repeat {
                h ^= UInt64(v & 0xff)
                h = h &* 0x0000_0100_0000_01b3
                v >>= 8
            } while v != 0
        }
        return "n=\(count) shape=\(channels)x\(height)x\(width) classes=\(classCount) labels=\(String(h, radix: 16))"
    }
}

extension LabeledImages {
    /// The same images under a larger class count (a class list that names classes no label
    /// uses yet).
    public func withClassCount(_ n: Int) -> LabeledImages {
        precondition(n >= classCount, "class count can only grow")
        return LabeledImages(channels: channels, height: height, width: width, classCount: n, labels: labels,
                             stores: stores, locations: locations)
    }
}
