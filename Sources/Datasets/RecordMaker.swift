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

    public init(width: Int, height: Int, channels: Int, resize: ResizeMode = .centerCrop,
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
        let pixelHash = made.decoded.pixels.withUnsafeBytes { PixelHash.hex($0) }
        return .success(MadeRecord(record: made.record, fileSha256: fileHash, pixelsSha256: pixelHash))
    }
}

/// Where a source image lands in its record (Imaging's ResizeGeometry on the decoded image),
/// and the smallest decode that still covers it: TurboJPEG's DCT scaling decodes a photo for a
/// 64x64 record at a quarter of its size, as Pillow's draft() does.
struct RecordGeometry {
    let sourceWidth: Int, sourceHeight: Int
    let preparation: ImagePreparation

    init(sourceWidth: Int, sourceHeight: Int, preparation: ImagePreparation) {
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.preparation = preparation
    }

    /// The decoded size may shrink until the part that is resampled still has at least as
    /// many pixels as the record's part it fills, in both directions.
    var minimumDecodeSize: (width: Int, height: Int) {
        let tw = Double(preparation.width), th = Double(preparation.height)
        let w = Double(sourceWidth), h = Double(sourceHeight)
        switch preparation.resize {
        case .stretch:
            return (preparation.width, preparation.height)
        case .centerCrop:
            let f = max(tw / w, th / h)
            return (Int((w * f).rounded(.up)), Int((h * f).rounded(.up)))
        case .letterbox:
            let f = min(tw / w, th / h)
            return (Int((w * f).rounded(.up)), Int((h * f).rounded(.up)))
        }
    }

    /// The record (CHW) of a decoded image: resampled, or copied when nothing changes size.
    func render(_ image: DecodedImage, preparation p: ImagePreparation) throws -> [UInt8] {
        let c = image.channels
        let geometry = try ResizeGeometry(width: image.width, height: image.height, outWidth: p.width, outHeight: p.height,
                                          mode: p.resize)
        var interleaved = [UInt8](repeating: 0, count: p.width * p.height * c)
        if image.width == p.width && image.height == p.height && !geometry.hasMargins
            && geometry.box == .full(width: image.width, height: image.height) {
            interleaved = image.pixels
        } else {
            try image.pixels.withUnsafeBufferPointer { src in
                try interleaved.withUnsafeMutableBufferPointer { dst in
                    try resizeIntoCanvas(source: src.baseAddress!, width: image.width, height: image.height, channels: c,
                                         geometry: geometry, filter: p.interpolation, fill: [0], output: dst.baseAddress!)
                }
            }
        }
        var record = [UInt8](repeating: 0, count: c * p.height * p.width)
        try interleaved.withUnsafeBufferPointer { src in
            try record.withUnsafeMutableBufferPointer { dst in
                try interleavedToPlanar(source: src.baseAddress!, width: p.width, height: p.height, channels: c,
                                        output: dst.baseAddress!)
            }
        }
        return record
    }
}
