import XCTest
import Tensors

final class CounterRNGTests: XCTestCase {
    /// Known-answer test from the Random123 distribution (kat_vectors, philox4x32_10).
    func testPhiloxKnownAnswers() {
        XCTAssertEqual(philox4x32(SIMD4(0, 0, 0, 0), key: SIMD2(0, 0)),
                       SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8))
        XCTAssertEqual(philox4x32(SIMD4(0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff),
                                  key: SIMD2(0xffff_ffff, 0xffff_ffff)),
                       SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
        XCTAssertEqual(philox4x32(SIMD4(0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344),
                                  key: SIMD2(0xa409_3822, 0x299f_31d0)),
                       SIMD4(0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1))
    }

    func testSameCoordinatesSameStreamDifferentCoordinatesDiffer() {
        var r1 = CounterRNG(seed: 42, purpose: .augmentation, a: 3, b: 17)
        var r2 = CounterRNG(seed: 42, purpose: .augmentation, a: 3, b: 17)
        var r3 = CounterRNG(seed: 42, purpose: .augmentation, a: 3, b: 18)
        var r4 = CounterRNG(seed: 42, purpose: .dropout, a: 3, b: 17)
        let s1 = (0..<9).map { _ in r1.next32() }
        XCTAssertEqual(s1, (0..<9).map { _ in r2.next32() })
        XCTAssertNotEqual(s1, (0..<9).map { _ in r3.next32() })
        XCTAssertNotEqual(s1, (0..<9).map { _ in r4.next32() })
    }

    func testUniformAndNormalMoments() {
        var rng = CounterRNG(seed: 7, purpose: .synthetic)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0, nsum = 0.0, nsq = 0.0
        for _ in 0..<n {
            let u = Double(rng.nextUnitFloat())
            XCTAssert(u >= 0 && u < 1)
            sum += u; sumSq += u * u
            let z = Double(rng.nextNormal())
            nsum += z; nsq += z * z
        }
        XCTAssertEqual(sum / Double(n), 0.5, accuracy: 0.01)
        XCTAssertEqual(sumSq / Double(n) - 0.25, 1.0 / 12.0 - 0.0, accuracy: 0.01)
        XCTAssertEqual(nsum / Double(n), 0, accuracy: 0.02)
        XCTAssertEqual(nsq / Double(n), 1, accuracy: 0.02)
    }
}
