import Foundation
import ImageCodecs

/// Settings left to `auto`: the record size (the images' own, when the sample agrees on one)
/// and the channels (grey when every image sampled is grey). The sample is up to 256 files
/// spread evenly over the listing, read header-only.
enum AutoSettings {
    static let sampleSize = 256

    static func resolve(folder: ImageFolder, options: ImageFolderOptions) throws -> PreparationSettings {
        if let problem = options.validate() {
            throw DatasetError(file: folder.root, field: problem.key, problem.message)
        }
        var width = options.width, height = options.height, channels = options.channels
        if width == nil || channels == nil {
            let headers = sampleHeaders(folder)
            guard !headers.isEmpty else {
                throw DatasetError(file: folder.root, field: "images", "none of the \(min(folder.files.count, sampleSize)) images sampled has a readable header")
            }
            if channels == nil { channels = headers.allSatisfy { $0.header.storedChannels <= 2 } ? 1 : 3 }
            if width == nil {
                let sizes = Set(headers.map { [$0.header.orientedWidth, $0.header.orientedHeight] })
                guard sizes.count == 1, let size = sizes.first else {
                    let examples = headers.prefix(64).reduce(into: [String: String]()) { d, h in
                        d["\(h.header.orientedWidth)x\(h.header.orientedHeight)"] = h.path
                    }.sorted { $0.key < $1.key }.prefix(3).map { "\($0.key) (\($0.value))" }
                    throw DatasetError(file: folder.root, field: "size",
                                       "the images differ in size (\(examples.joined(separator: ", ")), ...): give a record size (--size N or WxH; images.width/height in a config)")
                }
                (width, height) = (size[0], size[1])
            }
        }
        return PreparationSettings(source: folder.root, width: width!, height: height!, channels: channels!,
                                   resize: options.resize, interpolation: options.interpolation,
                                   testFraction: folder.files.contains { $0.split == .test } ? 0 : options.testFraction,
                                   seed: options.seed, checks: options.checks)
    }

    static func sampleHeaders(_ folder: ImageFolder) -> [(path: String, header: ImageHeader)] {
        let files = folder.files
        let n = min(files.count, sampleSize)
        let decoder = ImageDecoder()
        var out: [(String, ImageHeader)] = []
        for k in 0..<n {
            let file = files[k * files.count / n]
            guard let data = readPrefix(folder.root + "/" + file.relativePath, bytes: 256 << 10) else { continue }
            if let h = try? data.withUnsafeBytes({ try decoder.readHeader($0) }) { out.append((file.relativePath, h)) }
        }
        return out
    }

    /// The first `bytes` of a file (headers; a JPEG's frame header can sit after a large EXIF block).
    static func readPrefix(_ path: String, bytes: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.read(upToCount: bytes)
    }
}
