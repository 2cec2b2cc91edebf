import Foundation

/// report.json of a prepared dataset: what the data checks found. Every finding is listed;
/// `skipped` holds the files that are not in the dataset (and why), which a re-run does not
/// decode again while they are unchanged.
public struct PrepareReport: Codable, Equatable, Sendable {
    public enum SkipKind: String, Codable, Sendable, CaseIterable {
        /// The decoder refused it: corrupt, truncated, unsupported, a mislabelled extension.
        case unreadable
        /// Shorter side below `min_size`.
        case tooSmall = "too_small"
        case nearConstant = "near_constant"
        /// Variance of the Laplacian below `min_sharpness`.
        case blurry
        /// The same decoded pixels as an earlier image of the same split.
        case duplicate
    }

    public struct Skipped: Codable, Equatable, Sendable {
        public var path: String
        public var split: DatasetSplit
        public var kind: SkipKind
        public var reason: String
        public var bytes: Int
        public var mtimeNs: Int64
        enum CodingKeys: String, CodingKey { case path, split, kind, reason, bytes, mtimeNs = "mtime_ns" }
    }

    /// Two images with the same decoded pixels.
    public struct Duplicate: Codable, Equatable, Sendable {
        public var kept: String
        public var duplicate: String
        /// True when the two are in different splits (train and test): leakage, both kept.
        public var crossesSplits: Bool
        enum CodingKeys: String, CodingKey { case kept, duplicate, crossesSplits = "crosses_splits" }
    }

    public struct Scan: Codable, Equatable, Sendable {
        public var imageFiles: Int
        public var hiddenFiles: Int
        public var nonImageFiles: [String]
        public var emptyClassFolders: [String]
        enum CodingKeys: String, CodingKey {
            case imageFiles = "image_files", hiddenFiles = "hidden_files", nonImageFiles = "non_image_files"
            case emptyClassFolders = "empty_class_folders"
        }
    }

    public var scan: Scan
    public var skipped: [Skipped]
    public var duplicates: [Duplicate]
    /// Per split: images in the dataset.
    public var counts: [String: Int]
    /// Per split: images per class.
    public var classCounts: [String: [Int]]

    enum CodingKeys: String, CodingKey { case scan, skipped, duplicates, counts, classCounts = "class_counts" }

    public var leakage: [Duplicate] { duplicates.filter(\.crossesSplits) }

    public func count(of kind: SkipKind) -> Int { skipped.filter { $0.kind == kind }.count }

    /// Largest class over smallest, on the training split (infinity when a class is empty).
    public var imbalanceRatio: Double {
        guard let train = classCounts[DatasetSplit.train.rawValue], let lo = train.min(), let hi = train.max() else { return 1 }
        return lo == 0 ? .infinity : Double(hi) / Double(lo)
    }

    /// One line for the log: "60000 images; skipped 3 unreadable, 1 duplicate; 2 duplicates cross splits".
    public var summaryLine: String {
        let kept = counts.values.reduce(0, +)
        var parts = ["\(kept) images (" + DatasetSplit.allCases.compactMap { s in counts[s.rawValue].map { "\(s.rawValue) \($0)" } }.joined(separator: ", ") + ")"]
        let skips = SkipKind.allCases.compactMap { k -> String? in
            let n = count(of: k)
            return n > 0 ? "\(n) \(k.rawValue.replacingOccurrences(of: "_", with: " "))" : nil
        }
        parts.append(skips.isEmpty ? "nothing skipped" : "skipped " + skips.joined(separator: ", "))
        let leaks = leakage.count
        if leaks > 0 { parts.append("\(leaks) duplicate\(leaks == 1 ? "" : "s") across splits (leakage)") }
        if !scan.nonImageFiles.isEmpty { parts.append("\(scan.nonImageFiles.count) non-image files ignored") }
        if scan.hiddenFiles > 0 { parts.append("\(scan.hiddenFiles) hidden files ignored") }
        if !scan.emptyClassFolders.isEmpty { parts.append("empty class folders: \(scan.emptyClassFolders.joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }
}
