import Foundation
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// A small mutation fuzzer for the parsers that read bytes from outside (checkpoints, wire
/// blocks, control messages, config files, datasets). Every input derives from valid seeds
/// by byte flips, insertions, deletions, truncation and "interesting" values (0, 0xFF, huge
/// lengths) drawn from the counter-based generator, so a run is reproducible from its seed.
/// A crash writes the input that caused it (from a signal handler, with write(2) only); a
/// hang (one input taking longer than `hangSeconds`) is reported by a watchdog with its input;
/// an address-space limit turns an unbounded allocation into a crash.
final class Fuzzer: @unchecked Sendable {
    let name: String
    let seeds: [[UInt8]]
    let body: ([UInt8]) -> Void
    var rng: CounterRNG

    init(name: String, seeds: [[UInt8]], seed: UInt64, body: @escaping ([UInt8]) -> Void) {
        self.name = name
        self.seeds = seeds
        self.body = body
        rng = CounterRNG(seed: seed, purpose: .synthetic, a: 0xF022)
    }

    func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 8)
        for _ in 0..<rounds {
            let r = rng.next()
            let at = b.isEmpty ? 0 : Int((r >> 8) % UInt64(b.count))
            switch r % 7 {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1 << ((r >> 40) % 8))
            case 1 where !b.isEmpty: b[at] = UInt8(truncatingIfNeeded: r >> 32)
            case 2: b.insert(UInt8(truncatingIfNeeded: r >> 24), at: at)
            case 3 where !b.isEmpty: b.remove(at: at)
            case 4 where !b.isEmpty: b.removeLast(Int((r >> 16) % UInt64(b.count)))
            case 5 where b.count >= at + 4:
                // An interesting 32-bit value where lengths and counts live.
                let values: [UInt32] = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000, UInt32(b.count), 0x0100_0000]
                let v = values[Int((r >> 20) % UInt64(values.count))]
                for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
            case 6 where !b.isEmpty:
                // Repeat a chunk (JSON nesting, duplicated headers).
                let len = min(b.count - at, 1 + Int((r >> 32) % 64))
                b.insert(contentsOf: b[at..<(at + len)], at: at)
            default: break
            }
        }
        return b
    }

    /// Runs for `seconds`; returns the number of inputs tried. Exits the process on a hang.
    func run(seconds: Double, hangSeconds: Double = 10, crashFile: String) -> Int {
        FuzzCrashReport.install(path: crashFile)
        let done = Date().addingTimeInterval(seconds)
        let progress = FuzzProgress()
        var iterations = 0
        let watchdog = Thread {
            while true {
                Thread.sleep(forTimeInterval: 0.5)
                let (stalled, finished) = progress.read()
                if finished { return }
                if stalled > hangSeconds {
                    FuzzCrashReport.writeCurrent()
                    FileHandle.standardError.write("fuzz \(self.name): HANG: one input took more than \(hangSeconds) s; it is in \(crashFile)\n".data(using: .utf8)!)
                    _exit(1)
                }
            }
        }
        watchdog.start()
        for s in seeds {
            FuzzCrashReport.setCurrent(s)
            body(s)
        }
        var corpus = seeds
        while Date() < done {
            let parent = corpus[Int(rng.next() % UInt64(corpus.count))]
            let input = mutate(parent)
            FuzzCrashReport.setCurrent(input)
            body(input)
            iterations += 1
            progress.advance()
            // Keep a few mutants as parents so mutations compound, bounded in size.
            if corpus.count < 64 && input.count < 1 << 20 && rng.next() % 16 == 0 { corpus.append(input) }
        }
        progress.finish()
        return iterations
    }
}

/// The input being tried, kept where a signal handler can write it out with write(2).
enum FuzzCrashReport {
    nonisolated(unsafe) static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var capacity = 1
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>? = nil

    static func install(path file: String) {
        path = strdup(file)
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            signal(sig) { s in
                FuzzCrashReport.writeCurrent()
                let msg = "fuzz: CRASH (signal \(s)); the input is in the crash file\n"
                msg.withCString { _ = write(2, $0, strlen($0)) }
                _exit(1)
            }
        }
    }

    static func setCurrent(_ bytes: [UInt8]) {
        if bytes.count > capacity {
            buffer.deallocate()
            capacity = max(bytes.count, capacity * 2)
            buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        }
        count = 0
        bytes.withUnsafeBufferPointer { if let b = $0.baseAddress { buffer.update(from: b, count: bytes.count) } }
        count = bytes.count
    }

    static func writeCurrent() {
        guard let path else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd >= 0 {
            _ = write(fd, buffer, count)
            close(fd)
        }
    }
}

/// The fuzzing loop's last progress, watched by the hang detector.
private final class FuzzProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date()
    private var stopped = false

    func advance() { lock.lock(); last = Date(); lock.unlock() }
    func finish() { lock.lock(); stopped = true; lock.unlock() }
    /// Seconds since the last progress, and whether the loop finished.
    func read() -> (Double, Bool) { lock.lock(); defer { lock.unlock() }; return (Date().timeIntervalSince(last), stopped) }
}
