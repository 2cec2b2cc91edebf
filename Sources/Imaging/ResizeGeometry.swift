// Where a resize reads from and writes to, for the ways a photo becomes a fixed-size record:
// stretch (whole image to the target size), centre crop (the largest centred region of the
// target's aspect, then resize), letterbox (whole image scaled to fit, centred, the rest
// filled), and torchvision's Resize(shorter) + CenterCrop(size) as one resize with a box.

/// How `ringtrain data prepare --resize MODE` maps a photo onto the record size. The raw
/// values are the command line's and the prepared manifest's names.
public enum ResizeMode: String, Sendable, CaseIterable, Codable {
    /// The largest centred region with the target's aspect ratio, resized (no padding, the
    /// long side loses its ends): torchvision's Resize(shorter side) + CenterCrop.
    case centerCrop = "shorter-then-center-crop"
    /// The whole image scaled to fit inside the target, centred; the margins take a fill value.
    case letterbox = "pad"
    /// The whole image to the target size, aspect ratio not kept.
    case stretch
}

/// One resize into a canvas: read `box` of the source, resize it to scaledWidth x scaledHeight
/// and write that at (offsetX, offsetY) of the outWidth x outHeight canvas. Pixels of the canvas
/// outside it (letterbox margins only) are the fill value.
public struct ResizeGeometry: Sendable, Equatable {
    public let box: ResampleBox
    public let scaledWidth: Int
    public let scaledHeight: Int
    public let offsetX: Int
    public let offsetY: Int
    public let outWidth: Int
    public let outHeight: Int

    /// True when the canvas has margins to fill.
    public var hasMargins: Bool { scaledWidth != outWidth || scaledHeight != outHeight }

    public init(width: Int, height: Int, outWidth: Int, outHeight: Int, mode: ResizeMode) throws {
        for (v, name) in [(width, "width"), (height, "height"), (outWidth, "output width"), (outHeight, "output height")] {
            try checkSide(v, name)
        }
        self.outWidth = outWidth
        self.outHeight = outHeight
        switch mode {
        case .stretch:
            box = .full(width: width, height: height)
            (scaledWidth, scaledHeight, offsetX, offsetY) = (outWidth, outHeight, 0, 0)
        case .centerCrop:
            box = centerCropBox(width: width, height: height, aspect: Double(outWidth) / Double(outHeight))
            (scaledWidth, scaledHeight, offsetX, offsetY) = (outWidth, outHeight, 0, 0)
        case .letterbox:
            // Fit: the limiting side fills the canvas exactly; the other is rounded, at least 1.
            let fx = Double(outWidth) / Double(width), fy = Double(outHeight) / Double(height)
            let sw = fx <= fy ? outWidth : min(outWidth, max(1, Int((Double(width) * fy).rounded())))
            let sh = fx <= fy ? min(outHeight, max(1, Int((Double(height) * fx).rounded()))) : outHeight
            box = .full(width: width, height: height)
            (scaledWidth, scaledHeight) = (sw, sh)
            (offsetX, offsetY) = ((outWidth - sw) / 2, (outHeight - sh) / 2)
        }
    }
}

/// The largest box of aspect ratio `aspect` (width / height) centred in a width x height
/// image. Whole-pixel edges (like torchvision's CenterCrop, offsets rounded the same way), so
/// the resize that follows reads exactly the cropped pixels.
public func centerCropBox(width: Int, height: Int, aspect: Double) -> ResampleBox {
    var cropWidth = width, cropHeight = height
    if Double(width) / Double(height) > aspect {
        cropWidth = max(1, min(width, Int((Double(height) * aspect).rounded())))
    } else {
        cropHeight = max(1, min(height, Int((Double(width) / aspect).rounded())))
    }
    // torchvision CenterCrop: top = int(round((H - h) / 2.0)) (Python rounds half to even).
    let left = Int((Double(width - cropWidth) / 2).rounded(.toNearestOrEven))
    let top = Int((Double(height - cropHeight) / 2).rounded(.toNearestOrEven))
    return ResampleBox(x0: Double(left), y0: Double(top), x1: Double(left + cropWidth), y1: Double(top + cropHeight))
}

/// torchvision `Resize(shorter)` followed by `CenterCrop((cropHeight, cropWidth))` (the ImageNet
/// evaluation transform, 256 then 224) as the source box of ONE resize to cropWidth x cropHeight:
/// the same output pixel centres and the same filter scale as resizing to the intermediate size
/// and cropping, without the intermediate image (and without its rounding to UInt8). Throws when
/// the crop is larger than the resized image.
public func shorterSideCenterCropBox(width: Int, height: Int, shorter: Int, cropWidth: Int, cropHeight: Int) throws -> ResampleBox {
    for (v, name) in [(width, "width"), (height, "height"), (shorter, "shorter side"), (cropWidth, "crop width"), (cropHeight, "crop height")] {
        try checkSide(v, name)
    }
    // torchvision _compute_resized_output_size: the long side is int(shorter * long / short).
    let (resizedWidth, resizedHeight) = width <= height
        ? (shorter, Int(Double(shorter) * Double(height) / Double(width)))
        : (Int(Double(shorter) * Double(width) / Double(height)), shorter)
    guard cropWidth <= resizedWidth && cropHeight <= resizedHeight else {
        throw ImagingError.invalidArgument("crop \(cropWidth)x\(cropHeight) exceeds the resized \(resizedWidth)x\(resizedHeight)")
    }
    let left = Int((Double(resizedWidth - cropWidth) / 2).rounded(.toNearestOrEven))
    let top = Int((Double(resizedHeight - cropHeight) / 2).rounded(.toNearestOrEven))
    let sx = Double(width) / Double(resizedWidth), sy = Double(height) / Double(resizedHeight)
    return ResampleBox(x0: Double(left) * sx, y0: Double(top) * sy,
                       x1: min(Double(width), Double(left + cropWidth) * sx),
                       y1: min(Double(height), Double(top + cropHeight) * sy))
}

/// Resizes an interleaved image into an interleaved canvas by `geometry`, filling the margins
/// (letterbox) with `fill` (one value per channel, or one for all). `plan` nil: built here; pass
/// one built for (source size, geometry.box, scaled size, filter) to reuse it.
public func resizeIntoCanvas(source: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int, rowStride: Int? = nil,
                             geometry: ResizeGeometry, filter: ResampleFilter, fill: [UInt8] = [0], plan: ResamplePlan? = nil,
                             output: UnsafeMutablePointer<UInt8>) throws {
    guard fill.count == 1 || fill.count == channels else {
        throw ImagingError.invalidArgument("fill has \(fill.count) values for \(channels) channels")
    }
    let plan = try plan ?? ResamplePlan(sourceWidth: width, sourceHeight: height, box: geometry.box,
                                        outWidth: geometry.scaledWidth, outHeight: geometry.scaledHeight, filter: filter)
    guard plan.sourceWidth == width && plan.sourceHeight == height && plan.box == geometry.box
            && plan.outWidth == geometry.scaledWidth && plan.outHeight == geometry.scaledHeight else {
        throw ImagingError.invalidArgument("the plan is for \(plan.sourceWidth)x\(plan.sourceHeight) -> \(plan.outWidth)x\(plan.outHeight), not this geometry")
    }
    let canvasRow = geometry.outWidth * channels
    if geometry.hasMargins {
        for i in 0..<geometry.outWidth * geometry.outHeight {
            for c in 0..<channels { output[i &* channels &+ c] = fill[fill.count == 1 ? 0 : c] }
        }
    }
    try plan.apply(source: source, channels: channels, rowStride: rowStride ?? width * channels,
                   output: output + (geometry.offsetY * canvasRow + geometry.offsetX * channels), outputRowStride: canvasRow)
}
