import Foundation
import ImageCodecs
import XCTest

/// Mutated seeds through `fuzzImageDecoder` (every decode path, invariants as traps). A few
/// thousand inputs by default; `RINGTRAIN_IMAGE_FUZZ_ITERATIONS=100000` for a longer run.
final class FuzzLoopTests: XCTestCase {
    func testMutatedSeedsNeverTrap() {
        let iterations = Int(ProcessInfo.processInfo.environment["RINGTRAIN_IMAGE_FUZZ_ITERATIONS"] ?? "") ?? 3000
        let seeds = imageFuzzSeeds()
        XCTAssertEqual(seeds.count, 16)  // every encoder call made its file
        let decoder = ImageDecoder()
        // Each seed decodes as it is (the seeds themselves are valid files).
        for seed in seeds {
            XCTAssertNoThrow(try decoder.decode(seed), "seed \(seed.prefix(4).map { String($0, radix: 16) })")
        }
        var mutator = Mutator(seed: 0x1A6E)
        var corpus = seeds
        var decodedCount = 0
        for i in 0..<iterations {
            let input = mutator.mutate(corpus[mutator.below(corpus.count)])
            input.withUnsafeBytes { fuzzImageDecoder($0, decoder: decoder) }
            if (try? decoder.decode(input)) != nil { decodedCount += 1 }
            if corpus.count < 64 && i % 16 == 0 { corpus.append(input) }
        }
        // Some mutants still decode (flips in pixel data), most do not: both paths were walked.
        XCTAssertGreaterThan(decodedCount, 0)
        XCTAssertLessThan(decodedCount, iterations)
    }
}

/// Byte flips, overwrites, insertions, deletions, truncations, big- and little-endian
/// "interesting" 32-bit values (sizes and lengths live there) and repeated spans, from a
/// splitmix generator so a run is reproducible.
struct Mutator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + below(6)) {
            let at = below(b.count)
            switch below(8) {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1 << below(8))
            case 1 where !b.isEmpty: b[at] = UInt8(truncatingIfNeeded: next())
            case 2: b.insert(UInt8(truncatingIfNeeded: next()), at: at)
            case 3 where !b.isEmpty: b.remove(at: at)
            case 4 where !b.isEmpty: b.removeLast(below(b.count))
            case 5 where b.count >= at + 4:
                let values: [UInt32] = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000, 0xFFFF, 60000, UInt32(b.count)]
                let v = values[below(values.count)]
                let bigEndian = below(2) == 0
                for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(bigEndian ? 3 - i : i))) }
            case 6 where !b.isEmpty:
                let length = min(b.count - at, 1 + below(64))
                b.insert(contentsOf: b[at..<(at + length)], at: at)
            default: break
            }
        }
        return b
    }
}
