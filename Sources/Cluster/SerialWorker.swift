import Foundation

/// One thread running jobs in order (the coordinator's checkpoint writer): `async` queues a
/// job, `drain` waits until every queued job has run, `stop` ends the thread after them.
/// One long-lived thread, not a dispatch queue: a checkpoint's disk work always happens on
/// the same thread, which keeps it out of every lock and easy to watch from outside.
final class SerialWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var running = false
    private var stopping = false

    init(name: String) {
        let t = Thread { [self] in loop() }
        t.name = name
        t.start()
    }

    func async(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Returns when every job queued before the call has run.
    func drain() {
        condition.lock()
        while !jobs.isEmpty || running { condition.wait() }
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            let job = jobs.removeFirst()
            running = true
            condition.unlock()
            job()
            condition.lock()
            running = false
            condition.broadcast()
        }
        condition.unlock()
    }
}
