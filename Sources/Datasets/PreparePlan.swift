import Foundation
import Imaging
import Tensors

/// How `ringtrain data prepare` (and training on a raw image folder) turns a folder into a
/// prepared dataset. nil sizes and channels are decided from the images (`auto`).
public struct ImageFolderOptions: Codable, Equatable, Sendable {
    /// Record width and height; nil: the images' own size when they all share it.
    public var width: Int? = nil
    public var height: Int? = nil
    /// 1 (grey) or 3 (RGB); nil: 1 when the images sampled are all grey, else 3.
    public var channels: Int? = nil
    public var resize: ResizeMode = .centerCrop
    public var interpolation: Interpolation = .bicubic
    /// Held out per class as the test split when the folder has no `test/`.
    public var testFraction: Double = 0.1
    public var seed: UInt64 = 1
    public var checks = DataCheckSettings()
    /// Where a raw folder's prepared copy is kept (training on a folder); nil: the default
    /// cache (`$RINGTRAIN_CACHE`, else `$XDG_CACHE_HOME/ringtrain`, else `~/.cache/ringtrain`).
    public var cache: String? = nil
    /// Decoding threads (0: all cores).
    public var threads: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case width, height, channels, resize, interpolation, testFraction = "test_fraction", seed, checks, cache, threads
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ImageFolderOptions()
        width = try c.decodeIfPresent(Int.self, forKey: .width)
        height = try c.decodeIfPresent(Int.self, forKey: .height)
        channels = try c.decodeIfPresent(Int.self, forKey: .channels)
        resize = try c.decodeIfPresent(ResizeMode.self, forKey: .resize) ?? d.resize
        interpolation = try c.decodeIfPresent(Interpolation.self, forKey: .interpolation) ?? d.interpolation
        testFraction = try c.decodeIfPresent(Double.self, forKey: .testFraction) ?? d.testFraction
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        checks = try c.decodeIfPresent(DataCheckSettings.self, forKey: .checks) ?? d.checks
        cache = try c.decodeIfPresent(String.self, forKey: .cache)
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
    }

    public static var allKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    /// Range checks naming the key (`images.width`, ...).
    public func validate() -> (key: String, message: String)? {
        for (key, v) in [("width", width), ("height", height)] {
            if let v, !(1...16_384).contains(v) { return (key, "must be in 1...16384, got \(v)") }
        }
        if (width == nil) != (height == nil) { return ("width", "give width and height together (or neither: the images' own size)") }
        if let c = channels, c != 1 && c != 3 { return ("channels", "must be 1 or 3, got \(c)") }
        if !(testFraction >= 0 && testFraction < 1) { return ("test_fraction", "must be in [0, 1), got \(testFraction)") }
        if checks.minSize < 1 { return ("checks.min_size", "must be >= 1") }
        if let s = checks.minSharpness, !(s >= 0) { return ("checks.min_sharpness", "must be >= 0") }
        if threads < 0 || threads > 1024 { return ("threads", "must be in 0...1024") }
        return nil
    }
}

/// Which file goes to which split, in which order: the folder's own split folders, and
/// without a `test/` folder a stratified hold-out of `testFraction` of each class. The
/// hold-out ranks each class's files by a hash of (seed, relative path) and takes the lowest,
/// so a file's side depends on its name and the class size alone: it does not move when
/// files are listed in another order, and few move when files are added.
enum SplitAssignment {
    static func assign(_ folder: ImageFolder, testFraction: Double, seed: UInt64) -> [ImageFile] {
        guard !folder.files.contains(where: { $0.split == .test }), testFraction > 0 else { return folder.files }
        var byClass: [Int32: [Int]] = [:]
        for (i, f) in folder.files.enumerated() where f.split == .train { byClass[f.label, default: []].append(i) }
        var files = folder.files
        for (_, members) in byClass {
            let ranked = members.sorted { rank(files[$0].relativePath, seed) < rank(files[$1].relativePath, seed) }
            let k = Int((testFraction * Double(members.count)).rounded())
            for i in ranked.prefix(k) { files[i].split = .test }
        }
        return files
    }

    static func rank(_ path: String, _ seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in path.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        var rng = CounterRNG(seed: seed, purpose: .split, a: 2, b: h)
        return rng.next()
    }
}

/// The desired dataset, in order: per split the files sorted by (label, path).
struct PreparePlan {
    let folder: ImageFolder
    let settings: PreparationSettings
    let files: [DatasetSplit: [ImageFile]]

    init(folder: ImageFolder, settings: PreparationSettings) {
        self.folder = folder
        self.settings = settings
        let assigned = SplitAssignment.assign(folder, testFraction: settings.testFraction, seed: settings.seed)
        var bySplit: [DatasetSplit: [ImageFile]] = [:]
        for f in assigned { bySplit[f.split, default: []].append(f) }
        files = bySplit.mapValues { list in
            list.sorted { a, b in
                a.label != b.label ? a.label < b.label : a.relativePath.utf8.lexicographicallyPrecedes(b.relativePath.utf8)
            }
        }
    }
}
