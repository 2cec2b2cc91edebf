/// `evaluate --tta`: the views of a batch a prediction is averaged over.
///
/// Views are made from the normalised batch: a horizontal mirror, and translations by the
/// crop padding the model was trained with (the four corner crops of the padded image, which
/// with the unshifted image are the classic five-crop test), filled with a black pixel's
/// normalised value as the training crops are.
public enum TestTimeView: Equatable, Sendable {
    case identity
    case flip
    /// The image moved by (dx, dy) pixels: output (x, y) reads input (x - dx, y - dy).
    case shift(dx: Int, dy: Int)
    case flipShift(dx: Int, dy: Int)

    /// The views of a `--tta` choice: `flip` (2 views), `crops` (5), both (10). The first is
    /// always the identity.
    public static func views(flip: Bool, cropPadding: Int) -> [TestTimeView] {
        let p = cropPadding
        let shifts = p > 0 ? [(-p, -p), (p, -p), (-p, p), (p, p)] : []
        var views: [TestTimeView] = [.identity] + shifts.map { .shift(dx: $0.0, dy: $0.1) }
        if flip { views += [.flip] + shifts.map { .flipShift(dx: $0.0, dy: $0.1) } }
        return views
    }

    /// Writes the view of `count` CHW images from `source` to `output` (not overlapping).
    /// `fill[c]` is the value of a pixel outside the image in channel c.
    public func apply(source: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int,
                      channels: Int, height: Int, width: Int, fill: [Float]) {
        let (dx, dy, mirror): (Int, Int, Bool)
        switch self {
        case .identity: (dx, dy, mirror) = (0, 0, false)
        case .flip: (dx, dy, mirror) = (0, 0, true)
        case .shift(let x, let y): (dx, dy, mirror) = (x, y, false)
        case .flipShift(let x, let y): (dx, dy, mirror) = (x, y, true)
        }
        let plane = height * width
        for i in 0..<count {
            for c in 0..<channels {
                let src = source + (i * channels + c) * plane
                let dst = output + (i * channels + c) * plane
                for y in 0..<height {
                    let sy = y - dy
                    for x in 0..<width {
                        // Shift first, then mirror the shifted image.
                        let ox = mirror ? width - 1 - x : x
                        let sx = ox - dx
                        dst[y * width + x] = sy >= 0 && sy < height && sx >= 0 && sx < width ? src[sy * width + sx] : fill[c]
                    }
                }
            }
        }
    }
}
