// Pixel layout and channel-count conversions: interleaved HWC (what decoders produce) <-> planar
// CHW (what records and tensors hold), RGB -> gray with Pillow's exact "L" rounding, gray -> RGB,
// and the horizontal flip of a planar image.

/// Interleaved HWC (rows `rowStride` bytes apart) -> planar CHW, contiguous.
public func interleavedToPlanar(source: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                                rowStride: Int? = nil, output: UnsafeMutablePointer<UInt8>) throws {
    let stride = try checkInterleaved(width, height, channels, rowStride)
    let plane = width &* height
    for y in 0..<height {
        let row = source + y &* stride
        for c in 0..<channels {
            let out = output + (c &* plane &+ y &* width)
            for x in 0..<width { out[x] = row[x &* channels &+ c] }
        }
    }
}

/// Planar CHW, contiguous -> interleaved HWC, contiguous.
public func planarToInterleaved(source: UnsafePointer<UInt8>, width: Int, height: Int, channels: Int,
                                output: UnsafeMutablePointer<UInt8>) throws {
    _ = try checkInterleaved(width, height, channels, nil)
    let plane = width &* height
    for c in 0..<channels {
        let src = source + c &* plane
        for i in 0..<plane { output[i &* channels &+ c] = src[i] }
    }
}

/// Interleaved RGB -> one gray plane with Pillow's "L" conversion (Convert.c, rgb2l):
/// L = (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16, i.e. ITU-R 601-2 luma
/// (0.299, 0.587, 0.114) in 16-bit fixed point, rounded half up. Pillow's documented formula
/// L = R * 299/1000 + G * 587/1000 + B * 114/1000 is this up to that rounding.
public func rgbToGray(source: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int? = nil,
                      output: UnsafeMutablePointer<UInt8>) throws {
    let stride = try checkInterleaved(width, height, 3, rowStride)
    for y in 0..<height {
        let row = source + y &* stride, out = output + y &* width
        for x in 0..<width {
            let p = row + x &* 3
            out[x] = pillowLuma(p[0], p[1], p[2])
        }
    }
}

@inline(__always)
func pillowLuma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt32(r) &* 19595 &+ UInt32(g) &* 38470 &+ UInt32(b) &* 7471 &+ 0x8000) &>> 16)
}

/// One gray plane -> interleaved RGB with the value in all three channels (Pillow "L" -> "RGB").
public func grayToRGB(source: UnsafePointer<UInt8>, width: Int, height: Int, output: UnsafeMutablePointer<UInt8>) throws {
    _ = try checkInterleaved(width, height, 1, nil)
    for i in 0..<width &* height {
        let v = source[i]
        output[i &* 3] = v; output[i &* 3 &+ 1] = v; output[i &* 3 &+ 2] = v
    }
}

/// Mirrors every plane of a planar image left-right, in place.
public func flipHorizontal<T>(_ pixels: UnsafeMutablePointer<T>, shape: PlanarShape) {
    for row in 0..<shape.channels &* shape.height {
        let p = pixels + row &* shape.width
        var i = 0, j = shape.width &- 1
        while i < j { p.swapAt(i, j); i &+= 1; j &-= 1 }
    }
}

private extension UnsafeMutablePointer {
    @inline(__always) func swapAt(_ i: Int, _ j: Int) { let t = self[i]; self[i] = self[j]; self[j] = t }
}

/// Validates an interleaved image's geometry; returns its row stride (default: packed rows).
func checkInterleaved(_ width: Int, _ height: Int, _ channels: Int, _ rowStride: Int?) throws -> Int {
    try checkSide(width, "width")
    try checkSide(height, "height")
    try checkChannels(channels)
    let stride = rowStride ?? width &* channels
    guard stride >= width &* channels && stride <= imagingMaxSide &* 16 else {
        throw ImagingError.invalidArgument("row stride \(stride) is below width \(width) x \(channels) channels")
    }
    return stride
}
