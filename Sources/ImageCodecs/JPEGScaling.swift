// Choosing the DCT scaling factor for DecodeOptions.minimumSize (Pillow's draft()).
import CTurboJPEG

/// A TurboJPEG scaling factor num/denom.
public struct JPEGScale: Equatable, Sendable, CustomStringConvertible {
    public var num: Int
    public var denom: Int

    public static let full = JPEGScale(num: 1, denom: 1)

    /// TJSCALED: the scaled size libjpeg produces, ceil(dimension * num / denom).
    public func scaled(_ dimension: Int) -> Int { (dimension * num + denom - 1) / denom }

    public var description: String { "\(num)/\(denom)" }

    /// The factors used: 1, 1/2, 1/4, 1/8 (Pillow's draft() set), those libjpeg-turbo has SIMD
    /// inverse DCTs for. Its other factors (7/8, 3/4, 5/8, 3/8) run scalar code and measured
    /// slower than a full-size decode (500x375 q90: 5/8 at 719 images/s against 936 at full
    /// size on one Xeon core), so a decode for a 224x224 record of that photo stays full size.
    /// Each is checked against the library's own list, largest first.
    public static let downscaleFactors: [JPEGScale] = {
        var n: Int32 = 0
        guard let list = tjGetScalingFactors(&n), n > 0 else { return [.full] }
        let offered = Set((0..<Int(n)).map { "\(list[$0].num)/\(list[$0].denom)" })
        return [JPEGScale(num: 1, denom: 1), JPEGScale(num: 1, denom: 2), JPEGScale(num: 1, denom: 4),
                JPEGScale(num: 1, denom: 8)].filter { offered.contains($0.description) }
    }()

    /// The smallest factor whose result, seen in the oriented frame (`swapsAxes`: width and
    /// height trade places), is at least `minimum` in both dimensions; full size when even that
    /// is not reached. A minimum below 1 counts as 1. E.g. 500x375 with 64x64 -> 1/4 (125x94),
    /// with 224x224 -> full size.
    public static func forMinimum(width: Int, height: Int, swapsAxes: Bool,
                                  minimum: (width: Int, height: Int)) -> JPEGScale {
        let (wantW, wantH) = swapsAxes ? (minimum.height, minimum.width) : (minimum.width, minimum.height)
        var best = JPEGScale.full
        for f in downscaleFactors where f.scaled(width) >= wantW && f.scaled(height) >= wantH {
            best = f  // factors come largest first: the last that fits is the smallest
        }
        return best
    }
}
