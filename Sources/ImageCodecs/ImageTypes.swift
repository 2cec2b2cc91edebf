// The values ImageCodecs hands in and out: formats, headers, decoded pixels, options, errors.

/// An image file format, detected from the file's first bytes (never from its name).
public enum ImageFormat: String, Sendable, CaseIterable {
    case jpeg, png, webp
}

/// What a file's header says, read without decoding any pixels.
public struct ImageHeader: Sendable, Equatable {
    public var format: ImageFormat
    /// The size as stored, before the EXIF orientation is applied.
    public var width: Int
    public var height: Int
    /// Channels of the stored colour model: 1 grey, 2 grey + alpha, 3 colour, 4 colour + alpha
    /// or CMYK. A PNG with a tRNS chunk counts its transparency as an alpha channel.
    public var storedChannels: Int
    /// The EXIF orientation (1...8, TIFF tag 0x0112); 1 when absent or malformed.
    public var orientation: Int

    public init(format: ImageFormat, width: Int, height: Int, storedChannels: Int, orientation: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.storedChannels = storedChannels
        self.orientation = orientation
    }

    /// Orientations 5...8 turn the image by a quarter: width and height swap.
    public var swapsAxes: Bool { orientation >= 5 && orientation <= 8 }
    /// The size once the orientation is applied (what `decode` returns at full scale).
    public var orientedWidth: Int { swapsAxes ? height : width }
    public var orientedHeight: Int { swapsAxes ? width : height }
}

/// Decoded pixels: row-major, interleaved (HWC), 8 bits per sample, orientation applied.
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// 1 (luma) or 3 (RGB) from the decoder; the encoders also take 2 and 4 where the format can.
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }
}

/// How to decode. Every default matches Pillow where Pillow has the same knob.
public struct DecodeOptions: Sendable {
    /// Images with more pixels than this (stored width x height) are refused from the header,
    /// before any pixel buffer exists. Pillow's `Image.MAX_IMAGE_PIXELS` (Pillow only warns up
    /// to twice this and refuses above; we refuse above it).
    public var maxPixels: Int = 89_478_485
    /// 3: RGB. 1: luma as Pillow's "L" (`(R*19595 + G*38470 + B*7471 + 0x8000) >> 16`, the fixed-point
    /// form of R*299/1000 + G*587/1000 + B*114/1000); from a YCbCr JPEG, libjpeg's Y plane itself.
    public var channels: Int = 3
    /// JPEG only: decode downscaled in the DCT domain by the smallest TurboJPEG factor (1/8 ...
    /// 7/8) that keeps the oriented result at least this large in both dimensions (Pillow's
    /// `draft()`, with libjpeg-turbo's finer factors). nil: full size. Never upscales.
    public var minimumSize: (width: Int, height: Int)? = nil
    /// Apply the EXIF orientation as Pillow's `ImageOps.exif_transpose` does.
    public var applyOrientation: Bool = true
    /// JPEG only: refuse (as `corrupt`) a file that libjpeg decodes with a warning other than
    /// truncation (e.g. "extraneous bytes before marker"), which Pillow, and by default we, accept.
    public var rejectJPEGWarnings: Bool = false

    public init(maxPixels: Int = 89_478_485, channels: Int = 3, minimumSize: (width: Int, height: Int)? = nil,
                applyOrientation: Bool = true, rejectJPEGWarnings: Bool = false) {
        self.maxPixels = maxPixels
        self.channels = channels
        self.minimumSize = minimumSize
        self.applyOrientation = applyOrientation
        self.rejectJPEGWarnings = rejectJPEGWarnings
    }
}

/// Why a file could not be decoded. `reason` names the format, the library call or field, and
/// carries the library's own message where it gives one; the caller adds the file's path.
public struct ImageDecodeError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        /// Not a JPEG, PNG or WebP file (or empty).
        case unknownFormat
        /// Malformed data (bad marker, CRC mismatch, invalid header field, bad bitstream).
        case corrupt
        /// The file ends before the image does.
        case truncated
        /// Over `maxPixels`, or over a chunk/cache limit set against hostile input.
        case tooLarge
        /// Well-formed but not something we decode (animated WebP, lossless JPEG, bad options).
        case unsupported
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue) image: \(reason)" }
}
