import Foundation

/// A request made whole: the prompt the generator takes, the prompt the session records, and what the user
/// should hear about it. Resolving `record` again (with nothing asked) gives this same prompt back.
public struct ResolvedPrompt {
    public var generation: GenerationPrompt
    public var record: SessionPrompt
    /// Names the model does not know (each with its nearest known names).
    public var warnings: [String]
    /// Things worth knowing that change nothing the user asked for (characters the model cannot see, ...).
    public var notes: [String]
    /// The labeller and song labels that say which lyrics a top-level window sees (nil: a set without labels).
    public let labels: (labeller: Labeller, song: SongLabels)?

    /// The tempo the bar clock or bar guide keeps (nil: the set has neither).
    public var tempo: Double? { record.bpm }

    /// The lyrics the top-level window starting at `start` conditions on, as the model sees them.
    public func lyrics(atTopPosition start: Int, topHop: Int) -> String? {
        guard let (labeller, song) = labels, let y = try? labeller.y(song, start: start, rawToTokens: topHop).y else { return nil }
        return try? labeller.describe(y).lyrics
    }
}

/// The one place a request becomes a prompt. The CLI, the studio (new and reopened sessions) and the
/// evaluations all ask it, so they cannot disagree on a default or a bound.
public enum PromptResolver {
    /// The longest clip, song or prime taken, in seconds: an hour (a bound before anything is allocated).
    public static let longestSeconds = 3600.0
    /// Samples drawn side by side in one request.
    public static let mostSamples = 64
    /// Lyrics of a long song are a few kilobytes; the models see a few hundred characters a window.
    public static let longestLyricsBytes = 1 << 20

    /// - Parameters:
    ///   - session: the prompt of the session being reopened, continued or upsampled (its values stand in for
    ///     absent fields; a field given in `request` overrides it, and the result records the override).
    ///   - prime: the audio a primed request continues (mono, at the set's rate): its beat places the bars
    ///     when the request names no downbeat.
    ///   - blankNames: whether an empty genre or artist is taken (the studio's composer: it warns and samples
    ///     with the model's first ids) rather than refused (the command line, where they are options to give).
    public static func resolve(_ request: PromptRequest, models: ModelSet, session: SessionPrompt? = nil,
                               prime: [Float]? = nil, naming: PromptField.Naming = .commandLine,
                               blankNames: Bool = false) throws -> ResolvedPrompt {
        func fail(_ field: PromptField, _ message: String) -> JukeboxError { JukeboxError(field.name(naming), message) }
        let defaults = models.samplingDefaults
        let sr = models.vqvae.sampleRate, top = models.topLevel
        let topHop = models.vqvae.hopLengths[top]
        var notes: [String] = []

        // Lengths.
        guard let seconds = request.seconds ?? session?.sampleSeconds else { throw fail(.seconds, "is needed: how many seconds to sample") }
        guard seconds > 0, seconds <= longestSeconds else {
            throw fail(.seconds, "must be more than 0 and at most \(Int(longestSeconds)) (an hour), got \(seconds)")
        }
        let sampleLength = Int(seconds * Double(sr)) / topHop * topHop
        guard sampleLength > 0 else { throw fail(.seconds, "\(seconds) s is shorter than one top-level code (\(topHop) samples)") }
        if let given = request.totalSeconds, !(given > 0 && given <= 100 * longestSeconds) {
            throw fail(.totalSeconds, "must be a length in seconds, got \(given)")
        }
        let total = request.totalSeconds ?? session?.totalSeconds ?? defaults.totalSeconds(sampling: seconds)
        guard total >= seconds else {
            let whose = request.totalSeconds == nil && session != nil ? "the session's song (\(total) s)" : "\(total) s"
            throw fail(.totalSeconds, "\(whose) is shorter than the \(seconds) s to sample")
        }
        // The top prior's timing signal describes songs up to max_duration; past it there is no label to give.
        let topPrior = try models.prior(level: top)
        if topPrior.prior.config.includeTimeSignal, total > topPrior.prior.config.maxDuration {
            let defaulted = request.totalSeconds == nil && session == nil
            throw fail(defaulted ? .seconds : .totalSeconds,
                       "a song of \(total) s is longer than this model's timing signal allows (\(topPrior.prior.config.maxDuration) s)"
                       + (defaulted ? "; the song is twice the sampled length unless the total length says otherwise" : ""))
        }
        let totalLength = Int(total * Double(sr))

        // Sampling settings, one per level (index = level).
        let samples = request.samples ?? session?.samples ?? 1
        guard samples >= 1, samples <= mostSamples else { throw fail(.samples, "must be between 1 and \(mostSamples), got \(samples)") }
        let topK = request.topK ?? session?.topK ?? 0
        let topP = request.topP ?? session?.topP ?? 0
        guard topK >= 0 else { throw fail(.topK, "must be 0 (off) or more, got \(topK)") }
        guard topP >= 0, topP <= 1 else { throw fail(.topP, "must lie between 0 (off) and 1, got \(topP)") }
        guard topK == 0 || topP == 0 else { throw fail(.topK, "cannot be used together with top-p") }
        let temperatures = try (0...top).map { level -> Double in
            let t = request.temperatures[level]
                ?? session.flatMap { $0.temperatures.indices.contains(level) ? $0.temperatures[level] : nil }
                ?? defaults.temperature(level: level, topLevel: top)
            guard t.isFinite, t >= 0, t <= 10 else {
                let name = naming == .commandLine ? (level == top ? "--temp-top" : "--temp-rest") : "temperature of level \(level)"
                throw JukeboxError(name, "must be between 0 and 10, got \(t)")
            }
            return t
        }
        let settings = temperatures.map { SamplingSettings(temperature: $0, topK: topK, topP: topP) }
        let seed = request.seed ?? session?.seed ?? 0
        if let downbeat = request.downbeat, !(downbeat >= 0 && downbeat.isFinite) { throw fail(.downbeat, "must be a time in seconds, 0 or more") }
        if let downbeat = request.downbeat, downbeat > total { throw fail(.downbeat, "\(downbeat) s lies past the song's end (\(total) s)") }
        if let bpm = request.bpm, !(bpm >= 20 && bpm <= 400) { throw fail(.bpm, "must be a tempo between 20 and 400 beats a minute, got \(bpm)") }
        if let strength = request.barGuidance, !(strength >= 0 && strength <= 10) {
            throw fail(.barGuidance, "must be between 0 and 10, got \(strength)")
        }
        if let strength = request.genreGuidance, !(strength >= 0 && strength <= 10) {
            throw fail(.genreGuidance, "must be between 0 and 10, got \(strength)")
        }
        if let strength = request.primeGuidance, !(strength >= 0 && strength <= 10) {
            throw fail(.primeGuidance, "must be between 0 and 10, got \(strength)")
        }
        let lyrics = request.lyrics ?? session?.lyrics ?? ""
        guard lyrics.utf8.count <= longestLyricsBytes else {
            throw fail(.lyrics, "\(lyrics.utf8.count) bytes is too long for lyrics (at most \(longestLyricsBytes))")
        }

        var generation = GenerationPrompt(artistID: 0, genreIDs: [], lyricTokens: [], totalLength: totalLength,
                                          sampleLength: sampleLength, settings: settings, seed: seed, samples: samples)
        var record = SessionPrompt(artist: request.artist ?? session?.artist ?? "", genre: request.genre ?? session?.genre ?? "",
                                   lyrics: lyrics, totalSeconds: total, sampleSeconds: seconds, temperatures: temperatures,
                                   topK: topK == 0 ? nil : topK, topP: topP == 0 ? nil : topP, seed: seed, samples: samples,
                                   mode: request.mode)
        guard let vocabulary = models.vocabularies[top] else {
            // An unconditional set: names and lyrics mean nothing to it, the rest still holds.
            return ResolvedPrompt(generation: generation, record: record, warnings: [], notes: notes, labels: nil)
        }
        guard blankNames || !record.genre.isEmpty else { throw fail(.genre, "is needed: one of the model's genres") }
        guard blankNames || !record.artist.isEmpty else { throw fail(.artist, "is needed: one of the model's artists") }

        // Bars: the tempo the clock or guide keeps and where a bar starts.
        let layout = try LabelLayout(hps: topPrior.hps)
        let labeller = Labeller(vocabulary: vocabulary, layout: layout, sampleLength: topPrior.nCtx * topHop)
        var clock: BarClock? = nil, tempo: Double? = nil
        if layout.barClock || models.barGuide != nil {
            let named = request.bpm ?? session?.bpm
            let downbeat = request.downbeat ?? session?.downbeat
            if let artistTempo = defaults.tempo(typed: record.artist, vocabulary: vocabulary, bpm: named) {
                var beat = (bpm: artistTempo, downbeat: downbeat ?? 0)
                if request.mode == .primed, downbeat == nil, let prime {
                    // The bars must go on where the prime's beats are, not where the artist's songs start.
                    beat = primeBeat(prime, sampleRate: sr, bpm: named, artistTempo: artistTempo)
                    notes.append(String(format: "continuing the prime at %.1f bpm, bars from its beat at %.2f s", beat.bpm, beat.downbeat))
                }
                tempo = beat.bpm
                clock = try BarClock(bpm: beat.bpm, sampleRate: Double(sr), downbeat: Int((beat.downbeat * Double(sr)).rounded()))
            }
        } else if request.bpm != nil {
            notes.append("this model set has neither a bar clock nor a bar guide, so the tempo changes nothing")
        }

        let resolved = try labeller.resolve(artist: record.artist, genre: record.genre, lyrics: lyrics, totalLength: totalLength,
                                            barClock: clock)
        if !resolved.lyrics.dropped.isEmpty { notes.append("the model cannot see these characters of the lyrics: \(resolved.lyrics.droppedText)") }
        if let name = vocabulary.artistName(id: resolved.song.artistID), let note = defaults.instrumentalNote(artist: name, lyrics: lyrics) {
            notes.append(note)
        }
        generation.artistID = resolved.song.artistID
        generation.genreIDs = resolved.song.genreIDs
        generation.lyricTokens = resolved.song.fullTokens
        generation.totalLength = resolved.song.totalLength
        // The song's labels carry the clock only for a clocked prior; the guide needs it either way.
        generation.barClock = clock
        if let clock {
            record.bpm = tempo
            let downbeat = Double(clock.downbeat) / Double(sr)
            record.downbeat = downbeat > 0 ? downbeat : nil
        }
        if models.barGuide != nil {
            // A session records its strength even at 0, so reopening it never falls back to the set's.
            generation.barGuidance = request.barGuidance ?? session.map { $0.barGuidance ?? 0 } ?? defaults.barGuidance(genre: record.genre)
            record.barGuidance = generation.barGuidance
        }
        if let guide = models.barGuide, guide.genres > 0 {
            generation.genreGuidance = request.genreGuidance ?? session.map { $0.genreGuidance ?? 0 } ?? defaults.genreGuidance
            record.genreGuidance = generation.genreGuidance
        } else if (request.genreGuidance ?? 0) > 0 {
            notes.append("this model set's guide holds no genres, so the genre guidance changes nothing")
        }
        // Only a continuation has a prime's codes to count. A session keeps its strength for reopening (one made
        // before the guide existed, none); a new request takes the set's. Notes only for a strength asked for.
        let primeGuidance = request.primeGuidance ?? session.map { $0.primeGuidance ?? 0 } ?? defaults.primeGuidance
        if primeGuidance > 0 {
            if request.mode == .ancestral || request.mode == .upsample {
                if request.primeGuidance != nil {
                    notes.append("the prime guidance steers continuations (modes primed and continue); this \(request.mode.rawValue) sample has no prime to follow")
                }
            } else if clock == nil {
                if request.primeGuidance != nil {
                    notes.append("the prime guidance needs a tempo (--bpm, or one heard in the prime or known for the artist); without one it changes nothing")
                }
            } else {
                generation.primeGuidance = primeGuidance
                record.primeGuidance = primeGuidance
            }
        }
        return ResolvedPrompt(generation: generation, record: record, warnings: resolved.warnings, notes: notes,
                              labels: (labeller, resolved.song))
    }

    /// The tempo and first beat to continue a prime with: the tempo heard in it (`BeatGrid`; or `bpm` when
    /// named), moved to the artist's octave when it is the artist's, or half or double it, and the
    /// artist's own where it is within 0.3% of it (the project's corpus artists keep one tempo exactly; a
    /// recording keeps its own, which a clock must follow to a fraction of a percent), and its first beat
    /// as a downbeat (a guess: only beats are heard, not which of them starts a bar).
    public static func primeBeat(_ audio: [Float], sampleRate sr: Int, bpm: Double?, artistTempo: Double) -> (bpm: Double, downbeat: Double) {
        var tempo = bpm ?? artistTempo
        if bpm == nil, let heard = BeatGrid.hear(audio, sampleRate: sr), heard.strength >= 0.2 {
            tempo = heard.bpm
            if let octave = [1.0, 0.5, 2].first(where: { abs(heard.bpm * $0 / artistTempo - 1) < 0.06 }) {
                tempo = heard.bpm * octave
                if abs(tempo / artistTempo - 1) < 0.003 { tempo = artistTempo }
            }
        }
        return (tempo, AudioFeatures.firstBeat(audio, sampleRate: sr, bpm: tempo))
    }
}
