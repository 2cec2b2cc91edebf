// A resize fixed in geometry: (source size, box, output size, filter) -> which path runs and the
// coefficient tables of both axes. `ringtrain data prepare` resizes every photo of a folder to
// one size and most photos share a few source sizes, so a plan is built once per source size and
// reused; it is immutable and Sendable, so threads share it.
//
// Paths, as Pillow's `Image.resize` chooses them (so results match Pillow's bits):
// - crop: the box has integer offsets and exactly the output's size -> a copy of that region
//   (this includes "same size, no box": the input comes back unchanged);
// - nearest: Pillow's ImagingScaleAffine (source index = floor of the accumulated centre);
// - separable: horizontal pass first (over the source rows the vertical taps need), rounded to
//   UInt8 as Pillow's intermediate image is, then the vertical pass. An axis whose box is its
//   full extent at the same size is skipped, as in Pillow.
//
// Not Pillow: 4-channel images are resampled channel by channel (Pillow premultiplies RGBA
// by alpha first; our 4-channel input is treated like Pillow's "RGBX"/"CMYK"), and Pillow's
// special case for images 100 times taller than wide (two vertical steps) is not copied.

public struct ResamplePlan: Sendable {
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let outWidth: Int
    public let outHeight: Int
    public let box: ResampleBox
    public let filter: ResampleFilter

    enum Path: Sendable {
        case crop(x: Int, y: Int)
        case nearest(columns: [Int32], rows: [Int32])
        case separable(horizontal: ResampleAxis?, vertical: ResampleAxis?, rows: Range<Int>)
    }
    let path: Path

    /// `box` nil: the whole image. Throws for sizes outside 1...imagingMaxSide or a box outside
    /// the image (Pillow's rules; the message names the value).
    public init(sourceWidth: Int, sourceHeight: Int, box: ResampleBox? = nil,
                outWidth: Int, outHeight: Int, filter: ResampleFilter) throws {
        try checkSide(sourceWidth, "source width")
        try checkSide(sourceHeight, "source height")
        try checkSide(outWidth, "output width")
        try checkSide(outHeight, "output height")
        let box = box ?? .full(width: sourceWidth, height: sourceHeight)
        try box.validate(width: sourceWidth, height: sourceHeight)
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.outWidth = outWidth
        self.outHeight = outHeight
        self.box = box
        self.filter = filter
        self.path = ResamplePlan.choosePath(sourceWidth, sourceHeight, box, outWidth, outHeight, filter)
    }

    private static func choosePath(_ w: Int, _ h: Int, _ box: ResampleBox, _ ow: Int, _ oh: Int,
                                   _ filter: ResampleFilter) -> Path {
        // Pillow keeps the box in 32-bit floats and tests it in float arithmetic.
        let x0 = Float(box.x0), y0 = Float(box.y0), x1 = Float(box.x1), y1 = Float(box.y1)
        if x0 == x0.rounded(.towardZero) && x1 - x0 == Float(ow) && y0 == y0.rounded(.towardZero) && y1 - y0 == Float(oh) {
            return .crop(x: Int(x0), y: Int(y0))
        }
        if filter == .nearest {
            return .nearest(columns: nearestIndices(Double(x0), Double(x1), ow, w),
                            rows: nearestIndices(Double(y0), Double(y1), oh, h))
        }
        let vertical = ResampleAxis(inSize: h, in0: y0, in1: y1, outSize: oh, filter: filter)
        let needVertical = !ResampleAxis.isIdentity(inSize: h, in0: y0, in1: y1, outSize: oh)
        let needHorizontal = !ResampleAxis.isIdentity(inSize: w, in0: x0, in1: x1, outSize: ow)
        let horizontal = needHorizontal ? ResampleAxis(inSize: w, in0: x0, in1: x1, outSize: ow, filter: filter) : nil
        return .separable(horizontal: horizontal, vertical: needVertical ? vertical : nil,
                          rows: needVertical ? vertical.first..<vertical.end : 0..<h)
    }

    /// Pillow's ImagingScaleAffine: centre = in0 + scale / 2, then += scale per pixel (the same
    /// accumulated Double), index = trunc(centre); -1 (output 0) outside the image.
    static func nearestIndices(_ in0: Double, _ in1: Double, _ outSize: Int, _ inSize: Int) -> [Int32] {
        let scale = Double(Float(in1) - Float(in0)) / Double(outSize)
        var centre = in0 + scale * 0.5
        var indices = [Int32](repeating: -1, count: outSize)
        for i in 0..<outSize {
            let index = centre < 0 ? -1 : Int(centre)
            if index >= 0 && index < inSize { indices[i] = Int32(index) }
            centre += scale
        }
        return indices
    }

    /// Checks a caller's channel count and row stride against the plan's source width.
    func checkLayout(channels: Int, rowStride: Int, pixelStride: Int) throws {
        try checkChannels(channels)
        guard rowStride >= sourceWidth * pixelStride && rowStride <= imagingMaxSide * 4 * 16 else {
            throw ImagingError.invalidArgument("row stride \(rowStride) is below width \(sourceWidth) x \(pixelStride) bytes")
        }
    }
}
