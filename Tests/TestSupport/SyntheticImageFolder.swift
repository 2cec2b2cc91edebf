import Foundation
import ImageCodecs

/// Small image folders (`ROOT/<class>/<file>` or with train/val/test split folders), with the
/// learnable classes of `SyntheticDataset` (a bright square in one quadrant, plus noise) drawn
/// in colour, written through the encoders the decoders come with.
public enum SyntheticImageFolder {
    public static let classNames = ["circle", "cross", "dot", "ring"]

    public enum Format: String, Sendable { case png, jpeg, webp }

    /// The pixels (HWC, `channels` 1 or 3) of image `index` of `label`: deterministic.
    public static func pixels(label: Int, index: Int, width: Int, height: Int, channels: Int) -> [UInt8] {
        var state = UInt64(label * 1_000_003 + index) &* 0x9E37_79B9_7F4A_7C15 | 1
        func noise() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 59)
        }
        var out = [UInt8](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                let inSquare = (x * 2 / width == label % 2) && (y * 2 / height == (label / 2) % 2)
                for c in 0..<channels {
                    // Colour differs per class as well, so a colour model has two cues.
                    let base = inSquare ? 150 + 30 * ((label + c) % 3) : 20 + 10 * c
                    out[(y * width + x) * channels + c] = UInt8(min(base + Int(noise()), 255))
                }
            }
        }
        return out
    }

    /// Writes a folder and returns its root. `perClass`: images per class and split.
    @discardableResult
    public static func write(root: String? = nil, splits: [String] = [], perClass: Int = 12, width: Int = 16, height: Int = 16,
                             channels: Int = 3, format: Format = .png, classes: [String] = classNames) throws -> String {
        let dir = root ?? NSTemporaryDirectory() + "ringtrain-images-\(UUID().uuidString)"
        for (s, split) in (splits.isEmpty ? [""] : splits).enumerated() {
            for (label, name) in classes.enumerated() {
                let folder = split.isEmpty ? "\(dir)/\(name)" : "\(dir)/\(split)/\(name)"
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for i in 0..<perClass {
                    let image = DecodedImage(width: width, height: height, channels: channels,
                                             pixels: pixels(label: label, index: s * 10_000 + i, width: width, height: height, channels: channels))
                    try write(image, to: "\(folder)/img-\(String(format: "%03d", i)).\(format == .jpeg ? "jpg" : format.rawValue)", format: format)
                }
            }
        }
        return dir
    }

    public static func write(_ image: DecodedImage, to path: String, format: Format) throws {
        let bytes: [UInt8]
        switch format {
        case .png: bytes = try ImageEncoder.png(image)
        case .jpeg: bytes = try ImageEncoder.jpeg(image, quality: 95)
        case .webp: bytes = try ImageEncoder.webp(image, quality: 90, lossless: true)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Every regular file under `dir` with its size and modification time: to show a command
    /// wrote nothing there.
    public static func listing(_ dir: String) -> [String] {
        var out: [String] = []
        let walker = FileManager.default.enumerator(atPath: dir)
        while let rel = walker?.nextObject() as? String {
            let attrs = try? FileManager.default.attributesOfItem(atPath: dir + "/" + rel)
            out.append("\(rel) \(attrs?[.size] ?? 0) \(String(describing: attrs?[.modificationDate]))")
        }
        return out.sorted()
    }
}
