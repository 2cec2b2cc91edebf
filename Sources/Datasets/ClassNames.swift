import Foundation

/// Class names that travel with the data: a `classes.txt` beside IDX files (one name per line,
/// in label order), CIFAR's own `batches.meta.txt`, or the folder names of an image folder.
/// Without one, classes are named by their index. A name is never inferred from a path.
public enum ClassNames {
    /// The names in the first of `files` (inside `directory`) that exists; nil if none does.
    /// Blank lines at the end are ignored; a blank line among names is an error naming it.
    public static func read(directory: String, files: [String]) throws -> (names: [String], file: String)? {
        for name in files {
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw DatasetError(file: path, field: "class names", "cannot be read as UTF-8 text")
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            while lines.last?.isEmpty == true { lines.removeLast() }
            if let blank = lines.firstIndex(where: \.isEmpty) {
                throw DatasetError(file: path, field: "line \(blank + 1)", "is empty; give one class name per line")
            }
            guard !lines.isEmpty else { throw DatasetError(file: path, field: "class names", "the file names no class") }
            return (lines, path)
        }
        return nil
    }

    /// `names` padded with indices up to `count` ("0", "1", ... for classes without a name).
    public static func complete(_ names: [String]?, count: Int) -> [String] {
        let given = names ?? []
        return (0..<count).map { $0 < given.count ? given[$0] : String($0) }
    }

    /// Fashion-MNIST is recognised by its content (the FNV-1a hash of its 60,000 training
    /// labels, see `LabeledImages.fingerprint`), not by where it lies: any copy of the
    /// published files gets the published names, and other IDX data gets indices.
    static let knownByTrainingLabels: [String: [String]] = [
        "n=60000 shape=1x28x28 classes=10 labels=b9f71c71bae5f277": [
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ],
    ]
}
