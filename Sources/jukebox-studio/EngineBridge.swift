import Foundation
import JukeboxCore
import StudioKit

/// Messages from other threads (engine, signals) to the UI thread, which drains it every tick.
final class MessageQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [StudioMessage] = []

    func post(_ message: StudioMessage) {
        lock.lock(); items.append(message); lock.unlock()
    }

    func drain() -> [StudioMessage] {
        lock.lock(); defer { lock.unlock() }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out
    }
}

/// Runs the co-composition off the UI thread through StudioKit's JobQueue (draw candidates, keep, resample,
/// undo, upsample: one at a time). The StudioSession is touched only by the running job, or by the UI thread
/// while no job runs. Every keep and undo is saved before the next round starts.
final class EngineBridge: @unchecked Sendable {
    let models: ModelSet
    let modelPath: String
    let queue: MessageQueue
    let recent: RecentSessionsFile
    private let lock = NSLock()
    private let jobs: JobQueue
    /// Owned by the running job (or by the UI thread while none runs).
    private(set) var session: StudioSession?

    init(set: ModelSet, modelPath: String, queue: MessageQueue, recent: RecentSessionsFile) {
        self.models = set
        self.modelPath = modelPath
        self.queue = queue
        self.recent = recent
        jobs = JobQueue { error, cancelled in
            queue.post(.engineIdle(cancelled ? "cancelled: the kept line is unchanged" : "error: \(error)"))
        }
    }

    var isRunning: Bool { jobs.isRunning }

    /// The model's label lists (top level), for the composer's pickers.
    var vocabulary: LabelVocabulary? { models.vocabularies[models.topLevel] }

    /// A session opened by the runtime (engine idle) becomes the one the jobs work on.
    /// Each finished window of every job (candidates, upsampling) is decoded as it is sampled, so the
    /// lanes screen lists it as a render to audition at once.
    func adopt(_ opened: StudioSession) {
        opened.composer.renderWhileSampling = true
        lock.lock(); session = opened; lock.unlock()
    }

    /// Makes the session folder now (Ctrl-S before sampling); only while no job runs.
    func create(_ fields: PromptFields, at path: String) throws {
        guard !isRunning, session == nil else { return }
        adopt(try StudioSession.create(at: path, fields: fields, models: models, modelPath: modelPath))
        saved()
    }

    // MARK: Jobs

    /// Starts the composition in `path` (a new session folder), or draws the next stretch of the current one.
    func start(_ fields: PromptFields, at path: String) {
        run { bridge, flag in
            if bridge.session == nil {
                bridge.adopt(try StudioSession.create(at: path, fields: fields, models: bridge.models, modelPath: bridge.modelPath))
                bridge.saved()
            }
            try bridge.drawRound(flag)
        }
    }

    func keep(_ index: Int) {
        run { bridge, flag in
            guard let session = bridge.session else { return }
            try session.composer.keep(index)
            try bridge.autosave()
            try bridge.drawRound(flag)
        }
    }

    func resample() {
        run { bridge, flag in
            guard let session = bridge.session else { return }
            let list = try session.resample(cancel: flag, events: bridge.report)
            bridge.roundDrawn(list)
        }
    }

    func undo() {
        run { bridge, flag in
            guard let session = bridge.session else { return }
            try session.composer.undo()
            try bridge.autosave()
            try bridge.drawRound(flag)
        }
    }

    func upsample() {
        run { bridge, flag in
            guard let session = bridge.session else { return }
            let wav = try session.upsample(cancel: flag, events: bridge.report)
            bridge.saved()
            bridge.queue.post(.engineIdle("upsampled \(String(format: "%.1f", session.keptSeconds)) s"
                                          + (wav.map { ": \($0)" } ?? "")))
        }
    }

    /// Asks for a save: at once when idle, else from the running job between two tokens (the composer
    /// changes only between rounds, so its state is whole there). Returns false when there is no session.
    @discardableResult
    func requestSave() -> Bool {
        lock.lock(); let exists = session != nil; lock.unlock()
        guard exists else { return false }
        jobs.atSafePoint { [self] in saveNow() }
        return true
    }

    /// Saves on the calling thread; only while no job runs (the runtime checks), or from the job itself.
    func saveNow() {
        do { try autosave() } catch { queue.post(.failed("\(error)")) }
    }

    // MARK: Inside a job (engine thread)

    private func drawRound(_ flag: CancelFlag) throws {
        guard let session else { return }
        guard session.remainingTokens > 0 else {
            queue.post(.engineIdle(String(format: "the song is complete (%.1f s kept): Ctrl-U upsamples it", session.keptSeconds)))
            return
        }
        let list = try session.drawCandidates(cancel: flag, events: report)
        roundDrawn(list)
    }

    /// The round is in the log now: saved (so a reopened session draws the next round's seed), then shown.
    private func roundDrawn(_ list: [[Int]]) {
        saveNow()
        queue.post(.candidatesReady(list))
    }

    private func autosave() throws {
        guard let session else { return }
        try session.save()
        saved()
    }

    /// After a write: the UI learns the kept line and the save, and the recent list the folder.
    private func saved() {
        guard let session else { return }
        queue.post(.composition(session.composition))
        queue.post(.saved)
        do {
            if let problem = try recent.record(session.recentEntry()) { queue.post(.note(problem)) }
        } catch {
            queue.post(.note("recent sessions not updated: \(error)"))
        }
    }

    /// Engine events go to the UI as they come; a pending save is done here, between two tokens.
    private func report(_ event: GenerationEvent) {
        queue.post(.engine(event))
        if case let .windowStarted(level, _, start, _) = event, level == models.topLevel,
           let text = session?.prompt.lyrics(atTopPosition: start, topHop: models.vqvae.hopLengths[level]) {
            queue.post(.lyricSpan(text))
        }
        jobs.safePoint()
    }

    typealias Job = (EngineBridge, CancelFlag) throws -> Void

    private func run(_ job: @escaping Job) {
        jobs.submit { [self] flag in try job(self, flag) }
    }

    func cancelSampling() { jobs.cancelRunning() }

    /// Asks a running job to stop and waits (bounded) for it, so a save after it sees a whole composer.
    func stop(waitingUpTo seconds: Double) { jobs.stop(waitingUpTo: seconds) }
}
