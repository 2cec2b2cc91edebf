// One resize of a raw interleaved image file with the Imaging library, for
// scripts/check-resize-vs-pillow.sh (compiled there together with Sources/Imaging as one module).
//   imaging_resize_cli IN.raw W H CHANNELS OUT_W OUT_H FILTER X0 Y0 X1 Y1 OUT.raw   (X0 "-": no box)
import Foundation

let a = CommandLine.arguments
let w = Int(a[2])!, h = Int(a[3])!, c = Int(a[4])!, ow = Int(a[5])!, oh = Int(a[6])!
let filter = ResampleFilter(rawValue: a[7])!
let box: ResampleBox? = a[8] == "-" ? nil : ResampleBox(x0: Double(a[8])!, y0: Double(a[9])!, x1: Double(a[10])!, y1: Double(a[11])!)
let src = [UInt8](try Data(contentsOf: URL(fileURLWithPath: a[1])))
var out = [UInt8](repeating: 0, count: ow * oh * c)
try src.withUnsafeBufferPointer { s in try out.withUnsafeMutableBufferPointer {
    try resizeInterleaved(source: s.baseAddress!, width: w, height: h, channels: c, box: box, output: $0.baseAddress!, outWidth: ow, outHeight: oh, filter: filter)
} }
try Data(out).write(to: URL(fileURLWithPath: a[12]))
