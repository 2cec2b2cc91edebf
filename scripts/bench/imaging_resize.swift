// Times the Imaging resize on the photo scripts/bench-resize.sh writes (raw RGB, 500x375), the
// same sizes and filters it times Pillow on. Compiled together with the library's sources as one
// module (no package build needed):
//   swiftc -O -wmo -Xcc -march=x86-64-v3 Sources/Imaging/*.swift scripts/bench/imaging_resize.swift -o /tmp/imaging_resize
//   /tmp/imaging_resize PHOTO.rgb 500 375
// Prints one line per case: filter, size, microseconds of CPU time one-shot (plan built each
// call, as Pillow computes its coefficients each call) and with the plan reused, median of 15
// rounds.
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4, let w = Int(arguments[2]), let h = Int(arguments[3]) else {
    print("usage: imaging_resize PHOTO.rgb WIDTH HEIGHT"); exit(2)
}
let source = [UInt8](try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
precondition(source.count == w * h * 3, "\(arguments[1]) is not \(w)x\(h) RGB")

/// This thread's CPU time in microseconds (not the wall clock: on a shared machine that also
/// counts the time other processes hold the core).
func cpuMicroseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e6 + Double(t.tv_nsec) * 1e-3
}

/// Median over 15 rounds of the mean time of one call in a round, in microseconds (the
/// statistic the script takes from Python's timeit: median of 15 repeats of n calls).
func time(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var calls = 1
    while true {
        let start = cpuMicroseconds()
        for _ in 0..<calls { try body() }
        if cpuMicroseconds() - start > 30_000 { break }
        calls *= 2
    }
    var rounds = [Double]()
    for _ in 0..<15 {
        let start = cpuMicroseconds()
        for _ in 0..<calls { try body() }
        rounds.append((cpuMicroseconds() - start) / Double(calls))
    }
    return rounds.sorted()[7]
}

let sizes = [(64, 64), (224, 224), (w * 256 / h, 256)]
for filter in [ResampleFilter.bicubic, .bilinear, .area, .nearest] {
    for (ow, oh) in sizes {
        var out = [UInt8](repeating: 0, count: ow * oh * 3)
        let plan = try ResamplePlan(sourceWidth: w, sourceHeight: h, outWidth: ow, outHeight: oh, filter: filter)
        let oneShot = try time {
            try source.withUnsafeBufferPointer { s in try out.withUnsafeMutableBufferPointer {
                try resizeInterleaved(source: s.baseAddress!, width: w, height: h, channels: 3,
                                      output: $0.baseAddress!, outWidth: ow, outHeight: oh, filter: filter)
            } }
        }
        let reused = try time {
            try source.withUnsafeBufferPointer { s in try out.withUnsafeMutableBufferPointer {
                try plan.apply(source: s.baseAddress!, channels: 3, rowStride: w * 3, output: $0.baseAddress!)
            } }
        }
        print("imaging \(filter.rawValue) \(ow)x\(oh) \(String(format: "%.1f", oneShot)) \(String(format: "%.1f", reused))")
    }
}
// A 224x224 RGB result into a planar record (what `data prepare` does after the resize).
var hwc = [UInt8](repeating: 7, count: 224 * 224 * 3), chw = hwc
let layout = try time {
    try hwc.withUnsafeBufferPointer { s in try chw.withUnsafeMutableBufferPointer {
        try interleavedToPlanar(source: s.baseAddress!, width: 224, height: 224, channels: 3, output: $0.baseAddress!)
    } }
}
print("imaging-layout hwc-to-chw 224x224 \(String(format: "%.1f", layout))")
// Training time: a 64x64 planar record, a RandomResizedCrop-like box, to 3x56x56 Float.
let record = [UInt8](repeating: 0, count: 3 * 64 * 64).enumerated().map { UInt8(truncatingIfNeeded: $0.offset &* 2654435761 >> 13) }
var planar = [Float](repeating: 0, count: 3 * 56 * 56)
let box = ResampleBox(x0: 6.5, y0: 3.25, x1: 51.75, y1: 60.5)
for filter in [ResampleFilter.bilinear, .bicubic] {
    let t = try time {
        try record.withUnsafeBufferPointer { s in try planar.withUnsafeMutableBufferPointer {
            try resizePlanar(source: s.baseAddress!, width: 64, height: 64, channels: 3, box: box,
                             output: $0.baseAddress!, outWidth: 56, outHeight: 56, filter: filter)
        } }
    }
    print("imaging-planar \(filter.rawValue) 56x56 \(String(format: "%.1f", t))")
}
