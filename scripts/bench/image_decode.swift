// Decoding speed of ImageCodecs on photo-sized JPEGs (500 x 375, quality 90, 4:2:0, written by
// our encoder), one thread; also PNG and WebP of the same photos. Built with the ImageCodecs
// sources, as the package's release build compiles them:
//   mkdir -p .build-bench && swiftc -O -parse-as-library -Xcc -march=x86-64-v3 -I Sources/CTurboJPEG -I Sources/CSpng \
//     -I Sources/CWebP Sources/ImageCodecs/*.swift scripts/bench/image_decode.swift -o .build-bench/image_decode
//   .build-bench/image_decode [DIR]
// DIR: a folder of 500 x 375 RGB PNGs (`scripts/bench/pillow_decode.py prepare DIR` makes them
// from scikit-image's sample photos); the JPEGs are then written to DIR/jpeg/ for
// `pillow_decode.py measure DIR`, Pillow's side. Without DIR: 8 synthetic photos (smooth + noise).
import Foundation

func syntheticPhoto(seed: UInt64) -> DecodedImage {
    let (width, height) = (500, 375)
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
            let blob: Double = exp(-((u - 0.6) * (u - 0.6) + (v - 0.4) * (v - 0.4)) * 18)
            let s = Double(seed)
            let red: Double = 120 + 90 * sin(6 * u + 2 * v + s) + 40 * blob
            let green: Double = 100 + 70 * cos(5 * v - 3 * u + s) + 60 * blob
            let blue: Double = 90 + 60 * sin(9 * u * v + s) - 30 * blob
            for (c, value) in [red, green, blue].enumerated() {
                pixels[(y * width + x) * 3 + c] = UInt8(max(0, min(255, value + 12 * noise())))
            }
        }
    }
    return DecodedImage(width: width, height: height, channels: 3, pixels: pixels)
}

/// This thread's CPU time in seconds: the machine may be shared, and CPU time counts only what
/// the decode itself used (wall time would count the other processes' turns too).
func threadCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Calls `body` with 0, 1, 2, ... for about `seconds` of CPU time after a warm-up; returns
/// calls per CPU second.
func rate(seconds: Double, _ body: (Int) -> Void) -> Double {
    for i in 0..<20 { body(i) }
    var calls = 0
    let start = threadCPUSeconds()
    var elapsed = 0.0
    while elapsed < seconds {
        for _ in 0..<20 { body(calls); calls += 1 }
        elapsed = threadCPUSeconds() - start
    }
    return Double(calls) / elapsed
}

@main
enum ImageDecodeBench {
    static func main() throws {
        let folder = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : nil
        let decoder = ImageDecoder()
        var sources: [DecodedImage] = []
        var label = "synthetic"
        if let folder {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }.sorted()
            for name in names {
                let image = try decoder.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))))
                precondition(image.width == 500 && image.height == 375, "\(name): expected 500 x 375")
                sources.append(image)
            }
            label = "real (\(names.joined(separator: ", ")))"
        } else {
            sources = (1...8).map { syntheticPhoto(seed: UInt64($0)) }
        }
        let jpegs = try sources.map { try ImageEncoder.jpeg($0, quality: 90) }
        if let folder {
            try FileManager.default.createDirectory(atPath: "\(folder)/jpeg", withIntermediateDirectories: true)
            for (i, jpeg) in jpegs.enumerated() { _ = FileManager.default.createFile(atPath: "\(folder)/jpeg/\(i).jpg", contents: Data(jpeg)) }
        }
        let pngs = try sources.map { try ImageEncoder.png($0) }
        let webps = try sources.map { try ImageEncoder.webp($0, quality: 90, lossless: false) }
        print("ImageCodecs: \(jpegs.count) \(label) photos 500x375, JPEG q90 4:2:0 ~\(jpegs.map(\.count).reduce(0, +) / jpegs.count / 1024) KB each, 1 thread, per CPU second")
        let cases: [(String, [[UInt8]], DecodeOptions)] = [
            ("JPEG full size, RGB", jpegs, DecodeOptions()),
            ("JPEG full size, grey (Y plane)", jpegs, DecodeOptions(channels: 1)),
            ("JPEG minimumSize 224x224 (5/8), RGB", jpegs, DecodeOptions(minimumSize: (width: 224, height: 224))),
            ("JPEG minimumSize 200x150 (1/2), RGB", jpegs, DecodeOptions(minimumSize: (width: 200, height: 150))),
            ("JPEG minimumSize 64x64 (1/4), RGB", jpegs, DecodeOptions(minimumSize: (width: 64, height: 64))),
            ("PNG full size, RGB", pngs, DecodeOptions()),
            ("WebP q90 full size, RGB", webps, DecodeOptions()),
        ]
        for (name, files, options) in cases {
            var checksum = 0
            let perSecond = rate(seconds: 2) { i in
                let image = try! decoder.decode(files[i % files.count], options: options)
                checksum &+= Int(image.pixels[image.pixels.count / 2])
            }
            print(String(format: "  %@ %8.0f images/s  (%.3f ms CPU each)%@", name.padding(toLength: 38, withPad: " ", startingAt: 0),
                         perSecond, 1000 / perSecond, checksum == -1 ? "!" : ""))
        }
    }
}
