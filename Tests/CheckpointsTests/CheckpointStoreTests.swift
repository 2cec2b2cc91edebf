import Checkpoints
import Foundation
import Tensors
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Collects warnings from the store.
final class WarningLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

final class CheckpointStoreTests: XCTestCase {
    var run: String = ""

    override func setUpWithError() throws {
        run = NSTemporaryDirectory() + "ringtrain-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: run)
    }

    private func tensors(_ fill: Float, count: Int = 6) -> [SafeTensor] {
        [SafeTensor(name: "fc.weight", shape: [count], values: Array(repeating: fill, count: count))]
    }

    private func latest(_ store: CheckpointStore) -> String? {
        try? String(contentsOfFile: store.directory + "/latest", encoding: .utf8)
    }

    private func files(_ store: CheckpointStore) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.directory)) ?? []).sorted()
    }

    func testSaveLatestAndRetention() throws {
        let store = CheckpointStore(runDirectory: run, keep: 2)
        XCTAssertNil(store.latestValid())
        for step in [100, 200, 300] {
            let path = try store.save(step: step, tensors: tensors(Float(step)), state: #"{"global_step":\#(step)}"#)
            XCTAssertEqual(path, run + "/checkpoints/" + CheckpointStore.fileName(step: step))
        }
        XCTAssertEqual(CheckpointStore.fileName(step: 1200), "step-00001200.safetensors")
        XCTAssertEqual(files(store), ["latest", "step-00000200.safetensors", "step-00000300.safetensors"])
        XCTAssertEqual(latest(store), "step-00000300.safetensors\n")
        let found = try XCTUnwrap(store.latestValid())
        XCTAssertEqual(found.step, 300)
        XCTAssertEqual(found.file.state, #"{"global_step":300}"#)
        XCTAssertEqual(found.file.tensor(named: "fc.weight")?.values.first, 300)
        XCTAssertNoThrow(try CheckpointStore.verify(path: found.path))
    }

    func testCorruptNewestFallsBackWithWarning() throws {
        let log = WarningLog()
        let store = CheckpointStore(runDirectory: run, keep: 5, onWarning: { log.add($0) })
        try store.save(step: 1, tensors: tensors(1), state: "{}")
        try store.save(step: 2, tensors: tensors(2), state: "{}")
        try store.save(step: 3, tensors: tensors(3), state: "{}")
        // Step 3 truncated, step 2 with a flipped data byte.
        let p3 = store.path(step: 3), p2 = store.path(step: 2)
        XCTAssertEqual(truncate(p3, 100), 0)
        var b2 = try Data(contentsOf: URL(fileURLWithPath: p2))
        b2[b2.count - 3] ^= 0x10
        try b2.write(to: URL(fileURLWithPath: p2))

        let found = try XCTUnwrap(store.latestValid())
        XCTAssertEqual(found.step, 1)
        let warnings = log.all
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings[0].contains(p3), "\(warnings)")
        XCTAssertTrue(warnings[1].contains(p2) && warnings[1].contains("SHA-256 mismatch"), "\(warnings)")
        XCTAssertThrowsError(try CheckpointStore.verify(path: p2)) { XCTAssertTrue("\($0)".hasPrefix(p2)) }
        XCTAssertThrowsError(try CheckpointStore.verify(path: p3))

        // A new save after resuming from step 1 keeps working; the corrupt later files are ignored.
        try store.save(step: 2, tensors: tensors(22), state: "{}")
        XCTAssertEqual(store.latestValid()?.file.tensor(named: "fc.weight")?.values.first, 22)
    }

    func testMissingOrGarbageLatest() throws {
        let log = WarningLog()
        let store = CheckpointStore(runDirectory: run, keep: 3, onWarning: { log.add($0) })
        try store.save(step: 10, tensors: tensors(1), state: "{}")
        try store.save(step: 20, tensors: tensors(2), state: "{}")
        unlink(store.directory + "/latest")
        XCTAssertEqual(store.latestValid()?.step, 20)
        XCTAssertTrue(log.all.contains { $0.contains("/latest") && $0.contains("missing") }, "\(log.all)")
        try "garbage\u{0}\n".write(toFile: store.directory + "/latest", atomically: false, encoding: .utf8)
        XCTAssertEqual(store.latestValid()?.step, 20)
        XCTAssertTrue(log.all.contains { $0.contains("does not name a checkpoint") }, "\(log.all)")
        try "step-00000099.safetensors\n".write(toFile: store.directory + "/latest", atomically: false, encoding: .utf8)
        XCTAssertEqual(store.latestValid()?.step, 20)
        XCTAssertTrue(log.all.contains { $0.contains("step-00000099.safetensors, which does not exist") }, "\(log.all)")
        // Stray files are not checkpoints.
        try "x".write(toFile: store.directory + "/step-abc.safetensors", atomically: false, encoding: .utf8)
        XCTAssertEqual(store.checkpoints().map(\.step), [10, 20])
    }

    func testWriteFailureKeepsThePreviousCheckpoint() throws {
        #if !os(Linux)
        throw XCTSkip("uses Linux's setrlimit(RLIMIT_FSIZE) signature")
        #else
        let store = CheckpointStore(runDirectory: run, keep: 1)
        try store.save(step: 100, tensors: tensors(1), state: "{}")
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path(step: 100)))

        // A file-size limit smaller than the next checkpoint: write() fails with EFBIG, as on a full disk.
        var old = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = old
        limited.rlim_cur = rlim_t(before.count + 64)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limited), 0)
        var thrown: Error?
        do { try store.save(step: 200, tensors: tensors(2, count: 10_000), state: "{}") } catch { thrown = error }
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
        signal(SIGXFSZ, oldHandler)

        let error = try XCTUnwrap(thrown as? CheckpointError)
        XCTAssertEqual(error.kind, .io)
        XCTAssertTrue("\(error)".contains("write failed") && "\(error)".contains("file-size limit"), "\(error)")
        XCTAssertTrue("\(error)".contains("step-00000200.safetensors"), "\(error)")
        XCTAssertEqual(files(store), ["latest", "step-00000100.safetensors"], "no temporary left, the old one kept")
        XCTAssertEqual(latest(store), "step-00000100.safetensors\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: store.path(step: 100))), before)
        XCTAssertEqual(store.latestValid()?.step, 100)
        #endif
    }

    func testUnwritableLocationIsAClearError() throws {
        // `checkpoints` exists as a regular file (permissions do not stop root, this does).
        try "x".write(toFile: run + "/checkpoints", atomically: false, encoding: .utf8)
        let store = CheckpointStore(runDirectory: run, keep: 1)
        XCTAssertThrowsError(try store.save(step: 1, tensors: tensors(1), state: "{}")) {
            XCTAssertEqual(($0 as? CheckpointError)?.kind, .io)
            XCTAssertTrue("\($0)".contains("checkpoints: exists and is not a directory"), "\($0)")
        }
        XCTAssertNil(store.latestValid())
    }

    func testArenaRoundTripAndMismatchNamesTheTensor() throws {
        var layout = ArenaLayout()
        layout.append(name: "conv1.weight", shape: [2, 1, 3, 3], role: .weight)
        layout.append(name: "conv1.bias", shape: [2], role: .bias)
        let arena = ParameterArena(layout: layout)
        for i in 0..<arena.count { arena.pointer[i] = Float(i) / 7 }
        let store = CheckpointStore(runDirectory: run)
        try store.save(step: 5, tensors: arena.safeTensors() + arena.safeTensors(prefix: "optimizer.", suffix: ".momentum_buffer"),
                       state: "{}")
        let file = try XCTUnwrap(store.latestValid()).file
        XCTAssertNotNil(file.tensor(named: "optimizer.conv1.bias.momentum_buffer"))
        let back = arena.makeTwin()
        try back.load(from: file)
        for slot in layout.slots { XCTAssertEqual(Array(back.view(slot)), Array(arena.view(slot)), slot.name) }

        XCTAssertEqual(back.contentSHA256(), arena.contentSHA256())
        XCTAssertEqual(arena.contentSHA256().count, 64)
        // What the coordinator hashes (the tensors it writes) is what the ranks hashed.
        XCTAssertEqual(SafeTensor.contentSHA256(arena.safeTensors()), arena.contentSHA256())
        back.view(named: "conv1.bias")![1] += 1
        XCTAssertNotEqual(back.contentSHA256(), arena.contentSHA256())

        var other = ArenaLayout()
        other.append(name: "conv1.weight", shape: [2, 1, 5, 5], role: .weight)
        XCTAssertThrowsError(try ParameterArena(layout: other).load(from: file)) {
            XCTAssertTrue("\($0)".contains("tensor conv1.weight: has shape [2, 1, 3, 3], the model needs [2, 1, 5, 5]"), "\($0)")
        }
        var missing = ArenaLayout()
        missing.append(name: "fc.weight", shape: [3], role: .weight)
        XCTAssertThrowsError(try ParameterArena(layout: missing).load(from: file)) {
            XCTAssertEqual(($0 as? CheckpointError)?.field, "tensor fc.weight")
        }
    }
}
