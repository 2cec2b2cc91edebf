import XCTest
import Imaging

final class StatisticsTests: XCTestCase {
    func laplacian(_ pixels: [UInt8], _ w: Int, _ h: Int) throws -> Double {
        try pixels.withUnsafeBufferPointer { try laplacianVariance(gray: $0.baseAddress!, width: w, height: h) }
    }

    func testLaplacianVariance() throws {
        XCTAssertEqual(try laplacian([UInt8](repeating: 77, count: 30), 6, 5), 0, "constant")
        // 1-pixel checkerboard of 0 and 255: the Laplacian is 4 * 255 - 8v = +-1020 everywhere
        // inside; a 6x6 board has 16 interior values, 8 of each sign: mean 0, variance 1020^2.
        let board = (0..<36).map { i in UInt8((i / 6 + i % 6) % 2 == 0 ? 0 : 255) }
        XCTAssertEqual(try laplacian(board, 6, 6), 1_040_400)
        // A horizontal ramp has zero second derivative: variance 0, even though it is not constant.
        XCTAssertEqual(try laplacian((0..<40).map { UInt8($0 % 8 * 30) }, 8, 5), 0)
        XCTAssertEqual(try laplacian([1, 2, 3, 4], 2, 2), 0, "no interior")
    }

    func testChannelStatisticsAreExactAndMergeable() throws {
        // Channel 0: 0 and 255 -> mean 0.5, std 0.5; channel 1: constant 51 -> mean 0.2, std 0.
        let a: [UInt8] = [0, 51], b: [UInt8] = [255, 51]
        var left = try ChannelStatistics(channels: 2), right = try ChannelStatistics(channels: 2)
        try a.withUnsafeBufferPointer { try left.addInterleaved($0.baseAddress!, width: 1, height: 1) }
        try b.withUnsafeBufferPointer { try right.addInterleaved($0.baseAddress!, width: 1, height: 1) }
        left += right
        XCTAssertEqual(left.count, 2)
        XCTAssertEqual(left.mean, [0.5, 0.2])
        XCTAssertEqual(left.std, [0.5, 0])
        var planar = try ChannelStatistics(channels: 2)
        try [UInt8]([0, 255, 51, 51]).withUnsafeBufferPointer { try planar.addPlanar($0.baseAddress!, width: 2, height: 1) }
        XCTAssertEqual(planar, left, "planar and interleaved agree")
    }

    func testNearConstant() throws {
        func check(_ p: [UInt8], _ threshold: Int) throws -> Bool {
            try p.withUnsafeBufferPointer { try isNearConstant($0.baseAddress!, width: 2, height: 2, channels: 1, threshold: threshold) }
        }
        XCTAssertTrue(try check([9, 9, 9, 9], 0))
        XCTAssertFalse(try check([9, 9, 9, 10], 0))
        XCTAssertTrue(try check([9, 9, 9, 12], 3))
        XCTAssertFalse(try check([0, 0, 0, 255], 254), "one bright pixel is content")
        XCTAssertThrowsError(try check([0, 0, 0, 0], -1))
    }
}
