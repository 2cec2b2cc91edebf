/// Why an imaging call refused its arguments. Every case names the argument and the value, so a
/// bad record or a hostile file fails with a message instead of a trap.
public enum ImagingError: Error, Equatable, CustomStringConvertible {
    /// A size, count or stride outside what the call accepts.
    case invalidArgument(String)
    /// A source box outside the image, inverted, or not finite.
    case invalidBox(String)

    public var description: String {
        switch self {
        case .invalidArgument(let s): return "imaging: \(s)"
        case .invalidBox(let s): return "imaging: resample box \(s)"
        }
    }
}

/// Largest width or height any imaging call accepts: 2^20 pixels a side keeps every product of
/// sizes, strides and channel counts far from Int overflow and from Int32 coefficient offsets.
public let imagingMaxSide = 1 << 20

@inline(__always)
func checkSide(_ value: Int, _ name: String) throws {
    guard value >= 1 && value <= imagingMaxSide else {
        throw ImagingError.invalidArgument("\(name) \(value) is not in 1...\(imagingMaxSide)")
    }
}

@inline(__always)
func checkChannels(_ value: Int, _ allowed: ClosedRange<Int> = 1...4) throws {
    guard allowed.contains(value) else {
        throw ImagingError.invalidArgument("channels \(value) is not in \(allowed)")
    }
}

/// A planar (CHW) image's geometry, validated once so the operations need not check it again.
public struct PlanarShape: Sendable, Equatable, CustomStringConvertible {
    public let channels: Int
    public let height: Int
    public let width: Int

    public init(channels: Int, height: Int, width: Int) throws {
        try checkChannels(channels)
        try checkSide(height, "height")
        try checkSide(width, "width")
        guard height.multipliedReportingOverflow(by: width).partialValue <= Int(Int32.max) else {
            throw ImagingError.invalidArgument("plane \(width)x\(height) has more than 2^31 pixels")
        }
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// Pixels in one plane.
    public var planeCount: Int { height &* width }
    /// Values in the whole image.
    public var count: Int { channels &* height &* width }
    public var description: String { "\(channels)x\(height)x\(width)" }
}
