import Foundation

/// The splits a dataset can carry. Raw names are those of the folders and the prepared files.
public enum DatasetSplit: String, Codable, Sendable, CaseIterable, Comparable {
    case train, validation = "val", test

    public static func < (a: DatasetSplit, b: DatasetSplit) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One image file of an image folder, as listed (nothing decoded yet).
public struct ImageFile: Sendable, Equatable {
    public var split: DatasetSplit
    public var label: Int32
    /// Relative to the folder's root, with `/` separators (the key that identifies the record).
    public var relativePath: String
    public var byteCount: Int
    /// Modification time in nanoseconds since 1970 (with the size: "unchanged" on a re-run).
    public var modifiedNanoseconds: Int64
}

/// What scanning an image folder found: the class list (sorted folder names, as torchvision's
/// `ImageFolder` sorts them), every image file per split, and what was not an image.
public struct ImageFolder: Sendable {
    public let root: String
    /// True when the root holds `train/` (and maybe `val/` or `validation/`, `test/`) folders.
    public let hasSplitFolders: Bool
    public let classNames: [String]
    public let files: [ImageFile]
    /// Hidden files and folders (names starting with "."), skipped.
    public let hiddenCount: Int
    /// Files without an image extension, relative paths (skipped).
    public let nonImageFiles: [String]
    /// Class folders with no image, as "split/class" (or "class").
    public let emptyClassFolders: [String]

    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png", "webp"]
    static let splitFolderNames: [String: DatasetSplit] = ["train": .train, "val": .validation,
                                                          "validation": .validation, "test": .test]

    /// Whether `directory` could be an image folder: it has at least one sub-folder that is
    /// not hidden (the scan says what is wrong in detail).
    public static func looksLikeImageFolder(_ directory: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.contains { !$0.hasPrefix(".") && isDirectory(directory + "/" + $0) }
    }

    /// Lists the folder. Exit-2 errors (thrown): no images at all, a single class, classes
    /// that differ between split folders, a split folder without class folders.
    public static func scan(root: String) throws -> ImageFolder {
        var builder = ScanBuilder(root: root)
        let top = try listDirectory(root, path: root).filter { !$0.hasPrefix(".") }
        let splitDirs = top.filter { isDirectory(root + "/" + $0) }
        let splitLayout = splitDirs.contains("train") && splitDirs.allSatisfy { splitFolderNames[$0] != nil }
        var classesBySplit: [(folder: String, split: DatasetSplit, classes: [String])] = []
        if splitLayout {
            if splitDirs.contains("val") && splitDirs.contains("validation") {
                throw DatasetError(file: root, field: "split folders", "has both val/ and validation/; keep one")
            }
            // train first: the other splits are compared with it.
            for folder in splitDirs.sorted(by: { splitFolderNames[$0]! < splitFolderNames[$1]! }) {
                let split = splitFolderNames[folder]!
                classesBySplit.append((folder, split, try classFolders(root + "/" + folder)))
            }
        } else {
            classesBySplit.append(("", .train, try classFolders(root)))
        }
        let classNames = classesBySplit[0].classes
        for entry in classesBySplit.dropFirst() where entry.classes != classNames {
            let missing = Set(classNames).subtracting(entry.classes).sorted(by: unicodeOrder)
            let extra = Set(entry.classes).subtracting(classNames).sorted(by: unicodeOrder)
            throw DatasetError(file: root + "/" + entry.folder, field: "class folders",
                               "differ from \(classesBySplit[0].folder)/'s: missing \(missing), extra \(extra); every split needs the same class folders")
        }
        guard !classNames.isEmpty else {
            throw DatasetError(file: splitLayout ? root + "/train" : root, field: "class folders",
                               "none found; an image folder holds one sub-folder per class (ROOT/<class>/<images>)")
        }
        guard classNames.count >= 2 else {
            throw DatasetError(file: splitLayout ? root + "/train" : root, field: "class folders",
                               "only one class (\(classNames[0])); a classifier needs at least two")
        }
        for entry in classesBySplit {
            for (label, name) in classNames.enumerated() {
                let relative = entry.folder.isEmpty ? name : entry.folder + "/" + name
                try builder.collect(relative: relative, split: entry.split, label: Int32(label))
            }
        }
        guard !builder.files.isEmpty else {
            throw DatasetError(file: root, field: "images", "no image files found (extensions: \(imageExtensions.sorted().joined(separator: ", ")))")
        }
        return ImageFolder(root: root, hasSplitFolders: splitLayout, classNames: classNames, files: builder.files,
                           hiddenCount: builder.hidden, nonImageFiles: builder.nonImages,
                           emptyClassFolders: builder.emptyClasses)
    }

    /// Files of one split, in listing order.
    public func files(of split: DatasetSplit) -> [ImageFile] { files.filter { $0.split == split } }
    public var splits: [DatasetSplit] { DatasetSplit.allCases.filter { s in files.contains { $0.split == s } } }

    /// Sub-folders of `directory` that are not hidden, sorted by code point (Python's `sorted`).
    static func classFolders(_ directory: String) throws -> [String] {
        try listDirectory(directory, path: directory)
            .filter { !$0.hasPrefix(".") && isDirectory(directory + "/" + $0) }
            .sorted(by: unicodeOrder)
    }

    static func listDirectory(_ directory: String, path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DatasetError(file: path, field: "directory", "cannot be listed: \(error.localizedDescription)")
        }
    }

    /// Follows symbolic links (a class folder may be a link to another disk).
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Code-point order, as Python sorts `str` (torchvision's class order); Swift's `<` on
    /// String compares canonically equivalent forms, which orders some names differently.
    static func unicodeOrder(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
    }
}

/// Walks class folders recursively (as torchvision's `os.walk(followlinks=True)`), sorting
/// each folder's entries, and sorts images from everything else.
struct ScanBuilder {
    let root: String
    var files: [ImageFile] = []
    var hidden = 0
    var nonImages: [String] = []
    var emptyClasses: [String] = []
    /// (device, inode) of the folders on the current path: a link back to an ancestor would
    /// otherwise be walked forever.
    var ancestors: Set<[UInt64]> = []

    init(root: String) { self.root = root }

    mutating func collect(relative: String, split: DatasetSplit, label: Int32) throws {
        let before = files.count
        try walk(relative: relative, split: split, label: label)
        if files.count == before { emptyClasses.append(relative) }
    }

    private mutating func walk(relative: String, split: DatasetSplit, label: Int32) throws {
        let path = root + "/" + relative
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let id = [UInt64(st.st_dev), UInt64(st.st_ino)]
        guard !ancestors.contains(id) else { return }
        ancestors.insert(id)
        defer { ancestors.remove(id) }
        for name in try ImageFolder.listDirectory(path, path: path).sorted(by: ImageFolder.unicodeOrder) {
            let child = relative + "/" + name
            if name.hasPrefix(".") { hidden += 1; continue }
            var cst = stat()
            guard stat(root + "/" + child, &cst) == 0 else { nonImages.append(child); continue }   // a dangling link
            if (cst.st_mode & S_IFMT) == S_IFDIR {
                try walk(relative: child, split: split, label: label)
                continue
            }
            let ext = (name as NSString).pathExtension.lowercased()
            guard (cst.st_mode & S_IFMT) == S_IFREG, ImageFolder.imageExtensions.contains(ext) else {
                nonImages.append(child)
                continue
            }
            let mtime = Int64(cst.st_mtim.tv_sec) * 1_000_000_000 + Int64(cst.st_mtim.tv_nsec)
            files.append(ImageFile(split: split, label: label, relativePath: child, byteCount: Int(cst.st_size),
                                   modifiedNanoseconds: mtime))
        }
    }
}
