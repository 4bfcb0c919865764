import Foundation
import JukeboxCore

/// Names the studio adds to a session's settings (beside CoComposer's own).
public enum SessionKeys {
    public static let candidates = "studio.candidates"
    public static let madeBy = "made_by"
}

/// A co-composition tied to its session folder: the format `jukebox sample` writes, so a session started
/// in one opens in the other. Not thread-safe: the studio's engine thread owns it (the UI thread only
/// touches it while no engine job runs).
public final class StudioSession {
    public let folder: SessionFolder
    public let composer: CoComposer
    public let fields: PromptFields
    public let prompt: ResolvedPrompt
    private let document: SessionDocument
    /// This process is the session's one writer while the studio has it open.
    private let lock: SessionLock
    /// Codes of the levels below the top (from an upsample, or from `jukebox sample`) and the top-level
    /// line they were made from: saved along while the kept line still begins with that line.
    private var lower: (codes: [Int: LevelCodes], top: [Int])?

    init(folder: SessionFolder, composer: CoComposer, fields: PromptFields, prompt: ResolvedPrompt, document: SessionDocument,
         lower: (codes: [Int: LevelCodes], top: [Int])?, lock: SessionLock) {
        (self.folder, self.composer, self.fields, self.prompt, self.document, self.lower, self.lock) =
            (folder, composer, fields, prompt, document, lower, lock)
    }

    /// A new session at `path`, written at once so that a crash before the first keep still leaves it.
    public static func create(at path: String, fields: PromptFields, models: ModelSet, modelPath: String) throws -> StudioSession {
        let prompt = try PromptResolver.resolve(fields.request, models: models, naming: .words, blankNames: true)
        let top = models.topLevel
        var settings = ["levels": "all", SessionKeys.madeBy: "jukebox-studio", SessionKeys.candidates: "\(fields.candidates)"]
        settings["top_level"] = "\(top)"
        let document = SessionDocument(
            prompt: prompt.record, modelSet: (modelPath as NSString).standardizingPath, settings: settings,
            seeds: [prompt.record.seed], rngStates: [[prompt.record.seed]])
        let lock = try SessionLock.acquire(path, .write, creating: true)
        let folder = try SessionFolder.create(at: path, document: document)
        let composer = try CoComposer(generator: Generator(models: models), prompt: prompt.generation)
        let session = StudioSession(folder: folder, composer: composer, fields: fields, prompt: prompt, document: document, lower: nil,
                                    lock: lock)
        try session.save()
        return session
    }

    /// Reopens a session made by the studio or by `jukebox sample` (one sample): the kept line is its
    /// top-level codes, the history its log, and the composer's prompt its prompt.
    public static func open(_ path: String, models: ModelSet) throws -> StudioSession {
        // Locked before anything is read: another process's half-done save is never taken in.
        let lock = try SessionLock.acquire(path, .write)
        let (folder, document) = try SessionFolder.open(path)
        guard document.prompt.samples == 1 else {
            throw JukeboxError(folder.documentPath, "holds \(document.prompt.samples) samples; the studio opens one-sample sessions")
        }
        // Exactly what the session recorded: nothing asked, every field from its prompt.
        let prompt = try PromptResolver.resolve(PromptRequest(mode: document.prompt.mode), models: models,
                                                session: document.prompt, naming: .words, blankNames: true)
        var fields = PromptFields(document, levels: models.levels)
        fields.bpm = prompt.record.bpm
        fields.barGuidance = prompt.record.barGuidance
        fields.genreGuidance = prompt.record.genreGuidance
        let composer = try CoComposer(generator: Generator(models: models), prompt: prompt.generation, session: folder)
        // A session the studio did not make (`jukebox sample`'s) is checked against its history: codes that are
        // missing or shorter than the windows it records are named, never opened as an empty line. The studio's
        // own sessions are checked by their undo lengths (an undone keep stays in the history, past the line).
        let codes = document.settings[CoComposer.undoKey] == nil
            ? try folder.loadCodes(for: document, levels: models.vqvae.levels)
            : try folder.loadCodes(samples: 1, levels: models.vqvae.levels)
        let below = codes.filter { $0.key != models.topLevel && $0.value.t > 0 }
        let lower = below.isEmpty ? nil : (codes: below, top: composer.kept.values)
        return StudioSession(folder: folder, composer: composer, fields: fields, prompt: prompt, document: document, lower: lower,
                             lock: lock)
    }

    /// Lets other processes have the session (the studio leaves it, or opens another).
    public func close() { lock.release() }

    /// Top priors up to this size are read for the lyrics' timing in passing (the bundled one takes a second for a
    /// minute of song); a published prior takes many minutes, which `jukebox export` spends on request.
    public static let alignInPassingParameters = 100_000_000

    /// When the saved song sings each line and word: alignment.json when it belongs to the saved codes, else made
    /// now (and saved) when the top prior is small enough; nil when neither.
    public func timedLyrics(models: ModelSet) throws -> LyricAlignment? {
        let document = try folder.loadDocument()
        if let saved = try SessionAlignment.saved(folder: folder, document: document) { return saved.samples.first }
        let prior = try models.lyricTimingPrior()
        guard try Prior.parameterCount(hps: prior.hps) <= Self.alignInPassingParameters else { return nil }
        let made = try SessionAlignment.compute(folder: folder, document: document, models: models)
        try made.save(folder)
        return made.samples.first
    }

    /// What the studio shows of the composer now.
    public var composition: Composition {
        let start = composer.kept.t
        let pending = composer.current.map { current in (0..<current.codes.n).map { Array(current.codes.row($0).dropFirst(start)) } }
        var composition = Composition(kept: composer.kept.values, log: composer.history, level: composer.level,
                                      canUndo: composer.canUndo, pending: pending ?? [])
        if let lower, composer.kept.values.starts(with: lower.top) {
            composition.lowerLengths = lower.codes.mapValues(\.t)
        }
        return composition
    }

    /// The whole song so far at `level`: the kept line at the top, the upsampled codes below (while they
    /// still belong to the kept line); nil where the level holds nothing.
    public func songCodes(level: Int) -> [Int]? {
        if level == composer.level { return composer.kept.t > 0 ? composer.kept.values : nil }
        guard let lower, composer.kept.values.starts(with: lower.top), let codes = lower.codes[level], codes.t > 0 else { return nil }
        return Array(codes.row(0))
    }

    /// Top-level codes per stretch (the composer's "seconds"), and what the song's length leaves.
    public var stretchTokens: Int { max(1, Int((fields.seconds * composer.tokensPerSecond).rounded(.up))) }
    public var remainingTokens: Int { max(0, Int(fields.totalSeconds * composer.tokensPerSecond) - composer.kept.t) }
    public var keptSeconds: Double { Double(composer.kept.t) / composer.tokensPerSecond }

    /// Candidates for the next stretch (shorter at the song's end); each is only the new stretch's codes.
    public func drawCandidates(cancel: CancelFlag?, events: ((GenerationEvent) -> Void)?) throws -> [[Int]] {
        let start = composer.kept.t
        let list = try composer.candidates(count: fields.candidates, tokens: min(stretchTokens, remainingTokens),
                                           cancel: cancel, events: events)
        return list.map { Array($0.values.dropFirst(start)) }
    }

    public func resample(cancel: CancelFlag?, events: ((GenerationEvent) -> Void)?) throws -> [[Int]] {
        let start = composer.kept.t
        return try composer.resample(cancel: cancel, events: events).map { Array($0.values.dropFirst(start)) }
    }

    /// Writes session.json and codes.safetensors (atomically): the kept line, the log, undo and rounds,
    /// and the lower levels while they still belong to the kept line.
    public func save() throws {
        if let lower, !composer.kept.values.starts(with: lower.top) { self.lower = nil }
        var below = lower?.codes ?? [:]
        below[composer.level] = nil
        try composer.save(to: folder, document: document, lowerLevels: below)
    }

    /// Levels below the top for the kept line, saved with it, and level 0 rendered to a WAV in the folder.
    public func upsample(cancel: CancelFlag?, events: ((GenerationEvent) -> Void)?) throws -> String? {
        let result = try composer.upsample(cancel: cancel, events: events)
        if result.cancelled { throw JukeboxError("upsample", "cancelled; nothing below the top level was kept") }
        var below: [Int: LevelCodes] = [:]
        for (level, c) in result.codes.enumerated() where level != composer.level && c.t > 0 { below[level] = c }
        lower = (below, composer.kept.values)
        try save()
        guard let finest = below.keys.min(), let codes = below[finest] else { return nil }
        let vqvae = composer.generator.models.vqvae
        let audio = try vqvae.decode(codes, level: finest)
        let path = folder.renderPath(level: finest, sample: 0)
        try AudioFile.writeWAV(path, samples: Array(UnsafeBufferPointer(start: audio.data, count: audio.shape[1])),
                               sampleRate: vqvae.sampleRate)
        return path
    }

    /// The line for the recent-sessions list.
    public func recentEntry(savedAt: Date = Date()) -> RecentSession {
        let f = ISO8601DateFormatter()
        return RecentSession(path: RecentSessionsFile.absolute(folder.path), genre: fields.genre, artist: fields.artist,
                             keptSeconds: keptSeconds, savedAt: f.string(from: savedAt))
    }
}
