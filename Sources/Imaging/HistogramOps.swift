// Per-channel histogram operations, torchvision.transforms.v2.functional autocontrast and
// equalize on float images.

/// Stretches each channel to [0, 1]: (x - min) / (max - min), clamped; a constant channel is
/// left as it is (torchvision sets min 0 and scale 1 there).
public func autocontrast(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape) {
    let n = shape.planeCount
    for c in 0..<shape.channels {
        let p = pixels + c &* n
        var lo = p[0], hi = p[0]
        for i in 1..<n { lo = min(lo, p[i]); hi = max(hi, p[i]) }
        guard hi != lo else { continue }
        // torchvision divides by (max - min) / bound with bound 1 for floats.
        let scale = hi - lo
        for i in 0..<n { p[i] = clampUnit((p[i] - lo) / scale) }
    }
}

/// The equalisation lookup table of one channel's 256-bin histogram, Pillow's scheme as
/// torchvision implements it: step = (pixels - count of the largest value present) / 255
/// (floor); lut[0] = 0, lut[k] = min((cumulative[k - 1] + step / 2) / step, 255). nil when
/// step is 0 (at most one value occupies all but 255 pixels): the channel stays as it is.
public func equalizationTable(histogram: [Int]) -> [UInt8]? {
    precondition(histogram.count == 256, "a 256-bin histogram")
    let total = histogram.reduce(0, +)
    guard let last = histogram.lastIndex(where: { $0 != 0 }) else { return nil }
    let step = (total - histogram[last]) / 255
    guard step != 0 else { return nil }
    var lut = [UInt8](repeating: 0, count: 256)
    var cumulative = 0
    for k in 1..<256 {
        cumulative += histogram[k - 1]
        lut[k] = UInt8(min((cumulative + step / 2) / step, 255))
    }
    return lut
}

/// Histogram equalisation per channel on the uint8 values (trunc(x * 255.999)), back as v / 255.
/// Like torchvision, a channel that cannot be equalised still comes back quantised to uint8.
public func equalize(_ pixels: UnsafeMutablePointer<Float>, shape: PlanarShape) {
    let n = shape.planeCount
    var identity = [UInt8](repeating: 0, count: 256)
    for k in 0..<256 { identity[k] = UInt8(k) }
    for c in 0..<shape.channels {
        let p = pixels + c &* n
        var histogram = [Int](repeating: 0, count: 256)
        for i in 0..<n { histogram[toByte(p[i])] += 1 }
        let lut = equalizationTable(histogram: histogram) ?? identity
        for i in 0..<n { p[i] = Float(lut[toByte(p[i])]) * inverse255 }
    }
}
