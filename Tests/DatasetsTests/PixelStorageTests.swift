#if canImport(Glibc)
import Glibc
#endif
import Datasets
import Foundation
import XCTest

/// Handing pages of a mapped shard back to the kernel touches the shard's own pages only:
/// MADV_DONTNEED on a neighbouring anonymous mapping (a library's data, the heap) zeroes it.
final class PixelStorageTests: XCTestCase {
    func testReleasedWindowsStayInsideTheMapping() {
        let page = 4096, window = 65536, address = 0x7000_1000
        // 5000 bytes occupy two pages; the 64 KiB window around them reaches far past both.
        XCTAssertEqual(PixelStorage.releasableBytes(0..<5000, mappingAddress: address, mappingLength: 5000,
                                                    window: window, page: page), 0..<8192)
        // Windows align in the address space, not from the mapping's start.
        let big = 10 * window
        XCTAssertEqual(PixelStorage.releasableBytes(70_000..<70_001, mappingAddress: address, mappingLength: big,
                                                    window: window, page: page),
                       (window - 0x1000)..<(2 * window - 0x1000))
        XCTAssertNil(PixelStorage.releasableBytes(9000..<9500, mappingAddress: address, mappingLength: 5000,
                                                  window: window, page: page))
        for lower in stride(from: 0, to: 40_000, by: 997) {
            if let r = PixelStorage.releasableBytes(lower..<(lower + 3000), mappingAddress: address, mappingLength: 40_000,
                                                    window: window, page: page) {
                XCTAssertTrue(r.lowerBound >= 0 && r.upperBound <= 40_960, "\(lower): \(r)")
                XCTAssertTrue(r.lowerBound <= lower && r.upperBound >= min(lower + 3000, 40_000))
            }
        }
    }

    /// The behaviour itself: an anonymous page placed right after a small mapped file keeps
    /// its bytes when the file's records are released.
    func testReleasingASmallShardLeavesTheNextMappingAlone() throws {
        let path = NSTemporaryDirectory() + "ringtrain-pixelstorage-\(UUID().uuidString)"
        defer { unlink(path) }
        try Data(repeating: 7, count: 5000).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        // Map an anonymous page, then the shard: the kernel places mappings top-down, so once
        // the small holes above are filled, the shard's two pages end where the page starts.
        let page = PixelStorage.pageSize
        var pages: [UnsafeMutableRawPointer] = [], stores: [PixelStorage] = []
        defer { for p in pages { munmap(p, page) } }
        var found: (PixelStorage, UnsafeMutableRawPointer)? = nil
        for _ in 0..<256 where found == nil {
            guard let p = mmap(nil, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else { return XCTFail("mmap: \(errno)") }
            pages.append(p)
            let s = try PixelStorage(mapping: fd, offset: 0, length: 5000, path: path)
            if UnsafeMutableRawPointer(mutating: s.base) + 2 * page == p { found = (s, p) } else { stores.append(s) }
        }
        guard let (storage, neighbour) = found else {
            throw XCTSkip("no shard was mapped right before an anonymous page")
        }
        neighbour.storeBytes(of: 0xAB, as: UInt8.self)
        storage.release(0..<5000)
        XCTAssertEqual(neighbour.load(as: UInt8.self), 0xAB, "a neighbouring mapping was zeroed")
        XCTAssertEqual(storage.base[4999], 7, "the released record reads back from the page cache")
    }
}
