import Foundation

/// Cancels a ring formation in progress from another thread (an interrupt from the
/// coordinator: a member of the ring being formed is gone). Whatever the formation waits on —
/// the left neighbour's connection, a connection to the right one, a handshake — ends at once,
/// and `TCPRing.connect` throws.
public final class FormationCancel: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var actions: [() -> Void] = []

    public init() {}

    public var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }

    public func cancel() {
        lock.lock()
        guard !cancelled else { lock.unlock(); return }
        cancelled = true
        let run = actions
        actions = []
        lock.unlock()
        for action in run { action() }
    }

    /// Runs `action` on cancellation (at once if cancelled already).
    func onCancel(_ action: @escaping () -> Void) {
        lock.lock()
        if cancelled {
            lock.unlock()
            action()
            return
        }
        actions.append(action)
        lock.unlock()
    }
}
