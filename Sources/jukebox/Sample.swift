import ArgumentParser
import Foundation
import JukeboxCore

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate music: sample codes level by level and render a WAV per sample into a session folder.")

    @Option(help: "Model set folder (vqvae, prior_level_2, prior_level_1, prior_level_0); default: the bundled model.")
    var model: String?
    @Option(help: "Genre, as the model's genre list names it.") var genre: String
    @Option(help: "Artist, as the model's artist list names it.") var artist: String
    @Option(help: "Lyrics text, or @FILE to read them from a file.") var lyrics: String = ""
    @Option(parsing: .unconditional, help: "Seconds of audio to sample.") var seconds: Double
    @Option(name: .customLong("total-seconds"), parsing: .unconditional, help: "Length of the whole song the labels describe (default: the model set's song length, else 2 × --seconds, at least 60).")
    var totalSeconds: Double?
    @Option(parsing: .unconditional, help: "Number of samples, drawn together.") var samples: Int = 1
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "ancestral, primed, continue or upsample.") var mode: String = "ancestral"
    @Option(help: "Audio to continue (primed mode).") var prime: String?
    @Option(name: .customLong("prime-seconds"), parsing: .unconditional, help: "Seconds of --prime to keep.") var primeSeconds: Double = 4
    @Option(help: "Earlier session whose codes to continue or upsample.") var session: String?
    @Option(help: "top (the top level only) or all.") var levels: String = "all"
    @Option(name: .customLong("temp-top"), parsing: .unconditional, help: "Temperature at the top level (default: the model set's, else 0.98).")
    var tempTop: Double?
    @Option(name: .customLong("temp-rest"), parsing: .unconditional, help: "Temperature of the upsamplers (default: the model set's, else 0.99).")
    var tempRest: Double?
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Draw each code from the k likeliest only (0: from all).") var topK: Int = 0
    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Draw each code from the likeliest whose probabilities add up to p (0: from all).")
    var topP: Double = 0
    @Option(parsing: .unconditional, help: "Tempo for a top prior with a bar clock, beats a minute (default: the artist's in the model set's corpus).")
    var bpm: Double?
    @Option(parsing: .unconditional, help: "Where a bar starts, in seconds from the song's start (default: 0, or with --prime the first beat heard in it).")
    var downbeat: Double?
    @Option(name: .customLong("bar-guidance"), parsing: .unconditional, help: "How strongly the model set's bar guide keeps the top level's codes on the bar (0: off; default: the set's).")
    var barGuidance: Double?
    @Option(name: .shortAndLong, help: "Output folder: becomes a session folder.") var output: String

    func run() throws {
        guard let sessionMode = SessionMode(rawValue: mode) else {
            throw JukeboxError("--mode", "unknown mode \(mode) (ancestral, primed, continue or upsample)")
        }
        guard levels == "top" || levels == "all" else { throw JukeboxError("--levels", "is \(levels); use top or all") }
        guard seconds > 0, seconds <= Self.longestSeconds else {
            throw JukeboxError("--seconds", "must be more than 0 and at most \(Int(Self.longestSeconds)) (an hour), got \(seconds)")
        }
        if let totalSeconds, !(totalSeconds > 0 && totalSeconds.isFinite) {
            throw JukeboxError("--total-seconds", "must be a length in seconds, got \(totalSeconds)")
        }
        guard primeSeconds > 0, primeSeconds <= Self.longestSeconds else {
            throw JukeboxError("--prime-seconds", "must be more than 0 and at most \(Int(Self.longestSeconds)), got \(primeSeconds)")
        }
        guard samples >= 1, samples <= 64 else { throw JukeboxError("--samples", "must be between 1 and 64") }
        if let downbeat, !(downbeat >= 0 && downbeat.isFinite) { throw JukeboxError("--downbeat", "must be a time in seconds, 0 or more") }
        if let barGuidance, !(barGuidance >= 0 && barGuidance <= 10) {
            throw JukeboxError("--bar-guidance", "must be between 0 and 10, got \(barGuidance)")
        }
        let lyricText = try Self.lyricsText(lyrics)
        // No --model: the set of the session being continued, else the bundled one.
        let sessionSet = self.model == nil ? session.flatMap { try? SessionFolder.open($0).1.modelSet } : nil
        let model = try BundledModel.resolve(self.model ?? sessionSet)
        let set = try ModelSet.load(model)
        let sr = set.vqvae.sampleRate, top = set.topLevel
        let topHop = set.vqvae.hopLengths[top]
        let sampleLength = Int(seconds * Double(sr)) / topHop * topHop
        guard sampleLength > 0 else { throw JukeboxError("--seconds", "\(seconds) s is shorter than one top-level code (\(topHop) samples)") }
        let defaults = set.samplingDefaults
        let total = totalSeconds ?? defaults.totalSeconds(sampling: seconds)
        guard total >= seconds else { throw JukeboxError("--total-seconds", "\(total) is shorter than --seconds \(seconds)") }
        // The top prior's timing signal describes songs up to max_duration; past it there is no label to give.
        let topConfig = try set.prior(level: top).prior.config
        if topConfig.includeTimeSignal, total > topConfig.maxDuration {
            throw JukeboxError(totalSeconds == nil ? "--seconds" : "--total-seconds",
                               "a song of \(total) s is longer than this model's timing signal allows (\(topConfig.maxDuration) s)"
                               + (totalSeconds == nil ? "; the song is twice --seconds unless --total-seconds says otherwise" : ""))
        }
        if let downbeat, downbeat > total { throw JukeboxError("--downbeat", "\(downbeat) s lies past the song's end (\(total) s)") }

        // Labels: names to ids (unknown names warn and suggest), lyrics cleaned to the model's vocabulary.
        let topPrior = try set.prior(level: top)
        var prompt: GenerationPrompt
        var tempo: Double? = nil, barStart: Double? = nil
        let settings = (0...top).map {
            SamplingSettings(temperature: $0 == top ? tempTop ?? defaults.top : tempRest ?? defaults.upsamplers, topK: topK, topP: topP)
        }
        for s in settings { try s.validate() }
        if let vocabulary = set.vocabularies[top] {
            let layout = try LabelLayout(hps: topPrior.hps)
            let labeller = Labeller(vocabulary: vocabulary, layout: layout, sampleLength: topPrior.nCtx * topHop)
            // Continuing a session keeps its bars unless told otherwise.
            let earlier = sessionMode == .continue || sessionMode == .upsample ? session.flatMap { try? SessionFolder.open($0).1.prompt } : nil
            let downbeat = self.downbeat ?? earlier?.downbeat
            if layout.barClock || set.barGuide != nil {
                tempo = defaults.tempo(typed: artist, vocabulary: vocabulary, bpm: bpm ?? earlier?.bpm)
            } else if bpm != nil {
                Log.note("note: this model set has neither a bar clock nor a bar guide, so --bpm changes nothing")
            }
            var clock = try tempo.map { try BarClock(bpm: $0, sampleRate: Double(sr), downbeat: Int(((downbeat ?? 0) * Double(sr)).rounded())) }
            if sessionMode == .primed, tempo != nil, downbeat == nil, let prime {
                // The bars must go on where the prime's beats are, not where the artist's songs start.
                (tempo, clock) = try Self.primeBeat(prime, sampleRate: sr, seconds: primeSeconds, bpm: bpm, artistTempo: tempo!)
            }
            let resolved = try labeller.resolve(artist: artist, genre: genre, lyrics: lyricText, totalLength: Int(total * Double(sr)),
                                                barClock: clock)
            for w in resolved.warnings { Log.note("warning: \(w)") }
            if !resolved.lyrics.dropped.isEmpty { Log.note("note: the model cannot see \(resolved.lyrics.droppedSummary)") }
            prompt = GenerationPrompt(artistID: resolved.song.artistID, genreIDs: resolved.song.genreIDs,
                                      lyricTokens: resolved.song.fullTokens, totalLength: resolved.song.totalLength,
                                      sampleLength: sampleLength, settings: settings, seed: seed, samples: samples)
            prompt.barClock = clock
            barStart = clock.map { Double($0.downbeat) / Double(sr) }
            if set.barGuide != nil { prompt.barGuidance = barGuidance ?? defaults.barGuidance }
        } else {
            prompt = GenerationPrompt(artistID: 0, genreIDs: [], lyricTokens: [], totalLength: Int(total * Double(sr)),
                                      sampleLength: sampleLength, settings: settings, seed: seed, samples: samples)
        }

        let lowest = levels == "top" ? top : (set.availableLevels.min() ?? top)
        let generationMode = try makeMode(sessionMode, set: set, lowest: lowest, sampleLength: sampleLength)
        if case let .upsample(topCodes) = generationMode, topCodes.t * topHop != sampleLength {
            // Upsampling fills exactly what the top level holds.
            prompt.sampleLength = topCodes.t * topHop
            Log.note("note: upsampling the session's \(String(format: "%.2f", Double(prompt.sampleLength) / Double(sr))) s of top-level codes")
        }

        // The session folder exists before any sampling, so a refusing disk fails in seconds, not after.
        let document = SessionDocument(
            prompt: SessionPrompt(artist: artist, genre: genre, lyrics: lyricText, totalSeconds: total, sampleSeconds: seconds,
                                  temperatures: settings.map(\.temperature), topK: topK == 0 ? nil : topK,
                                  topP: topP == 0 ? nil : topP, seed: seed, samples: samples, mode: sessionMode, bpm: tempo,
                                  downbeat: barStart.flatMap { $0 > 0 ? $0 : nil },
                                  barGuidance: prompt.barGuidance > 0 ? prompt.barGuidance : nil),
            modelSet: (model as NSString).standardizingPath, settings: sessionSettings(sessionMode),
            seeds: (0..<samples).map { seed &+ UInt64($0) }, rngStates: Array(repeating: [seed], count: samples))
        let existed = FileManager.default.fileExists(atPath: output)
        let folder = try SessionFolder.create(at: output, document: document)
        do {
            try generate(prompt, mode: generationMode, set: set, folder: folder, document: document)
        } catch let error as Interrupted {
            throw error.reason
        } catch {
            // Nothing half-written: a folder this run created goes away with its partial contents.
            if !existed { try? FileManager.default.removeItem(atPath: output) }
            throw error
        }
    }

    /// What session.json records of the run beyond the prompt: the levels, and the session a continue or
    /// upsample started from (absolute, so the link survives a move of the working folder).
    func sessionSettings(_ mode: SessionMode) -> [String: String] {
        var settings = ["levels": levels]
        if mode == .continue || mode == .upsample, let session {
            settings["source_session"] = URL(fileURLWithPath: session).standardizedFileURL.path
        }
        return settings
    }

    /// The longest clip or prime taken, in seconds: an hour (a bound before anything is allocated).
    static let longestSeconds = 3600.0

    func generate(_ prompt: GenerationPrompt, mode generationMode: GenerationMode, set: ModelSet, folder: SessionFolder,
                  document: SessionDocument) throws {
        let sr = set.vqvae.sampleRate

        // Ctrl-C stops sampling within a token and keeps what exists: the session can be continued.
        let cancel = CancelFlag()
        let interrupts = InterruptRequests([SIGINT, SIGTERM, SIGHUP], cancelling: cancel)
        defer { interrupts.stop() }

        var bars: [Int: Progress.Bar] = [:]
        var history: [WindowRecord] = []
        var reported: Set<Int> = []
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
        func save(_ codes: [LevelCodes]) throws {
            var byLevel: [Int: LevelCodes] = [:]
            for (level, c) in codes.enumerated() where c.t > 0 { byLevel[level] = c }
            try folder.saveCodes(byLevel, samples: samples)
            var sofar = document
            sofar.history = history
            try folder.save(sofar)
        }
        let result = try Generator(models: set).generate(prompt, mode: generationMode, cancel: cancel, checkpoint: checkpoint) { event in
            switch event {
            case let .progress(level, done, total, rate, eta):
                let bar = bars[level] ?? Progress.Bar("level \(level)", total: total)
                bars[level] = bar
                bar.update(done, unit: "tok")
                if !Progress.isTerminal && done == total && reported.insert(level).inserted {
                    Log.note(String(format: "level %d: %d tokens at %.1f tokens/s", level, total, rate))
                }
                _ = eta
            case let .windowFinished(level, index, start, length):
                history.append(WindowRecord(level: level, window: index, start: start, length: length, candidates: [0], kept: 0))
            default:
                break
            }
        }
        var byLevel: [Int: LevelCodes] = [:]
        for (level, codes) in result.codes.enumerated() where codes.t > 0 { byLevel[level] = codes }
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
        for i in 0..<samples {
            let path = folder.renderPath(level: finest, sample: i)
            try AudioFile.writeWAV(path, samples: Array(UnsafeBufferPointer(start: audio.data + i * t, count: t)), sampleRate: sr)
            Log.note("wrote \(path) (\(String(format: "%.2f", Double(t) / Double(sr))) s, level \(finest))")
        }
    }

    func makeMode(_ mode: SessionMode, set: ModelSet, lowest: Int, sampleLength: Int) throws -> GenerationMode {
        switch mode {
        case .ancestral:
            return .ancestral(lowestLevel: lowest)
        case .primed:
            guard let prime else { throw JukeboxError("--prime", "primed mode needs an audio file to continue") }
            var x = try AudioFile.readMono(prime, sampleRate: set.vqvae.sampleRate)
            let hop = set.vqvae.hopLengths[set.topLevel]
            let keep = min(x.count, Int(primeSeconds * Double(set.vqvae.sampleRate))) / hop * hop
            guard keep > 0 else { throw JukeboxError(prime, "too short to prime with (need at least \(hop) samples)") }
            guard keep < sampleLength else {
                throw JukeboxError("--prime-seconds", "the prime (\(keep) samples) must be shorter than --seconds")
            }
            x = Array(x.prefix(keep))
            return .primed(audio: Tensor(shape: [1, keep, 1], values: x), lowestLevel: lowest)
        case .continue, .upsample:
            guard let session else { throw JukeboxError("--session", "\(mode.rawValue) mode needs an earlier session's folder") }
            let (earlier, doc) = try SessionFolder.open(session)
            guard doc.prompt.samples == samples else {
                throw JukeboxError("--samples", "is \(samples) but the session \(session) holds \(doc.prompt.samples)")
            }
            let codes = try earlier.loadCodes(for: doc, levels: set.vqvae.levels)
            if mode == .upsample {
                guard let topCodes = codes[set.topLevel] else { throw JukeboxError(earlier.codesPath, "holds no top-level codes to upsample") }
                return .upsample(top: topCodes)
            }
            return .continuation((0..<set.vqvae.levels).map { codes[$0] ?? (try? LevelCodes(n: samples, t: 0, values: [])) }
                .compactMap { $0 }, lowestLevel: lowest)
        }
    }

    /// The tempo and bars to continue a prime with: the tempo heard in it (or `bpm` when given; the artist's
    /// when the heard one is it, or half or double it, as a frame-sized estimate is a little off), and its
    /// first beat as a downbeat (a guess: only the beats are heard, not which of them starts a bar).
    static func primeBeat(_ path: String, sampleRate sr: Int, seconds: Double, bpm: Double?, artistTempo: Double) throws
        -> (Double, BarClock) {
        let audio = Array(try AudioFile.readMono(path, sampleRate: sr).prefix(Int(seconds * Double(sr))))
        var tempo = bpm ?? artistTempo
        if bpm == nil {
            let heard = AudioFeatures.beat(audio, sampleRate: sr)
            if heard.strength >= 0.2 {
                tempo = AudioFeatures.tempo(heard.bpm, matches: artistTempo) ? artistTempo : heard.bpm
            }
        }
        let first = AudioFeatures.firstBeat(audio, sampleRate: sr, bpm: tempo)
        Log.note(String(format: "note: continuing the prime at %.1f bpm, bars from its beat at %.2f s", tempo, first))
        return (tempo, try BarClock(bpm: tempo, sampleRate: Double(sr), downbeat: Int((first * Double(sr)).rounded())))
    }

    /// Lyrics of a long song are a few kilobytes; the models see a few hundred characters a window.
    static let longestLyricsBytes = 1 << 20

    static func lyricsText(_ value: String) throws -> String {
        guard value.hasPrefix("@") else {
            guard value.utf8.count <= longestLyricsBytes else {
                throw JukeboxError("--lyrics", "\(value.utf8.count) bytes is too long for lyrics (at most \(longestLyricsBytes))")
            }
            return value
        }
        let path = String(value.dropFirst())
        // Lyrics are a song's words, not a book: a bound before the whole file is read (100 MB was taken whole).
        if let size = Download.fileSize(path), size > Self.longestLyricsBytes {
            throw JukeboxError(path, "\(size) bytes is too long for lyrics (at most \(Self.longestLyricsBytes))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "cannot read the lyrics file") }
        guard let text = String(data: data, encoding: .utf8) else { throw JukeboxError(path, "lyrics are not UTF-8 text") }
        return text
    }
}

/// An interrupted run: its session is kept (the codes sampled so far are saved), unlike a failed one.
struct Interrupted: Error {
    let reason: JukeboxError
}
