import ArgumentParser
import Datasets
import Foundation
import ImageCodecs
import Imaging

/// `ringtrain data export-images SRC --out DIR`: a dataset written out as an image folder
/// (`DIR/train/<class>/<index>.png`, `DIR/test/...`), the layout `prepare`, torchvision's
/// `ImageFolder` and Keras read. Class folders are `NN-name` (the label, zero-padded, then the
/// name with `/` replaced), so their sorted order is the label order.
struct DataExportImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-images",
        abstract: "Write a dataset (IDX, CIFAR-10, prepared) out as an image folder of PNG or JPEG files.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case png, jpeg }

    @Argument(help: "Dataset directory.")
    var source: String

    @Option(help: "Output folder (must not exist yet, or be empty).")
    var out: String

    @Option(help: "png (lossless) or jpeg.")
    var format: Format = .png

    @Option(help: "JPEG quality 1...100.")
    var quality: Int = 90

    @Option(help: "Write at most this many images per split (0: all).")
    var limit: Int = 0

    func validate() throws {
        guard (1...100).contains(quality) else { throw ValidationError("--quality must be in 1...100") }
        guard limit >= 0 else { throw ValidationError("--limit must be >= 0") }
    }

    func run() throws {
        let dataset = try exitingOnBadInput { try Dataset.load(directory: source) }
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: out), !existing.isEmpty {
            printError("error: \(out) exists and is not empty; nothing was written")
            throw ExitCode(2)
        }
        let folders = Self.classFolders(dataset.classNames)
        var splits: [(String, LabeledImages)] = [("train", dataset.train), ("test", dataset.test)]
        if let v = dataset.validation { splits.insert(("val", v), at: 1) }
        var written = 0
        try exitingOnBadInput {
            for (name, images) in splits {
                for folder in folders { try fm.createDirectory(atPath: "\(out)/\(name)/\(folder)", withIntermediateDirectories: true) }
                let count = limit > 0 ? min(limit, images.count) : images.count
                for i in 0..<count {
                    let bytes = try encode(images, i)
                    let path = "\(out)/\(name)/\(folders[Int(images.labels[i])])/\(String(format: "%05d", i)).\(format == .png ? "png" : "jpg")"
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                    written += 1
                }
            }
        }
        print("wrote \(written) \(format.rawValue.uppercased()) files to \(out) (\(splits.map(\.0).joined(separator: ", ")); \(folders.count) class folders)")
    }

    /// Image `i` (CHW) as one encoded file.
    func encode(_ images: LabeledImages, _ i: Int) throws -> [UInt8] {
        let c = images.channels, h = images.height, w = images.width
        var pixels = [UInt8](repeating: 0, count: c * h * w)
        try pixels.withUnsafeMutableBufferPointer { out in
            try planarToInterleaved(source: images.image(i), width: w, height: h, channels: c, output: out.baseAddress!)
        }
        let image = DecodedImage(width: w, height: h, channels: c, pixels: pixels)
        switch format {
        case .png: return try ImageEncoder.png(image)
        case .jpeg: return try ImageEncoder.jpeg(image, quality: quality)
        }
    }

    static func classFolders(_ names: [String]) -> [String] {
        let digits = max(2, String(names.count - 1).count)
        return names.enumerated().map { i, name in
            let safe = name.replacingOccurrences(of: "/", with: "-").trimmingCharacters(in: .whitespaces)
            return String(repeating: "0", count: max(0, digits - String(i).count)) + String(i) + "-" + safe
        }
    }
}
