// One-shot resizes: a plan built and applied. For many images of one size, build the
// ResamplePlan once and call apply / applyPlanar.

/// Interleaved HWC UInt8 -> interleaved HWC UInt8 (contiguous, outWidth * channels bytes a row),
/// channels 1...4, with Pillow's algorithm and Pillow's exact bytes (see ResamplePlan).
public func resizeInterleaved(source: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                              rowStride: Int? = nil, box: ResampleBox? = nil,
                              output: UnsafeMutablePointer<UInt8>, outWidth: Int, outHeight: Int,
                              filter: ResampleFilter) throws {
    let plan = try ResamplePlan(sourceWidth: width, sourceHeight: height, box: box,
                                outWidth: outWidth, outHeight: outHeight, filter: filter)
    try plan.apply(source: source, channels: channels, rowStride: rowStride ?? width * channels, output: output)
}

/// Planar CHW UInt8 (`channels` planes of width x height, contiguous) -> planar Float
/// (channels x outHeight x outWidth) in 0...255 units, unrounded: the training-time resize.
public func resizePlanar(source: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                         box: ResampleBox? = nil, output: UnsafeMutablePointer<Float>,
                         outWidth: Int, outHeight: Int, filter: ResampleFilter) throws {
    let plan = try ResamplePlan(sourceWidth: width, sourceHeight: height, box: box,
                                outWidth: outWidth, outHeight: outHeight, filter: filter)
    try plan.applyPlanar(source: source, channels: channels, rowStride: width, output: output)
}
