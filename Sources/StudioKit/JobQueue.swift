import Foundation
import JukeboxCore

/// The studio's engine work, one job at a time, each on its own thread: a job asked for while another runs
/// waits as the one next job (a newer request replaces it); cancelling stops the running job and drops
/// the waiting one. Work that must not overlap a job (a save) is asked for with `atSafePoint`: it runs at
/// once when idle, else at the running job's next `safePoint()` (between two tokens) or when it ends.
public final class JobQueue: @unchecked Sendable {
    public typealias Job = (CancelFlag) throws -> Void

    private let lock = NSLock()
    private var running = false
    private var cancel: CancelFlag?
    private var next: Job?
    private var pending: (() -> Void)?
    private let failed: (Error, _ cancelled: Bool) -> Void
    private let stackSize: Int

    /// - Parameter failed: told of a job's error (on the job's thread), and whether it was cancelled.
    public init(stackSize: Int = 16 << 20, failed: @escaping (Error, _ cancelled: Bool) -> Void) {
        self.stackSize = stackSize
        self.failed = failed
    }

    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return running
    }

    /// Runs `job` now, or after the running one (replacing a job already waiting).
    public func submit(_ job: @escaping Job) {
        lock.lock()
        if running { next = job; lock.unlock(); return }
        let flag = CancelFlag()
        cancel = flag
        running = true
        lock.unlock()
        let worker = Thread { [self] in
            do { try job(flag) } catch { failed(error, flag.isCancelled) }
            lock.lock()
            running = false
            let due = pending, following = flag.isCancelled ? nil : next
            pending = nil
            next = nil
            lock.unlock()
            due?()
            if let following { submit(following) }
        }
        worker.stackSize = stackSize
        worker.name = "jukebox-studio engine"
        worker.start()
    }

    /// Stops the running job at its next token; the job waiting after it is dropped.
    public func cancelRunning() {
        lock.lock(); let flag = cancel; lock.unlock()
        flag?.cancel()
    }

    /// Cancels and waits (bounded) for the running job to end. Returns whether the queue is idle.
    @discardableResult
    public func stop(waitingUpTo seconds: Double) -> Bool {
        cancelRunning()
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(5_000) }
        return !isRunning
    }

    /// `action` at once on this thread when no job runs (returns true), else later on the job's thread, once,
    /// however often it is asked for meanwhile (returns false).
    @discardableResult
    public func atSafePoint(_ action: @escaping () -> Void) -> Bool {
        lock.lock()
        guard running else { lock.unlock(); action(); return true }
        pending = action
        lock.unlock()
        return false
    }

    /// Called by the running job where the engine's state is whole (between two tokens).
    public func safePoint() {
        lock.lock()
        let due = pending
        pending = nil
        lock.unlock()
        due?()
    }
}
