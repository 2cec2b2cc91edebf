import Foundation

/// Decodes jobs on `threads` threads and hands the results to `consume` in job order, on the
/// calling thread. At most `window` results wait to be consumed, so memory stays bounded
/// however slow the writer is, and the output does not depend on the thread count.
struct DecodePipeline {
    let jobs: [DecodeJob]
    let root: String
    let settings: PreparationSettings
    let threads: Int
    var window: Int { max(4 * threads, 16) }

    func run(progress: (Int) -> Void,
             consume: (DecodeJob, Result<MadeRecord, RecordSkip>) throws -> Void) throws {
        guard !jobs.isEmpty else { return }
        let shared = PipelineState(window: window)
        let group = DispatchGroup()
        for t in 0..<min(threads, jobs.count) {
            let thread = Thread { [jobs, root, settings] in
                defer { group.leave() }
                let maker = RecordMaker(settings: settings)
                while let i = shared.claim(limit: jobs.count) {
                    let result = maker.make(path: root + "/" + jobs[i].file.relativePath)
                    shared.deliver(i, result)
                }
            }
            thread.name = "ringtrain-decode-\(t)"
            thread.stackSize = 1 << 20
            group.enter()
            thread.start()
        }
        defer {
            shared.stop()
            group.wait()
        }
        var lastReport = Date()
        for i in jobs.indices {
            let result = shared.take(i)
            try consume(jobs[i], result)
            if -lastReport.timeIntervalSinceNow >= 1 || i == jobs.count - 1 {
                progress(i + 1)
                lastReport = Date()
            }
        }
    }
}

/// The hand-over between decoding threads and the consumer. Wake-ups only go to whoever
/// waits: the consumer when the result it waits for arrives, the decoders when the window
/// opens (a broadcast per image cost 9% of a prepare in futex calls).
final class PipelineState: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0
    private var consumed = 0
    private var stopped = false
    private var results: [Int: Result<MadeRecord, RecordSkip>] = [:]
    private var consumerWaitsFor: Int? = nil
    private var decodersWaiting = 0
    let window: Int

    init(window: Int) { self.window = window }

    /// The next job index to decode, waiting while the window is full; nil when done or stopped.
    func claim(limit: Int) -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !stopped && next < limit && next >= consumed + window {
            decodersWaiting += 1
            condition.wait()
            decodersWaiting -= 1
        }
        guard !stopped, next < limit else { return nil }
        next += 1
        return next - 1
    }

    func deliver(_ i: Int, _ result: Result<MadeRecord, RecordSkip>) {
        condition.lock()
        results[i] = result
        if consumerWaitsFor == i { condition.broadcast() }
        condition.unlock()
    }

    func take(_ i: Int) -> Result<MadeRecord, RecordSkip> {
        condition.lock(); defer { condition.unlock() }
        while results[i] == nil {
            consumerWaitsFor = i
            condition.wait()
        }
        consumerWaitsFor = nil
        let r = results.removeValue(forKey: i)!
        consumed = i + 1
        if decodersWaiting > 0 { condition.broadcast() }
        return r
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
