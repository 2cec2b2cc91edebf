import Imaging
import Foundation

/// The bytes of a prepared dataset (docs/datasets.md, "Prepared datasets", specifies them):
///
///   DIR/manifest.json                 written last; its presence means the dataset is complete
///   DIR/shards/SPLIT-NNNNN.rtshard    a 4096-byte header, then fixed-size uint8 CHW records
///   DIR/SPLIT.index                   a 32-byte header, then per record: shard u32, slot u32, label i32
///   DIR/SPLIT.records.jsonl           per record (index order): source path, bytes, mtime, hashes
///   DIR/report.json                   what the data checks found
///
/// All integers little-endian. Shard records start at a page boundary so they map directly.
public enum PreparedFormat {
    public static let version = 1
    public static let manifestName = "manifest.json"
    public static let formatName = "ringtrain-prepared-dataset"
    public static let shardMagic: [UInt8] = Array("RTSHARD\0".utf8)
    public static let indexMagic: [UInt8] = Array("RTINDEX\0".utf8)
    /// Shard header size: one page on every Linux system we run on, so records map directly.
    public static let shardHeaderBytes = 4096
    public static let indexHeaderBytes = 32
    public static let indexEntryBytes = 12
    /// Shards are closed at this size (fewer, larger files are kinder to shared file systems;
    /// small enough that an interrupted prepare loses little).
    public static let defaultShardBytes = 256 << 20

    public static func shardName(_ split: DatasetSplit, _ number: Int) -> String {
        "shards/\(split.rawValue)-\(String(format: "%05d", number)).rtshard"
    }

    /// The shard header: magic, version, C, H, W, record count, then zeros to 4096 bytes.
    public static func shardHeader(channels: Int, height: Int, width: Int, records: Int) -> [UInt8] {
        var h = shardMagic
        h += le32(version) + le32(channels) + le32(height) + le32(width) + le64(records)
        h += [UInt8](repeating: 0, count: shardHeaderBytes - h.count)
        return h
    }

    /// The index header: magic, version, entry size, record count, 8 reserved zero bytes.
    public static func indexHeader(records: Int) -> [UInt8] {
        indexMagic + le32(version) + le32(indexEntryBytes) + le64(records) + [UInt8](repeating: 0, count: 8)
    }

    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: v) >> (8 * $0)) } }
    static func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: UInt64(truncatingIfNeeded: v) >> (8 * UInt64($0))) } }
    static func readLE32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
    static func readLE64(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
    }
}

/// manifest.json. Field names are part of the format (docs/datasets.md).
public struct PreparedManifest: Codable, Equatable, Sendable {
    public struct ImageShape: Codable, Equatable, Sendable {
        public var channels: Int, height: Int, width: Int
        public var layout = "CHW"
        public var dtype = "uint8"
        public init(channels: Int, height: Int, width: Int) {
            self.channels = channels; self.height = height; self.width = width
        }
    }
    public struct FileEntry: Codable, Equatable, Sendable {
        public var file: String
        public var bytes: Int
        public var sha256: String
    }
    public struct Shard: Codable, Equatable, Sendable {
        public var file: String
        public var records: Int
        public var bytes: Int
        /// SHA-256 of the records (the bytes after the 4096-byte header, which is checked
        /// byte for byte against what the manifest implies).
        public var sha256: String
    }
    public struct Split: Codable, Equatable, Sendable {
        public var count: Int
        public var classCounts: [Int]
        public var index: FileEntry
        public var records: FileEntry
        public var shards: [Shard]
        enum CodingKeys: String, CodingKey { case count, classCounts = "class_counts", index, records, shards }
    }
    public struct Normalization: Codable, Equatable, Sendable {
        public var mean: [Double], std: [Double]
    }

    public var format = PreparedFormat.formatName
    public var version = PreparedFormat.version
    public var image: ImageShape
    public var classes: [String]
    /// How the records were made (the options a re-run must match to be incremental).
    public var preparation: PreparationSettings
    public var splits: [String: Split]
    /// Of the training split's pixels scaled to [0, 1], per channel.
    public var normalization: Normalization
}

/// The settings of a prepare, stored in the manifest. A re-run with other settings is a
/// different dataset (and `prepare` says so instead of mixing records).
public struct PreparationSettings: Codable, Equatable, Sendable {
    public var source: String
    public var width: Int
    public var height: Int
    public var channels: Int
    public var resize: ResizeMode
    public var interpolation: Interpolation
    /// Fraction of each class held out as the test split when the folder has no `test/`.
    public var testFraction: Double
    public var seed: UInt64
    public var checks: DataCheckSettings

    enum CodingKeys: String, CodingKey {
        case source, width, height, channels, resize, interpolation, testFraction = "test_fraction", seed, checks
    }
}

/// The resampling filter of a prepare (Imaging's Pillow-exact filters).
public typealias Interpolation = ResampleFilter

/// Which data checks skip images. Every finding is reported either way.
public struct DataCheckSettings: Codable, Equatable, Sendable {
    /// Images whose shorter side is below this many pixels are skipped.
    public var minSize: Int = 8
    /// Skip later exact duplicates (same decoded pixels) within a split.
    public var skipDuplicates = true
    /// Skip near-constant images (every channel's max - min at most 2 of 255).
    public var skipNearConstant = true
    /// Skip images whose variance of the Laplacian is below this (nil: sharpness not checked).
    public var minSharpness: Double? = nil

    public init() {}
    enum CodingKeys: String, CodingKey {
        case minSize = "min_size", skipDuplicates = "skip_duplicates", skipNearConstant = "skip_near_constant"
        case minSharpness = "min_sharpness"
    }
}

/// One line of SPLIT.records.jsonl: where record `i` of the split came from.
public struct PreparedRecord: Codable, Equatable, Sendable {
    public var path: String
    public var label: Int32
    public var bytes: Int
    public var mtimeNs: Int64
    /// SHA-256 of the source file's bytes.
    public var sha256: String
    /// A 128-bit hash of the decoded pixels (before resizing), `PixelHash`: equal for exact
    /// duplicates. Not cryptographic (it is 20 times faster than SHA-256 on a decoded photo).
    public var pixelsSha256: String
    public var shard: Int
    public var slot: Int
    enum CodingKeys: String, CodingKey {
        case path, label, bytes, mtimeNs = "mtime_ns", sha256, pixelsSha256 = "pixels_sha256", shard, slot
    }
}
