import ImageCodecs
import XCTest

/// A deterministic image whose every pixel differs from its neighbours (so any misplaced pixel
/// shows): sample (x, y, c) = (x * 37 + y * 101 + c * 59 + x * y) mod 256.
func patterned(width: Int, height: Int, channels: Int) -> DecodedImage {
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                pixels[(y * width + x) * channels + c] = UInt8((x * 37 + y * 101 + c * 59 + x * y) % 256)
            }
        }
    }
    return DecodedImage(width: width, height: height, channels: channels, pixels: pixels)
}

/// A photo-like image: smooth colour gradients and blobs plus a little noise (a splitmix
/// sequence), what JPEG is made for; compresses like a photo at quality 90.
func photoLike(width: Int, height: Int, seed: UInt64 = 1) -> DecodedImage {
    var state = seed
    func noise() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53) - 0.5
    }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            let u = Double(x) / Double(width), v = Double(y) / Double(height)
            let blob = exp(-((u - 0.6) * (u - 0.6) + (v - 0.4) * (v - 0.4)) * 18)
            let red: Double = 120 + 90 * sin(6 * u + 2 * v) + 40 * blob
            let green: Double = 100 + 70 * cos(5 * v - 3 * u) + 60 * blob
            let blue: Double = 90 + 60 * sin(9 * u * v) - 30 * blob
            let rgb = [red, green, blue]
            for c in 0..<3 {
                pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, rgb[c] + 12 * noise())))
            }
        }
    }
    return DecodedImage(width: width, height: height, channels: 3, pixels: pixels)
}

/// The largest difference between two equally sized sample arrays.
func maxAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) samples")
    return zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
}

/// The mean absolute difference.
func meanAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) samples")
    return Double(zip(a, b).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(max(a.count, 1))
}

/// Pillow's "L" (ITU-R 601-2 in 16-bit fixed point), written out here independently.
func pillowL(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    let red = Int(r) * 19595, green = Int(g) * 38470, blue = Int(b) * 7471
    return UInt8((red + green + blue + 0x8000) >> 16)
}

/// Decodes and fails the test (with the error) instead of throwing.
func decoded(_ bytes: [UInt8], _ options: DecodeOptions = .init(), file: StaticString = #filePath,
             line: UInt = #line) throws -> DecodedImage {
    do {
        return try ImageDecoder().decode(bytes, options: options)
    } catch {
        XCTFail("decode failed: \(error)", file: file, line: line)
        throw error
    }
}

/// The error a decode throws (nil and a test failure when it succeeds or throws something else).
func decodeError(_ bytes: [UInt8], _ options: DecodeOptions = .init(), file: StaticString = #filePath,
                 line: UInt = #line) -> ImageDecodeError? {
    do {
        let image = try ImageDecoder().decode(bytes, options: options)
        XCTFail("decoded \(image.width) x \(image.height) where an error was expected", file: file, line: line)
    } catch let e as ImageDecodeError {
        return e
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
    return nil
}

/// `pixels` with every pixel's samples replaced by `f(samples)`.
func mapPixels(_ image: DecodedImage, outChannels: Int, _ f: ([UInt8]) -> [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(image.width * image.height * outChannels)
    for i in stride(from: 0, to: image.pixels.count, by: image.channels) {
        out += f(Array(image.pixels[i..<(i + image.channels)]))
    }
    return out
}
