// Colour operations on planar Float CHW images with values in [0, 1], in place, with the
// semantics of torchvision.transforms.v2.functional on float tensors (_color.py): the same
// formulas, the same clamps, the same grayscale weights (0.2989, 0.587, 0.114). Operations that
// need colour (saturation, hue, grayscale) leave 1-channel images unchanged, as torchvision does,
// and refuse 2- or 4-channel images.
//
// Each identity parameter (factor 1, shift 0, ...) returns the input bits unchanged.

/// float -> uint8 as torchvision's to_dtype(uint8, scale=True): trunc(x * 255.999), so that
/// k / 255 maps back to k despite Float rounding.
@inline(__always)
func toByte(_ x: Float) -> Int {
    let v = x * 255.999
    return v <= 0 ? 0 : (v >= 255 ? 255 : Int(v))
}

/// uint8 -> float as torchvision: k * Float(1 / 255) (a multiply, not a divide).
let inverse255: Float = 1.0 / 255.0

@inline(__always)
func clampUnit(_ x: Float) -> Float { min(max(x, 0), 1) }

/// x * factor, clamped to [0, 1] (blend with black).
public func adjustBrightness(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, factor: Float) {
    guard factor != 1 else { return }
    for i in 0..<shape.count { pixels[i] = clampUnit(pixels[i] * factor) }
}

/// 0.2989 R + 0.587 G + 0.114 B at every pixel of a 3-channel image into `gray` (one plane).
func grayscalePlane(_ pixels: UnsafePointer<Float>, shape: PlanarShape, into gray: UnsafeMutablePointer<Float>) {
    let n = shape.planeCount
    for i in 0..<n {
        gray[i] = pixels[i] * 0.2989 + pixels[n &+ i] * 0.587 + pixels[2 &* n &+ i] * 0.114
    }
}

private func requireColour(_ shape: PlanarShape, _ op: String) throws {
    guard shape.channels == 1 || shape.channels == 3 else {
        throw ImagingError.invalidArgument("\(op) needs 1 or 3 channels, not \(shape.channels)")
    }
}

/// Blend with the grayscale image: x * factor + gray * (1 - factor), clamped. No-op for 1 channel.
public func adjustSaturation(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, factor: Float) throws {
    try requireColour(shape, "saturation")
    guard shape.channels == 3 && factor != 1 else { return }
    let n = shape.planeCount
    let gray = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { gray.deallocate() }
    grayscalePlane(pixels, shape: shape, into: gray)
    for c in 0..<3 {
        let p = pixels + c &* n
        for i in 0..<n { p[i] = clampUnit(p[i] * factor + gray[i] * (1 - factor)) }
    }
}

/// Blend with the mean of the grayscale image (of the image itself for 1 channel), clamped.
public func adjustContrast(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, factor: Float) throws {
    try requireColour(shape, "contrast")
    guard factor != 1 else { return }
    let n = shape.planeCount
    var sum = 0.0
    if shape.channels == 3 {
        let gray = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { gray.deallocate() }
        grayscalePlane(pixels, shape: shape, into: gray)
        for i in 0..<n { sum += Double(gray[i]) }
    } else {
        for i in 0..<n { sum += Double(pixels[i]) }
    }
    let mean = Float(sum / Double(n))
    let blend = mean * (1 - factor)
    for i in 0..<shape.count { pixels[i] = clampUnit(pixels[i] * factor + blend) }
}

/// torchvision rgb_to_grayscale(num_output_channels=3): every channel becomes the gray value.
/// No-op for 1 channel.
public func rgbToGrayscale(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape) throws {
    try requireColour(shape, "grayscale")
    guard shape.channels == 3 else { return }
    let n = shape.planeCount
    for i in 0..<n {
        let g = pixels[i] * 0.2989 + pixels[n &+ i] * 0.587 + pixels[2 &* n &+ i] * 0.114
        pixels[i] = g; pixels[n &+ i] = g; pixels[2 &* n &+ i] = g
    }
}

/// Blend with the image smoothed by [1 1 1; 1 5 1; 1 1 1] / 13: x + (1 - factor) * (blur - x)
/// on interior pixels; the one-pixel border is unchanged (torchvision's conv has no padding).
/// Images of width or height <= 2 are unchanged.
public func adjustSharpness(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, factor: Float) {
    let w = shape.width, h = shape.height
    guard factor != 1 && w > 2 && h > 2 else { return }
    let a: Float = 1.0 / 13.0, b: Float = 5.0 / 13.0, alpha = 1 - factor
    // The blur reads the original rows: keep the previous original row and the current one.
    let saved = UnsafeMutablePointer<Float>.allocate(capacity: 2 &* w)
    defer { saved.deallocate() }
    for c in 0..<shape.channels {
        let p = pixels + c &* shape.planeCount
        var above = saved, current = saved + w
        above.update(from: p, count: w)
        for y in 1..<(h &- 1) {
            current.update(from: p + y &* w, count: w)
            let below = p + (y &+ 1) &* w
            for x in 1..<(w &- 1) {
                let ring = above[x &- 1] + above[x] + above[x &+ 1] + current[x &- 1] + current[x &+ 1]
                    + below[x &- 1] + below[x] + below[x &+ 1]
                let blur = ring * a + current[x] * b
                let v = current[x]
                p[y &* w &+ x] = clampUnit(v + alpha * (blur - v))
            }
            swap(&above, &current)
        }
    }
}

/// Keeps the top `bits` bits of each value as a uint8 (torchvision's posterize on uint8 images:
/// v & mask, with v = trunc(x * 255.999)), back as v / 255. bits 8: unchanged.
public func posterize(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, bits: Int) throws {
    guard (0...8).contains(bits) else { throw ImagingError.invalidArgument("posterize bits \(bits) is not in 0...8") }
    guard bits < 8 else { return }
    let mask = (0xFF << (8 - bits)) & 0xFF
    for i in 0..<shape.count { pixels[i] = Float(toByte(pixels[i]) & mask) * inverse255 }
}

/// 1 - x where x >= threshold.
public func solarize(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, threshold: Float) {
    for i in 0..<shape.count where pixels[i] >= threshold { pixels[i] = 1 - pixels[i] }
}

/// 1 - x.
public func invert(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape) {
    for i in 0..<shape.count { pixels[i] = 1 - pixels[i] }
}

/// Sets the rectangle x ..< x + width, y ..< y + height of every channel to `value` (one value,
/// or one per channel), clipped to the image: torchvision's erase (RandomErasing's operation),
/// typically on normalised values.
public func erase(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape, x: Int, y: Int, width: Int, height: Int,
                  value: [Float]) throws {
    guard value.count == 1 || value.count == shape.channels else {
        throw ImagingError.invalidArgument("erase value has \(value.count) entries for \(shape.channels) channels")
    }
    guard width >= 0 && height >= 0 else { throw ImagingError.invalidArgument("erase size \(width)x\(height) is negative") }
    let x0 = min(max(x, 0), shape.width), y0 = min(max(y, 0), shape.height)
    let x1 = min(max(x.addingReportingOverflow(width).partialValue, x0), shape.width)
    let y1 = min(max(y.addingReportingOverflow(height).partialValue, y0), shape.height)
    for c in 0..<shape.channels {
        let v = value[value.count == 1 ? 0 : c]
        for row in y0..<y1 {
            (pixels + (c &* shape.planeCount &+ row &* shape.width &+ x0)).update(repeating: v, count: x1 &- x0)
        }
    }
}
