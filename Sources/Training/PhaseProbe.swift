import Foundation

/// Where the training thread is: the step and its phase (`forward`, `backward`, `wait for
/// all-reduce`, `optimizer`, `evaluate`, `checkpoint`, `waiting for data`). Written by the
/// trainer, read by a worker's heartbeat, which carries it to the coordinator's stall
/// inspector (so a stall report can say which rank has not reached which phase).
public final class PhaseProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var step = 0
    private var phase = "starting"

    public init() {}

    public func set(step: Int, _ phase: String) {
        lock.lock()
        self.step = step
        self.phase = phase
        lock.unlock()
    }

    public func read() -> (step: Int, phase: String) {
        lock.lock()
        defer { lock.unlock() }
        return (step, phase)
    }
}
