import Crypto
import Foundation
import ImageCodecs
import Imaging

/// A decoded, checked and resized record.
struct MadeRecord: Sendable {
    /// C x H x W bytes, planes in CHW order.
    var record: [UInt8]
    var fileSha256: String
    var pixelsSha256: String
}

/// Why a file is not in the dataset.
struct RecordSkip: Error, Sendable {
    var kind: PrepareReport.SkipKind
    var reason: String
}

/// How an image becomes a record: its size, channels, and how it is fitted and resampled.
/// Stored with every prepared dataset and every checkpoint trained on one, so `predict`
/// prepares new images exactly as the training images were.
public struct ImagePreparation: Codable, Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var resize: ResizeMode
    public var interpolation: Interpolation

    public init(width: Int, height: Int, channels: Int, resize: ResizeMode = .shorterThenCenterCrop,
                interpolation: Interpolation = .bicubic) {
        self.width = width; self.height = height; self.channels = channels
        self.resize = resize; self.interpolation = interpolation
    }
}

extension PreparationSettings {
    public var imagePreparation: ImagePreparation {
        ImagePreparation(width: width, height: height, channels: channels, resize: resize, interpolation: interpolation)
    }
}

/// Decodes image files into records (one per thread: it holds the decoder's library handles).
public final class ImageRecordDecoder {
    public let preparation: ImagePreparation
    let decoder = ImageDecoder()

    public init(preparation: ImagePreparation) { self.preparation = preparation }

    /// The record (C x H x W, CHW) of an encoded image, and the decoded image it came from.
    public func record(_ bytes: UnsafeRawBufferPointer, minimumSide: Int = 1) throws -> (record: [UInt8], decoded: DecodedImage) {
        let header = try decoder.readHeader(bytes)
        let w = header.orientedWidth, h = header.orientedHeight
        if min(w, h) < minimumSide {
            throw RecordSkip(kind: .tooSmall, reason: "\(w)x\(h) is below the minimum size \(minimumSide)")
        }
        let geometry = RecordGeometry(sourceWidth: w, sourceHeight: h, preparation: preparation)
        var options = DecodeOptions()
        options.channels = preparation.channels
        options.minimumSize = geometry.minimumDecodeSize
        let image = try decoder.decode(bytes, options: options)
        return (try geometry.render(image, preparation: preparation), image)
    }

    /// The record of an image file; errors name the file.
    public func record(path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError(file: path, field: "file", "cannot be read")
        }
        do {
            return try data.withUnsafeBytes { try record($0).record }
        } catch let e as ImageDecodeError {
            throw DatasetError(file: path, field: "image", "\(e)")
        }
    }
}

/// Turns one image file into a record for `prepare`, with the data checks (one per
/// decoding thread).
final class RecordMaker {
    let settings: PreparationSettings
    let decoder: ImageRecordDecoder

    init(settings: PreparationSettings) {
        self.settings = settings
        decoder = ImageRecordDecoder(preparation: settings.imagePreparation)
    }

    func make(path: String) -> Result<MadeRecord, RecordSkip> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(RecordSkip(kind: .unreadable, reason: "cannot be read"))
        }
        return data.withUnsafeBytes { make(bytes: $0) }
    }

    func make(bytes: UnsafeRawBufferPointer) -> Result<MadeRecord, RecordSkip> {
        let made: (record: [UInt8], decoded: DecodedImage)
        do {
            made = try decoder.record(bytes, minimumSide: settings.checks.minSize)
        } catch let skip as RecordSkip {
            return .failure(skip)
        } catch {
            return .failure(RecordSkip(kind: .unreadable, reason: "\(error)"))
        }
        if settings.checks.skipNearConstant, PixelChecks.isNearConstant(made.decoded.pixels) {
            return .failure(RecordSkip(kind: .nearConstant, reason: "every pixel within 2 levels of the others"))
        }
        if let minimum = settings.checks.minSharpness {
            let sharpness = PixelChecks.sharpness(record: made.record, channels: settings.channels,
                                                          height: settings.height, width: settings.width)
            if sharpness < minimum {
                return .failure(RecordSkip(kind: .blurry, reason: "variance of the Laplacian \(String(format: "%.1f", sharpness)) is below \(minimum)"))
            }
        }
        let fileHash = SHA256.hash(data: bytes).hexString
        let pixelHash = made.decoded.pixels.withUnsafeBytes { SHA256.hash(data: $0).hexString }
        return .success(MadeRecord(record: made.record, fileSha256: fileHash, pixelsSha256: pixelHash))
    }
}

/// Where a source image lands in its record: the resize mode as a source box and a
/// destination rectangle, and the smallest decode that still covers the box (TurboJPEG's
/// DCT scaling decodes a photo for a 64x64 record at a quarter of its size).
struct RecordGeometry {
    let sourceWidth: Int, sourceHeight: Int
    /// The part of the source that is resampled, in source pixels.
    let box: (x0: Double, y0: Double, x1: Double, y1: Double)
    /// Where it goes in the record.
    let destination: (x: Int, y: Int, width: Int, height: Int)

    init(sourceWidth w: Int, sourceHeight h: Int, preparation: ImagePreparation) {
        sourceWidth = w
        sourceHeight = h
        let tw = preparation.width, th = preparation.height
        switch preparation.resize {
        case .stretch:
            box = (0, 0, Double(w), Double(h))
            destination = (0, 0, tw, th)
        case .shorterThenCenterCrop:
            // The largest centred box of the target's aspect ratio: Resize(shorter side) +
            // CenterCrop as one resampling.
            let scale = max(Double(tw) / Double(w), Double(th) / Double(h))
            let bw = Double(tw) / scale, bh = Double(th) / scale
            let x0 = (Double(w) - bw) / 2, y0 = (Double(h) - bh) / 2
            box = (x0, y0, x0 + bw, y0 + bh)
            destination = (0, 0, tw, th)
        case .pad:
            let scale = min(Double(tw) / Double(w), Double(th) / Double(h))
            let rw = min(max(Int((Double(w) * scale).rounded()), 1), tw)
            let rh = min(max(Int((Double(h) * scale).rounded()), 1), th)
            box = (0, 0, Double(w), Double(h))
            destination = ((tw - rw) / 2, (th - rh) / 2, rw, rh)
        }
    }

    /// The decoded size may shrink until the box still has at least the destination's pixels.
    var minimumDecodeSize: (width: Int, height: Int) {
        let fx = Double(destination.width) / (box.x1 - box.x0), fy = Double(destination.height) / (box.y1 - box.y0)
        return (Int((Double(sourceWidth) * fx).rounded(.up)), Int((Double(sourceHeight) * fy).rounded(.up)))
    }

    /// The record (CHW) of a decoded image: resampled (or copied, when nothing changes size)
    /// into the destination rectangle, black around it.
    func render(_ image: DecodedImage, preparation: ImagePreparation) throws -> [UInt8] {
        let c = image.channels, tw = preparation.width, th = preparation.height
        // The decoder may have scaled the image down: the box scales with it.
        let sx = Double(image.width) / Double(sourceWidth), sy = Double(image.height) / Double(sourceHeight)
        let b = ResampleBox(x0: box.x0 * sx, y0: box.y0 * sy, x1: box.x1 * sx, y1: box.y1 * sy)
        let d = destination
        var interleaved = [UInt8](repeating: 0, count: d.width * d.height * c)
        let unchanged = image.width == d.width && image.height == d.height
            && b.x0 == 0 && b.y0 == 0 && b.x1 == Double(image.width) && b.y1 == Double(image.height)
        if unchanged {
            interleaved = image.pixels
        } else {
            try image.pixels.withUnsafeBufferPointer { src in
                try interleaved.withUnsafeMutableBufferPointer { dst in
                    try resizeInterleaved(source: src.baseAddress!, width: image.width, height: image.height, channels: c,
                                          rowStride: image.width * c, box: b, output: dst.baseAddress!,
                                          outWidth: d.width, outHeight: d.height, filter: preparation.interpolation.filter)
                }
            }
        }
        var record = [UInt8](repeating: 0, count: c * th * tw)
        for y in 0..<d.height {
            for x in 0..<d.width {
                let s = (y * d.width + x) * c
                let o = (y + d.y) * tw + (x + d.x)
                for ch in 0..<c { record[ch * th * tw + o] = interleaved[s + ch] }
            }
        }
        return record
    }
}

extension Interpolation {
    var filter: ResampleFilter {
        switch self {
        case .bicubic: return .bicubic
        case .bilinear: return .bilinear
        case .area: return .area
        }
    }
}
