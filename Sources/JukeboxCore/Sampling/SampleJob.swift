import Foundation

/// `jukebox sample` as a library call: a request resolved, sampled level by level into a session folder
/// that is saved as it goes, and the finest whole level rendered to a WAV per sample. The CLI, the recipe
/// and the evaluations run it with typed options; none of them builds another command's arguments.
public struct SampleJob {
    public enum Levels: String, Sendable { case top, all }

    /// Model set folder; nil: the set of the session being continued, else the bundled one.
    public var model: String?
    public var request: PromptRequest
    /// The reference's temp_top and temp_rest, applied to the request once the set's top level is known.
    public var topTemperature: Double?
    public var upsamplerTemperature: Double?
    public var levels: Levels = .all
    /// Audio to continue (primed mode) and how much of it to keep.
    public var prime: String?
    public var primeSeconds: Double = 4
    /// The session to continue or upsample (its prompt stands in for fields the request leaves out).
    public var session: String?
    /// The session folder to write.
    public var output: String
    /// Primed mode: given the set's folder, the prime's codes at every level, the resolved prompt and a folder
    /// inside the session, writes there a set taught the prime and returns the levels it changed (the CLI
    /// passes the training layer's PrimeAdaptation, which this library does not link). The session then
    /// samples from, and names, that set.
    public var adaptToPrime: ((_ set: String, _ primeCodes: [LevelCodes], _ prompt: GenerationPrompt, _ into: String) throws -> [Int])? = nil
    /// Where in the session folder the set taught the prime is kept.
    public static let adaptedSetFolder = "prime-adapted-set"

    public init(request: PromptRequest, output: String, model: String? = nil) {
        (self.request, self.output, self.model) = (request, output, model)
    }

    /// What a finished run left.
    public struct Outcome {
        public let folder: SessionFolder
        public let document: SessionDocument
        /// One WAV per sample, of `renderedLevel`.
        public let renders: [String]
        public let renderedLevel: Int
    }

    /// A run stopped by `cancel`: its session is kept with the codes sampled so far, unlike a failed one
    /// (whose folder, when the run made it, goes away).
    public struct Interrupted: Error, CustomStringConvertible {
        public let reason: JukeboxError
        public var description: String { reason.description }
    }

    /// - Parameters:
    ///   - log: lines for people (warnings, notes, what was written).
    ///   - events: the generator's events (progress, windows), for a progress display.
    public func run(cancel: CancelFlag = CancelFlag(), log: (String) -> Void = { _ in },
                    events: @escaping (GenerationEvent) -> Void = { _ in }) throws -> Outcome {
        let mode = request.mode
        if adaptToPrime != nil && mode != .primed {
            throw JukeboxError("--adapt-steps", "teaches the set a prime: only --mode primed has one")
        }
        guard primeSeconds > 0, primeSeconds <= PromptResolver.longestSeconds else {
            throw JukeboxError("--prime-seconds", "must be more than 0 and at most \(Int(PromptResolver.longestSeconds)), got \(primeSeconds)")
        }
        // Continuing or upsampling goes on from the session's prompt; a session named otherwise is not read.
        // It is read under a shared lock: never while a studio or another run writes it.
        let source = mode == .continue || mode == .upsample ? session : nil
        if let source, Self.samePlace(source, output) {
            throw JukeboxError("--output", "is the session being \(mode == .continue ? "continued" : "upsampled"); write to a new folder")
        }
        var sourceLock = try source.map { try SessionLock.acquire($0, .read) }
        let earlier = try source.map { try SessionFolder.open($0) }
        var modelPath = try BundledModel.resolve(model ?? earlier?.document.modelSet)
        var set = try ModelSet.load(modelPath)
        let sr = set.vqvae.sampleRate, top = set.topLevel

        var request = self.request
        request.setTemperatures(top: topTemperature, upsamplers: upsamplerTemperature, topLevel: top)
        let primeAudio = try mode == .primed ? readPrime(sampleRate: sr) : nil
        let resolved = try PromptResolver.resolve(request, models: set, session: earlier?.document.prompt, prime: primeAudio)
        for w in resolved.warnings { log("warning: \(w)") }
        for n in resolved.notes { log("note: \(n)") }
        var prompt = resolved.generation

        let lowest = levels == .top ? top : (set.availableLevels.min() ?? top)
        let generationMode = try makeMode(set: set, lowest: lowest, prompt: prompt, prime: primeAudio, earlier: earlier)
        sourceLock?.release()
        sourceLock = nil
        let existed = FileManager.default.fileExists(atPath: output)
        // Held from here on: the set taught the prime is written into the session folder too.
        let lock = try SessionLock.acquire(output, .write, creating: true)
        defer { lock.release() }
        if let adaptToPrime, case .primed(let audio, _) = generationMode {
            // Refused before the minutes of teaching, as creating the session would refuse it after.
            try SessionFolder.refuseExisting(at: output)
            let into = (output as NSString).appendingPathComponent(Self.adaptedSetFolder)
            do {
                let levels = try adaptToPrime(modelPath, try set.vqvae.encode(audio), prompt, into)
                log("note: the set's priors of level\(levels.count == 1 ? "" : "s") \(levels.map(String.init).joined(separator: ", ")) heard the prime first (\(into))")
                (modelPath, set) = (into, try ModelSet.load(into))
            } catch {
                try? FileManager.default.removeItem(atPath: existed ? into : output)
                throw error
            }
        }
        if case let .upsample(topCodes) = generationMode, topCodes.t * set.vqvae.hopLengths[top] != prompt.sampleLength {
            // Upsampling fills exactly what the top level holds.
            prompt.sampleLength = topCodes.t * set.vqvae.hopLengths[top]
            log("note: upsampling the session's \(String(format: "%.2f", Double(prompt.sampleLength) / Double(sr))) s of top-level codes")
        }
        if let (folder, document) = earlier, let pending = document.history.last, pending.kept == nil, pending.candidates.count > 1 {
            log("note: \(folder.path) has \(pending.candidates.count) undecided candidates for its next stretch; they stay there")
        }

        // The session folder exists before any sampling, so a refusing disk fails in seconds, not after.
        let document = SessionDocument(
            prompt: resolved.record, modelSet: (modelPath as NSString).standardizingPath, settings: sessionSettings(),
            seeds: (0..<prompt.samples).map { prompt.seed &+ UInt64($0) }, rngStates: Array(repeating: [prompt.seed], count: prompt.samples))
        let folder: SessionFolder
        do { folder = try SessionFolder.create(at: output, document: document) } catch {
            if !existed { try? FileManager.default.removeItem(atPath: output) }
            throw error
        }
        do {
            let (level, renders) = try generate(prompt, mode: generationMode, set: set, folder: folder, document: document,
                                                cancel: cancel, log: log, events: events)
            return Outcome(folder: folder, document: document, renders: renders, renderedLevel: level)
        } catch let error as Interrupted {
            throw error
        } catch {
            // Sampled work is kept: a failure after codes were saved (rendering, say) leaves the session to
            // continue or upsample. Without any, a folder this run created goes away with what little it holds.
            let kept = (try? folder.loadCodes(samples: prompt.samples, levels: set.vqvae.levels))?.isEmpty == false
            if kept {
                throw JukeboxError(output, "\(error) — the codes sampled before it are kept in this session")
            }
            if !existed { try? FileManager.default.removeItem(atPath: output) }
            throw error
        }
    }

    /// Whether two paths name the same file or folder (after `..`, `.` and links).
    package static func samePlace(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
            == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// What session.json records of the run beyond the prompt: the levels, and the session a continue or
    /// upsample started from (absolute, so the link survives a move of the working folder).
    func sessionSettings() -> [String: String] {
        var settings = ["levels": levels.rawValue]
        if request.mode == .continue || request.mode == .upsample, let session {
            settings["source_session"] = URL(fileURLWithPath: session).standardizedFileURL.path
        }
        return settings
    }

    /// The first `primeSeconds` of `prime`, mono at the set's rate: read once, for its beat and its codes.
    func readPrime(sampleRate sr: Int) throws -> [Float] {
        guard let prime else { throw JukeboxError("--prime", "primed mode needs an audio file to continue") }
        return try AudioFile.readMono(prime, sampleRate: sr, maxSeconds: primeSeconds)
    }

    func generate(_ prompt: GenerationPrompt, mode: GenerationMode, set: ModelSet, folder: SessionFolder, document: SessionDocument,
                  cancel: CancelFlag, log: (String) -> Void, events: @escaping (GenerationEvent) -> Void) throws -> (Int, [String]) {
        let sr = set.vqvae.sampleRate
        var history: [WindowRecord] = []
        // Finished windows go to disk as sampling goes, codes first, then the history that describes them, so a
        // kill -9 loses at most the window under way (and, where windows take less, the last two seconds' worth:
        // rewriting the session after each of a tiny model's 100-a-second windows would cost more than sampling
        // them); --mode continue goes on from the last window kept.
        var lastSave = Date()
        func checkpoint(_ codes: [LevelCodes]) throws {
            guard Date().timeIntervalSince(lastSave) >= 2 else { return }
            try save(codes)
            lastSave = Date()
        }
        // The levels that hold codes so far, by level (what a session's codes file keeps).
        func held(_ codes: [LevelCodes]) -> [Int: LevelCodes] {
            Dictionary(uniqueKeysWithValues: codes.enumerated().filter { $0.element.t > 0 }.map { ($0.offset, $0.element) })
        }
        func save(_ codes: [LevelCodes]) throws {
            var sofar = document
            sofar.history = history
            try folder.save(sofar, codes: held(codes), samples: prompt.samples)
        }
        let result = try Generator(models: set).generate(prompt, mode: mode, cancel: cancel, checkpoint: checkpoint) { event in
            if case let .windowFinished(level, index, start, length) = event {
                history.append(WindowRecord(level: level, window: index, start: start, length: length, candidates: [0], kept: 0))
            }
            events(event)
        }
        let byLevel = held(result.codes)
        try save(result.codes)

        if result.cancelled {
            let kept = byLevel.sorted { $0.key > $1.key }.map { "level \($0.key): \($0.value.t) codes" }.joined(separator: ", ")
            throw Interrupted(reason: JukeboxError(folder.path, "interrupted; kept \(kept.isEmpty ? "nothing yet" : kept) — continue with --mode continue --session \(folder.path)"))
        }
        // The finest level that holds the whole clip: below --levels top, a prime's or an earlier session's
        // codes cover only their own part of it.
        let whole = prompt.sampleLength
        guard let finest = byLevel.filter({ $0.value.t * set.vqvae.hopLengths[$0.key] >= whole }).keys.min(),
              let codes = byLevel[finest] else {
            throw JukeboxError(folder.path, "nothing was sampled")
        }
        let audio = try set.vqvae.decode(codes, level: finest)
        let t = audio.shape[1]
        var renders: [String] = []
        for i in 0..<prompt.samples {
            let path = folder.renderPath(level: finest, sample: i)
            try AudioFile.writeWAV(path, samples: Array(UnsafeBufferPointer(start: audio.data + i * t, count: t)), sampleRate: sr)
            log("wrote \(path) (\(String(format: "%.2f", Double(t) / Double(sr))) s, level \(finest))")
            renders.append(path)
        }
        return (finest, renders)
    }

    func makeMode(set: ModelSet, lowest: Int, prompt: GenerationPrompt, prime audio: [Float]?,
                  earlier: (folder: SessionFolder, document: SessionDocument)?) throws -> GenerationMode {
        switch request.mode {
        case .ancestral:
            return .ancestral(lowestLevel: lowest)
        case .primed:
            guard let prime, let audio else { throw JukeboxError("--prime", "primed mode needs an audio file to continue") }
            let hop = set.vqvae.hopLengths[set.topLevel]
            let keep = audio.count / hop * hop
            guard keep > 0 else { throw JukeboxError(prime, "too short to prime with (need at least \(hop) samples)") }
            guard keep < prompt.sampleLength else {
                throw JukeboxError("--prime-seconds", "the prime (\(keep) samples) must be shorter than --seconds")
            }
            return .primed(audio: Tensor(shape: [1, keep, 1], values: Array(audio.prefix(keep))), lowestLevel: lowest)
        case .continue, .upsample:
            guard let (folder, document) = earlier else {
                throw JukeboxError("--session", "\(request.mode.rawValue) mode needs an earlier session's folder")
            }
            guard document.prompt.samples == prompt.samples else {
                throw JukeboxError("--samples", "is \(prompt.samples) but the session \(folder.path) holds \(document.prompt.samples)")
            }
            let codes = try folder.loadCodes(for: document, levels: set.vqvae.levels)
            if request.mode == .upsample {
                guard let topCodes = codes[set.topLevel] else { throw JukeboxError(folder.codesPath, "holds no top-level codes to upsample") }
                return .upsample(top: topCodes)
            }
            return .continuation((0..<set.vqvae.levels).map { codes[$0] ?? (try? LevelCodes(n: prompt.samples, t: 0, values: [])) }
                .compactMap { $0 }, lowestLevel: lowest)
        }
    }

    /// Lyrics typed, or `@FILE` read: a file bounded before it is read (typed lyrics are bounded where every
    /// prompt is resolved).
    public static func lyricsText(_ value: String) throws -> String {
        guard value.hasPrefix("@") else { return value }
        let path = String(value.dropFirst())
        if let size = Download.fileSize(path), size > PromptResolver.longestLyricsBytes {
            throw JukeboxError(path, "\(size) bytes is too long for lyrics (at most \(PromptResolver.longestLyricsBytes))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "cannot read the lyrics file") }
        guard let text = String(data: data, encoding: .utf8) else { throw JukeboxError(path, "lyrics are not UTF-8 text") }
        return text
    }
}
