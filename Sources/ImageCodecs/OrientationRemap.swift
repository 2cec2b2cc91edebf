// Applying the EXIF orientation and the pixel conversion in one pass over the decoded pixels.
// Pillow's exif_transpose maps orientation 2..8 to FLIP_LEFT_RIGHT, ROTATE_180, FLIP_TOP_BOTTOM,
// TRANSPOSE, ROTATE_270 (a quarter turn clockwise), TRANSVERSE and ROTATE_90 (counter-clockwise).

/// Where output pixel (x, y) comes from in a W x H source: pixel `base + x*stepX + y*stepY`
/// (in pixels). Every one of the eight orientations is such an affine walk.
struct PixelWalk: Equatable {
    var base: Int
    var stepX: Int
    var stepY: Int
    var outWidth: Int
    var outHeight: Int

    /// The walk for an orientation (anything outside 2...8 is the identity, as in Pillow).
    init(orientation: Int, width w: Int, height h: Int) {
        switch orientation {
        case 2: (base, stepX, stepY) = (w - 1, -1, w)                       // out(x,y) = in(W-1-x, y)
        case 3: (base, stepX, stepY) = ((h - 1) * w + w - 1, -1, -w)        // in(W-1-x, H-1-y)
        case 4: (base, stepX, stepY) = ((h - 1) * w, 1, -w)                 // in(x, H-1-y)
        case 5: (base, stepX, stepY) = (0, w, 1)                            // in(y, x)
        case 6: (base, stepX, stepY) = ((h - 1) * w, -w, 1)                 // in(y, H-1-x)
        case 7: (base, stepX, stepY) = ((h - 1) * w + w - 1, -w, -1)        // in(W-1-y, H-1-x)
        case 8: (base, stepX, stepY) = (w - 1, w, -1)                       // in(W-1-y, x)
        default: (base, stepX, stepY) = (0, 1, w)
        }
        let swaps = (5...8).contains(orientation)
        outWidth = swaps ? h : w
        outHeight = swaps ? w : h
    }

    var isIdentity: Bool { base == 0 && stepX == 1 }
}

/// Converts `source` (a W x H image in `P`'s layout, `bytesPerPixel` each) into `out`
/// (`walk.outWidth` x `walk.outHeight` x `outChannels`, 1 or 3), following `walk`.
func remap<P: SourcePixel>(_: P.Type, source: UnsafeRawPointer, bytesPerPixel: Int, walk: PixelWalk,
                           outChannels: Int, into out: UnsafeMutablePointer<UInt8>) {
    let src = source.assumingMemoryBound(to: UInt8.self)
    var o = out
    for y in 0..<walk.outHeight {
        var s = walk.base + y * walk.stepY
        if outChannels == 1 {
            for _ in 0..<walk.outWidth {
                o.pointee = P.luma(src + s * bytesPerPixel)
                o += 1
                s += walk.stepX
            }
        } else {
            for _ in 0..<walk.outWidth {
                let (r, g, b) = P.rgb(src + s * bytesPerPixel)
                o[0] = r
                o[1] = g
                o[2] = b
                o += 3
                s += walk.stepX
            }
        }
    }
}

/// `remap` for a layout chosen at run time: the switch runs once per image.
func remap(_ layout: SourceLayout, source: UnsafeRawPointer, walk: PixelWalk, outChannels: Int,
           into out: UnsafeMutablePointer<UInt8>) {
    let bpp = layout.bytesPerPixel
    switch layout {
    case .gray8: remap(Gray8Pixel.self, source: source, bytesPerPixel: bpp, walk: walk, outChannels: outChannels, into: out)
    case .rgb8: remap(RGB8Pixel.self, source: source, bytesPerPixel: bpp, walk: walk, outChannels: outChannels, into: out)
    case .rgba8: remap(RGBA8Pixel.self, source: source, bytesPerPixel: bpp, walk: walk, outChannels: outChannels, into: out)
    case .cmyk8: remap(CMYK8Pixel.self, source: source, bytesPerPixel: bpp, walk: walk, outChannels: outChannels, into: out)
    case .rgba16: remap(RGBA16Pixel.self, source: source, bytesPerPixel: bpp, walk: walk, outChannels: outChannels, into: out)
    }
}

/// Whether `layout` already is the output for `outChannels`, so a library can decode straight
/// into the returned array when no orientation is to be applied.
func layoutIsOutput(_ layout: SourceLayout, outChannels: Int) -> Bool {
    (layout == .gray8 && outChannels == 1) || (layout == .rgb8 && outChannels == 3)
}
