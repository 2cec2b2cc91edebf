import Foundation

/// The ranks of a test did not all finish in time.
public struct RanksTimedOut: Error, CustomStringConvertible {
    public let description: String
}

/// Runs `body(rank)` on `n` threads (one per rank of an in-memory or loopback ring) and
/// returns the results in rank order; throws the first rank's error, or `RanksTimedOut` if
/// they do not all finish within `timeout`.
public func onThreads<T>(_ n: Int, timeout: Double = 60, _ body: @escaping (Int) throws -> T) throws -> [T] {
    let results = Locked([Result<T, Error>?](repeating: nil, count: n))
    let group = DispatchGroup()
    for r in 0..<n {
        group.enter()
        let t = Thread {
            let res = Result { try body(r) }
            results.update { $0[r] = res }
            group.leave()
        }
        t.stackSize = 1 << 20
        t.start()
    }
    guard group.wait(timeout: .now() + timeout) == .success else {
        throw RanksTimedOut(description: "test ranks did not finish within \(timeout) s")
    }
    return try results.value.map { try $0!.get() }
}
