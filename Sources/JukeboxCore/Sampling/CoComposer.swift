import Foundation

/// Co-composition on the top level (the reference notebook's loop): draw K candidates for the next
/// stretch, all continuing the kept line; keep one (or resample, or undo); when the line is done,
/// upsample it. Every round draws from its own seed (base seed and round number), so resampling gives
/// new candidates and the same base seed replays the same session.
public final class CoComposer {
    public let generator: Generator
    /// Labels and settings; `samples`, `sampleLength` and `seed` are set per round.
    public private(set) var prompt: GenerationPrompt
    public let level: Int
    /// The kept line: one row of top-level codes (t = 0 before anything is kept).
    public private(set) var kept: LevelCodes
    /// The candidates of the current round (rows), and their ids in `history`.
    public private(set) var current: (codes: LevelCodes, ids: [Int])?
    /// Every round's candidates and the one kept, in order (a log: undo does not erase it).
    public private(set) var history: [WindowRecord] = []
    /// Rounds drawn so far; round r samples with `roundSeed(r)`.
    public private(set) var round = 0
    private var undoStack: [LevelCodes] = []
    private var nextID = 0
    /// Stretches kept so far (the window index of the next stretch).
    private var stretch = 0
    private var lastRequest: (count: Int, tokens: Int)?

    public init(generator: Generator, prompt: GenerationPrompt, kept: LevelCodes? = nil) throws {
        self.generator = generator
        self.prompt = prompt
        level = generator.models.topLevel
        let start = kept ?? LevelCodes(n: 1, t: 0, uncheckedValues: [])
        guard start.n == 1 else { throw JukeboxError("codes", "the kept line is one row of codes (got \(start.n) rows)") }
        let bins = generator.models.vqvae.codebookSize
        guard start.values.allSatisfy({ $0 >= 0 && $0 < bins }) else {
            throw JukeboxError("codes", "the kept line holds codes outside 0..<\(bins)")
        }
        self.kept = start
    }

    /// Decode each finished window while drawing candidates or upsampling (`audioDecoded` events, one
    /// audio row per candidate), so they can be heard before the round ends. The codes are the same.
    public var renderWhileSampling: Bool {
        get { prompt.renderWhileSampling }
        set { prompt.renderWhileSampling = newValue }
    }

    /// Codes per second at the top level.
    public var tokensPerSecond: Double {
        Double(generator.models.vqvae.sampleRate) / Double(generator.models.vqvae.hopLengths[level])
    }

    public func roundSeed(_ round: Int) -> UInt64 {
        var mix = SeededGenerator(seed: prompt.seed ^ (UInt64(truncatingIfNeeded: round) &* 0xA24B_AED4_963E_E407))
        return mix.next()
    }

    /// K candidates, each one row: the kept line plus `tokens` new top-level codes.
    public func candidates(count: Int, tokens: Int, cancel: CancelFlag? = nil,
                           events: ((GenerationEvent) -> Void)? = nil) throws -> [LevelCodes] {
        guard count >= 1 else { throw JukeboxError("candidates", "need at least one candidate (got \(count))") }
        guard tokens >= 1 else { throw JukeboxError("tokens", "need at least one code to add (got \(tokens))") }
        var p = prompt
        p.samples = count
        p.firstSampleIndex = 0
        p.sampleLength = (kept.t + tokens) * generator.models.vqvae.hopLengths[level]
        p.seed = roundSeed(round)
        let result = try generator.continueLevel(p, level: level, codes: kept, cancel: cancel, events: events)
        if result.cancelled { throw JukeboxError("candidates", "cancelled; the kept line is unchanged") }
        let ids = Array(nextID..<(nextID + count))
        nextID += count
        round += 1
        lastRequest = (count, tokens)
        current = (result.codes, ids)
        history.append(WindowRecord(level: level, window: stretch, start: kept.t, length: tokens, candidates: ids, kept: nil))
        return Self.split(result.codes)
    }

    static func split(_ codes: LevelCodes) -> [LevelCodes] {
        (0..<codes.n).map { LevelCodes(n: 1, t: codes.t, uncheckedValues: Array(codes.row($0))) }
    }

    /// Candidates for `seconds` of new audio (rounded up to whole top-level codes).
    public func candidates(count: Int, seconds: Double, cancel: CancelFlag? = nil,
                           events: ((GenerationEvent) -> Void)? = nil) throws -> [LevelCodes] {
        guard seconds > 0, seconds.isFinite else { throw JukeboxError("seconds", "must be positive (got \(seconds))") }
        return try candidates(count: count, tokens: Int((seconds * tokensPerSecond).rounded(.up)), cancel: cancel, events: events)
    }

    /// New candidates for the same stretch (the next round's seed).
    public func resample(cancel: CancelFlag? = nil, events: ((GenerationEvent) -> Void)? = nil) throws -> [LevelCodes] {
        guard let last = lastRequest, current != nil else { throw JukeboxError("resample", "no candidates drawn yet") }
        return try candidates(count: last.count, tokens: last.tokens, cancel: cancel, events: events)
    }

    /// Candidate `index` of the current round becomes the kept line.
    public func keep(_ index: Int) throws {
        guard let current else { throw JukeboxError("keep", "no candidates to keep from") }
        guard index >= 0, index < current.codes.n else {
            throw JukeboxError("keep", "candidate \(index) is outside 0..<\(current.codes.n)")
        }
        undoStack.append(kept)
        kept = LevelCodes(n: 1, t: current.codes.t, uncheckedValues: Array(current.codes.row(index)))
        history[history.count - 1].kept = current.ids[index]
        self.current = nil
        stretch += 1
    }

    public var canUndo: Bool { !undoStack.isEmpty }

    /// Back to the line kept before the last keep (the candidates of the current round are dropped).
    public func undo() throws {
        guard let previous = undoStack.popLast() else { throw JukeboxError("undo", "nothing to undo") }
        kept = previous
        current = nil
        stretch -= 1
    }

    /// Fills every level below the top for the kept line; codes bottom first, the top as kept.
    public func upsample(settings: [SamplingSettings]? = nil, seed: UInt64? = nil, cancel: CancelFlag? = nil,
                         events: ((GenerationEvent) -> Void)? = nil) throws -> GenerationResult {
        guard kept.t > 0 else { throw JukeboxError("upsample", "the kept line is empty") }
        var p = prompt
        p.samples = 1
        p.firstSampleIndex = 0
        p.sampleLength = kept.t * generator.models.vqvae.hopLengths[level]
        if let settings { p.settings = settings }
        if let seed { p.seed = seed }
        return try generator.generate(p, mode: .upsample(top: kept), cancel: cancel, events: events)
    }
}

// MARK: Sessions

extension CoComposer {
    public static let roundKey = "cocompose.round", nextIDKey = "cocompose.next_id", undoKey = "cocompose.undo"

    /// Saves the kept line and the history of candidates into a session (autosave after every keep):
    /// the kept codes as z{level} (one row), the history in session.json, and what undo needs — every
    /// line on the undo stack is a prefix of the kept line, so their lengths suffice.
    /// Writes the undecided round's candidates, then the codes (the kept line and `lowerLevels`) and the
    /// document that describes them as one change (SessionFolder.save(_:codes:samples:)).
    public func save(to folder: SessionFolder, document: SessionDocument, lowerLevels: [Int: LevelCodes] = [:]) throws {
        var doc = document
        doc.history = history
        doc.settings[Self.roundKey] = "\(round)"
        doc.settings[Self.nextIDKey] = "\(nextID)"
        doc.settings[Self.undoKey] = undoStack.map { "\($0.t)" }.joined(separator: ",")
        var codes = lowerLevels
        codes[level] = kept.t > 0 ? kept : nil
        if let current {
            try folder.savePending(PendingCandidates(level: level, codes: current.codes, ids: current.ids, start: kept.t))
        }
        try folder.save(doc, codes: codes, samples: 1)
        if current == nil { try folder.savePending(nil) }
    }

    /// Reopens a co-composition saved by save(to:document:): the kept line, its history, undo and rounds.
    public convenience init(generator: Generator, prompt: GenerationPrompt, session folder: SessionFolder) throws {
        let doc = try folder.loadDocument()
        // The codes this document names (asking the folder would read session.json a second time).
        let codes = try folder.loadCodes(from: folder.codesPath(for: doc), samples: 1, levels: generator.models.vqvae.levels)
        try self.init(generator: generator, prompt: prompt, kept: codes[generator.models.topLevel])
        func number(_ key: String) throws -> Int {
            guard let text = doc.settings[key] else { return 0 }
            guard let n = Int(text), n >= 0 else { throw JukeboxError(folder.documentPath, "settings.\(key) is \(text), not a count") }
            return n
        }
        round = try number(Self.roundKey)
        nextID = try number(Self.nextIDKey)
        history = doc.history
        let lengths = try (doc.settings[Self.undoKey] ?? "").split(separator: ",").map { part -> Int in
            guard let t = Int(part), t >= 0, t <= kept.t else {
                throw JukeboxError(folder.documentPath, "settings.\(Self.undoKey) holds \(part), not a prefix of the kept line")
            }
            return t
        }
        undoStack = lengths.map { LevelCodes(n: 1, t: $0, uncheckedValues: Array(kept.values.prefix($0))) }
        stretch = undoStack.count
        // The round being decided when the session was saved (or killed) is on the table again.
        if let record = history.last, let pending = try folder.loadPending(), pending.belong(to: record, kept: kept) {
            current = (pending.codes, pending.ids)
            lastRequest = (pending.ids.count, record.length)
        }
    }
}
