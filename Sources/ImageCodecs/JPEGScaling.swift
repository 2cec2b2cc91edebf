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

    /// libjpeg-turbo's factors at or below 1 (1, 7/8, 3/4, 5/8, 1/2, 3/8, 1/4, 1/8), largest
    /// first: asked once, as the library defines them.
    public static let downscaleFactors: [JPEGScale] = {
        var n: Int32 = 0
        guard let list = tjGetScalingFactors(&n), n > 0 else { return [.full] }
        let all = (0..<Int(n)).map { JPEGScale(num: Int(list[$0].num), denom: Int(list[$0].denom)) }
        let down = all.filter { $0.num > 0 && $0.denom > 0 && $0.num <= $0.denom }
        return down.sorted { $0.num * $1.denom > $1.num * $0.denom }
    }()

    /// The smallest factor whose result, seen in the oriented frame (`swapsAxes`: width and
    /// height trade places), is at least `minimum` in both dimensions; full size when even that
    /// is not reached. A minimum below 1 counts as 1. E.g. 500x375 with 64x64 -> 1/4 (125x94),
    /// with 224x224 -> 5/8 (313x235).
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
