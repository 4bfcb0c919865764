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

/// Runs the Generator off the UI thread and writes sessions. Sampling state the runtime needs for
/// saving (the finished result, the window history) lives here, under a lock.
final class EngineBridge: @unchecked Sendable {
    let models: ModelSet
    let modelPath: String
    let queue: MessageQueue
    private let lock = NSLock()
    private var cancel: CancelFlag?
    private var thread: Thread?
    private var result: GenerationResult?
    private var history: [WindowRecord] = []
    private var running = false
    /// The prompt of the latest sampling run (what a save records).
    private(set) var lastFields: PromptFields?

    init(set: ModelSet, modelPath: String, queue: MessageQueue) {
        self.models = set
        self.modelPath = modelPath
        self.queue = queue
    }

    var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return running
    }

    /// The model's label lists (top level), for the composer's pickers.
    var vocabulary: LabelVocabulary? { models.vocabularies[models.topLevel] }

    // MARK: Sampling

    /// Builds the engine's prompt from the composer's fields (names → ids, lyrics → tokens).
    func prompt(from fields: PromptFields) throws -> GenerationPrompt { try labelledPrompt(from: fields).prompt }

    /// The prompt, and the labeller and song labels that can say which lyrics a top-level window sees.
    func labelledPrompt(from fields: PromptFields) throws -> (prompt: GenerationPrompt, labels: (Labeller, SongLabels)?) {
        let sr = models.vqvae.sampleRate, top = models.topLevel
        let topHop = models.vqvae.hopLengths[top]
        guard fields.seconds > 0, fields.seconds.isFinite else { throw JukeboxError("seconds", "must be positive") }
        let sampleLength = Int(fields.seconds * Double(sr)) / topHop * topHop
        guard sampleLength > 0 else { throw JukeboxError("seconds", "\(fields.seconds) s is shorter than one top-level code") }
        guard fields.totalSeconds >= fields.seconds else { throw JukeboxError("total seconds", "shorter than seconds") }
        let settings = (0...top).map { level in
            SamplingSettings(temperature: fields.temperatures.indices.contains(level) ? fields.temperatures[level] : 1,
                             topK: 0, topP: 0)
        }
        for s in settings { try s.validate() }
        let totalLength = Int(fields.totalSeconds * Double(sr))
        if let vocabulary = models.vocabularies[top] {
            let topPrior = try models.prior(level: top)
            let labeller = Labeller(vocabulary: vocabulary, layout: try LabelLayout(hps: topPrior.hps),
                                    sampleLength: topPrior.nCtx * topHop)
            let resolved = try labeller.resolve(artist: fields.artist, genre: fields.genre, lyrics: fields.lyrics,
                                                totalLength: totalLength)
            return (GenerationPrompt(artistID: resolved.song.artistID, genreIDs: resolved.song.genreIDs,
                                     lyricTokens: resolved.song.fullTokens, totalLength: resolved.song.totalLength,
                                     sampleLength: sampleLength, settings: settings, seed: fields.seed, samples: 1),
                    (labeller, resolved.song))
        }
        return (GenerationPrompt(artistID: 0, genreIDs: [], lyricTokens: [], totalLength: totalLength,
                                 sampleLength: sampleLength, settings: settings, seed: fields.seed, samples: 1), nil)
    }

    /// Starts sampling on a background thread; events go to the queue as `.engine` messages.
    func start(_ fields: PromptFields) {
        lock.lock()
        if running { lock.unlock(); return }
        var rendering: GenerationPrompt
        let labels: (Labeller, SongLabels)?
        do { (rendering, labels) = try labelledPrompt(from: fields) } catch {
            lock.unlock()
            queue.post(.failed("\(error)"))
            return
        }
        // Each finished window is decoded while sampling goes on, so it can be auditioned at once.
        rendering.renderWhileSampling = true
        let prompt = rendering
        let flag = CancelFlag()
        cancel = flag
        running = true
        result = nil
        history = []
        lastFields = fields
        lock.unlock()

        let lowest = models.availableLevels.min() ?? models.topLevel
        let top = models.topLevel, topHop = models.vqvae.hopLengths[top]
        let generator = Generator(models: models)
        let queue = self.queue
        let worker = Thread { [weak self] in
            do {
                let r = try generator.generate(prompt, mode: .ancestral(lowestLevel: lowest), cancel: flag) { event in
                    if case let .windowFinished(level, index, start, length) = event {
                        self?.record(WindowRecord(level: level, window: index, start: start, length: length,
                                                  candidates: [0], kept: 0))
                    }
                    queue.post(.engine(event))
                    // The lyrics a top-level window conditions on, as the model sees them.
                    if case let .windowStarted(level, _, start, _) = event, level == top, let (labeller, song) = labels,
                       let y = try? labeller.y(song, start: start, rawToTokens: topHop).y,
                       let text = try? labeller.describe(y).lyrics {
                        queue.post(.lyricSpan(text))
                    }
                }
                self?.finish(r)
            } catch {
                self?.finish(nil)
                queue.post(.engine(.failed("\(error)")))
            }
        }
        worker.stackSize = 16 << 20
        worker.name = "jukebox-studio engine"
        lock.lock(); thread = worker; lock.unlock()
        worker.start()
    }

    private func record(_ window: WindowRecord) {
        lock.lock(); history.append(window); lock.unlock()
    }

    private func finish(_ r: GenerationResult?) {
        lock.lock(); result = r; running = false; lock.unlock()
    }

    func cancelSampling() {
        lock.lock(); let flag = cancel; lock.unlock()
        flag?.cancel()
    }

    /// Asks a running generation to stop and waits (bounded) for it, so a save sees its last codes.
    func stop(waitingUpTo seconds: Double) {
        cancelSampling()
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { usleep(10_000) }
    }

    // MARK: Saving

    /// Writes the session: session.json with the composer's prompt and history, codes.safetensors with
    /// the codes so far (the finished result, else each lane's contiguous sampled prefix).
    func save(to path: String, state: StudioState, created: Bool) throws {
        let fields = lastFields ?? state.promptFields
        lock.lock()
        let finished = result
        let windows = history
        lock.unlock()

        var codes: [Int: LevelCodes] = [:]
        if let finished {
            for (level, c) in finished.codes.enumerated() where c.t > 0 { codes[level] = c }
        } else {
            for lane in state.lanes {
                let prefix = Array(lane.codes.prefix { $0 >= 0 })
                if !prefix.isEmpty { codes[lane.level] = try LevelCodes(n: 1, t: prefix.count, values: prefix) }
            }
        }
        let document = SessionDocument(
            prompt: SessionPrompt(artist: fields.artist, genre: fields.genre, lyrics: fields.lyrics,
                                  totalSeconds: fields.totalSeconds, sampleSeconds: fields.seconds,
                                  temperatures: fields.temperatures, seed: fields.seed, samples: 1, mode: .ancestral),
            modelSet: (modelPath as NSString).standardizingPath, settings: ["levels": "all", "made_by": "jukebox-studio"],
            seeds: [fields.seed], rngStates: [[fields.seed]])
        var full = document
        full.history = windows
        let folder = created ? SessionFolder(path: path) : try SessionFolder.create(at: path, document: full)
        if !codes.isEmpty { try folder.saveCodes(codes, samples: 1) }
        try folder.save(full)
    }
}
