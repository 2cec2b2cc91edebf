// The resampling filters of Pillow's libImaging/Resample.c, with the same supports and the same
// floating-point expressions (operation for operation, so the coefficients match Pillow's bits).

/// Interpolation used by the resize functions. The raw values are the command line's names.
public enum ResampleFilter: String, Sendable, CaseIterable, Codable {
    /// Pillow NEAREST: the source pixel under each output pixel's centre, no filtering.
    case nearest
    /// Pillow BILINEAR: triangle filter, support 1 (antialiased when shrinking).
    case bilinear
    /// Pillow BICUBIC: Keys cubic with a = -0.5, support 2 (antialiased when shrinking).
    case bicubic
    /// Pillow BOX, support 0.5: every output pixel is the unweighted mean of the source pixels
    /// whose centres fall inside its footprint (area averaging; see docs/datasets.md for how it
    /// differs from OpenCV's INTER_AREA at non-integer ratios).
    case area

    /// Half-width of the filter at scale 1, in source pixels. 0 for `nearest`.
    public var support: Double {
        switch self {
        case .nearest: return 0
        case .bilinear: return 1
        case .bicubic: return 2
        case .area: return 0.5
        }
    }

    /// The filter's kernel at distance `x` (source pixels, at scale 1).
    @inline(__always)
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest, .area:
            // Pillow's box_filter: the half-open interval (-0.5, 0.5].
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let t = x < 0 ? -x : x
            return t < 1 ? 1 - t : 0
        case .bicubic:
            let a = -0.5
            let t = x < 0 ? -x : x
            if t < 1 { return ((a + 2.0) * t - (a + 3.0)) * t * t + 1 }
            if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
            return 0
        }
    }
}

/// A source rectangle in continuous pixel coordinates (x0, y0) ..< (x1, y1): pixel (i, j) covers
/// [i, i + 1) x [j, j + 1). Like Pillow's `resize(size, box=...)`, resampling reads only this
/// region (filters still reach just outside it, up to the image edge), which is what
/// crop-then-resize and RandomResizedCrop need without a copy. Coordinates are rounded to
/// 32-bit floats, as Pillow stores them.
public struct ResampleBox: Sendable, Equatable, CustomStringConvertible {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    /// The whole of a width x height image.
    public static func full(width: Int, height: Int) -> ResampleBox {
        ResampleBox(x0: 0, y0: 0, x1: Double(width), y1: Double(height))
    }

    public var width: Double { x1 - x0 }
    public var height: Double { y1 - y0 }
    public var description: String { "(\(x0), \(y0), \(x1), \(y1))" }

    /// Pillow's checks: inside the image, not inverted (an empty box is allowed, as in Pillow).
    func validate(width w: Int, height h: Int) throws {
        let all = [x0, y0, x1, y1]
        guard all.allSatisfy({ $0.isFinite }) else { throw ImagingError.invalidBox("\(self) is not finite") }
        guard x0 >= 0 && y0 >= 0 else { throw ImagingError.invalidBox("\(self) has a negative offset") }
        guard Float(x1) <= Float(w) && Float(y1) <= Float(h) else {
            throw ImagingError.invalidBox("\(self) exceeds the \(w)x\(h) image")
        }
        guard x1 >= x0 && y1 >= y0 else { throw ImagingError.invalidBox("\(self) is inverted") }
    }
}
