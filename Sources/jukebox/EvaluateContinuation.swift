import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// `jukebox eval continuation`: does a model keep the beat of a real song it continues? A sample
/// with no prompt but the labels can miss a beat for many reasons; a continuation has the beat in
/// view, so losing it there says the prior cannot carry one forward.
struct EvaluateContinuation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "continuation",
        abstract: "Continue songs from their first seconds and measure whether their beat and sound go on.",
        discussion: """
            --data is a corpus (its held-out songs) or any folder of recordings (labelled as `dataset import` \
            labels them: a labels file, artist folders, --artist and --genre; tempo estimated where not given). \
            For each genre, its first --songs-per-genre songs are continued as \
            `jukebox sample --mode primed` continues them (their own genre, artist and lyrics, the model \
            set's temperatures) into session folders under --sessions-out. The render of the finest level \
            sampled is measured over the prime, as the codec rebuilds it, and over each --stretch seconds \
            after it: the tempo its onset envelope repeats at most strongly, whether that is the song's own \
            tempo (or half or double it), and the beat strength (that repetition's autocorrelation, near 1 \
            for a steady beat, near 0 for onsets at random), and its loudness and spectral balance (the long-term \
            spectrum in third-octave bands, loudness aside). The song itself over the continued span is measured \
            beside them, and with --unprimed a sample of the same prompt without the prime: how far each one's \
            balance lies from the prime's (dB, RMS over the bands) says how much of the prime's sound a \
            continuation keeps, between two parts of the real song (what keeping it fully looks like) and a \
            sample that never heard it (what keeping nothing looks like).
            """)

    @Option(help: "Corpus folder (`dataset build` or `dataset import`), or a folder of recordings.") var data: String
    @Option(help: "With a folder of recordings: the genre of those no labels file names.") var genre: String?
    @Option(help: "With a folder of recordings: the artist of those no labels file or artist folder names.") var artist: String?
    @Flag(inversion: .prefixedNo, help: "Also sample each prompt without the prime, to compare its sound with the prime's.") var unprimed = true
    @Option(name: .customLong("bar-guidance"), parsing: .unconditional, help: "How strongly the set's bar guide steers the top level (default: the set's).")
    var barGuidance: Double?
    @Option(name: .customLong("prime-guidance"), parsing: .unconditional, help: "How strongly each continuation keeps the places in the bar of its prime's own codes, at every level it samples (default: the set's).")
    var primeGuidance: Double?
    @Option(name: .customLong("songs-per-genre"), help: "Held-out songs to continue per genre.") var songsPerGenre: Int = 1
    @Option(name: .customLong("prime-seconds"), help: "Seconds of each song to continue from.") var primeSeconds: Double = 5
    @Option(help: "Seconds of each session in all, the prime included.") var seconds: Double = 15
    @Option(help: "Seconds per measured stretch after the prime.") var stretch: Double = 5
    @Option(help: "top (the top level only) or all.") var levels: String = "top"
    @Option(help: "Seed of the first session (the next ones count up).") var seed: UInt64 = 1
    // How the sampler draws is part of whether a beat survives, so it takes the sampler's settings.
    @OptionGroup var sampler: SamplerOptions
    @Option(name: .customLong("sessions-out"), help: "Folder for the sessions (kept, to listen to).") var sessionsOut: String
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        guard songsPerGenre >= 1, songsPerGenre <= 100 else { throw JukeboxError("--songs-per-genre", "must be between 1 and 100") }
        guard stretch >= BeatTimeline.shortestStretch else {
            throw JukeboxError("--stretch", "must be at least \(BeatTimeline.shortestStretch) s (a slow beat has to repeat inside it)")
        }
        guard primeSeconds >= BeatTimeline.shortestStretch else {
            throw JukeboxError("--prime-seconds", "must be at least \(BeatTimeline.shortestStretch) s, so the prime's own beat can be measured")
        }
        guard seconds >= primeSeconds + stretch else {
            throw JukeboxError("--seconds", "must leave at least one --stretch (\(stretch) s) after the \(primeSeconds) s prime")
        }
    }

    func run() throws {
        let (songs, skipped) = try chosenSongs()
        // Refused before anything is sampled: an earlier run's sessions are never overwritten.
        for song in songs {
            for folder in [sessionFolder(song)] + (unprimed ? [sessionFolder(song) + "-unprimed"] : [])
            where FileManager.default.fileExists(atPath: SessionFolder(path: folder).documentPath) {
                throw JukeboxError(folder, "already holds a session; choose another --sessions-out")
            }
        }
        for (file, reason) in skipped { Log.note("skipped \(file): \(reason)") }
        try FileManager.default.createDirectory(atPath: sessionsOut, withIntermediateDirectories: true)
        var report = ContinuationReport(primeSeconds: primeSeconds, stretchSeconds: stretch, levels: levels, songs: [])
        // Each session shows its own progress; a bar over them would be drawn over.
        for (i, song) in songs.enumerated() {
            report.songs.append(try continueSong(song, seed: seed &+ UInt64(i)))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table())
        }
    }

    /// The first held-out songs of each genre (every recording of a plain folder), long enough to cover the
    /// whole session.
    func chosenSongs() throws -> (songs: [CorpusSong], skipped: [(file: String, reason: String)]) {
        let heldOut: [CorpusSong]
        var skipped: [(file: String, reason: String)] = []
        if FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent("songs.jsonl")) {
            heldOut = try CorpusIndex.read(data).filter { $0.split == "test" }
        } else {
            let found = try CorpusImporter.recordings(in: data, options: CorpusImporter.Options(artist: artist, genre: genre))
            (heldOut, skipped) = (found.songs, found.skipped)
        }
        var chosen: [CorpusSong] = []
        for genre in Set(heldOut.map(\.genre)).sorted() {
            chosen += heldOut.filter { $0.genre == genre && $0.seconds >= seconds }.prefix(songsPerGenre)
        }
        guard !chosen.isEmpty else {
            throw JukeboxError(data, "has no held-out song of \(seconds) s or more to continue")
        }
        return (chosen, skipped)
    }

    func continueSong(_ song: CorpusSong, seed: UInt64) throws -> ContinuationReport.Song {
        let file = (data as NSString).appendingPathComponent(song.file)
        let out = sessionFolder(song)
        // The song's own tempo for a bar clock. The project's corpus songs start on a downbeat, as the clock
        // assumes; a recording's (key "unknown") first beat is found in the prime.
        func job(_ mode: SessionMode, into folder: String) throws -> SampleJob {
            var job = SampleJob(request: PromptRequest(genre: song.genre, artist: song.artist, lyrics: song.lyrics, seconds: seconds,
                                                       bpm: song.bpm, downbeat: song.key == "unknown" ? nil : 0, barGuidance: barGuidance,
                                                       seed: seed, mode: mode, primeGuidance: mode == .primed ? primeGuidance : nil),
                                output: folder)
            sampler.apply(to: &job)
            job.levels = try SampleJob.Levels(rawValue: levels) ?? { throw JukeboxError("--levels", "is \(levels); use top or all") }()
            return job
        }
        var primed = try job(.primed, into: out)
        primed.prime = file
        primed.primeSeconds = primeSeconds
        Log.note("continuing \(song.id) (\(song.genre), \(song.artist)) into \(out)")
        let outcome = try primed.run(log: Log.note, events: SamplingProgress().show)
        let render = try finestRender(in: out)
        var unprimedRender: String? = nil
        if unprimed {
            Log.note("sampling \(song.id)'s prompt without the prime into \(out)-unprimed")
            var free = try job(.ancestral, into: out + "-unprimed")
            free.adaptToPrime = nil   // it hears no prime
            _ = try free.run(log: Log.note, events: SamplingProgress().show)
            unprimedRender = try finestRender(in: out + "-unprimed")
        }
        // The last stretch may be shorter than --stretch; one too short to hold a slow beat is dropped.
        let boundaries = [0] + Array(stride(from: primeSeconds, to: seconds, by: stretch)) + [seconds]
        let stretches = try BeatTimeline.stretches(of: render, boundaries: boundaries, bpm: song.bpm)
        guard stretches.first?.end == primeSeconds else { throw JukeboxError(render, "is shorter than the \(primeSeconds) s prime") }
        let original = try BeatTimeline.stretches(of: file, boundaries: [primeSeconds, seconds], bpm: song.bpm)
        // The strengths the continuation was sampled with, as its session recorded them (the set's where none was asked).
        let recorded = outcome.document.prompt
        let guidance = ContinuationReport.Guidance(bar: recorded.barGuidance ?? 0, genre: recorded.genreGuidance ?? 0,
                                                   prime: recorded.primeGuidance ?? 0)
        return .init(id: song.id, genre: song.genre, artist: song.artist, bpm: song.bpm, session: out, guidance: guidance,
                     prime: stretches[0], continuation: Array(stretches.dropFirst()), song: original.first,
                     sound: try SoundKept.measure(render: render, song: file, unprimed: unprimedRender, prime: primeSeconds, end: seconds))
    }

    func sessionFolder(_ song: CorpusSong) -> String { (sessionsOut as NSString).appendingPathComponent(song.id) }

    /// The first sample's WAV of the finest level the session rendered.
    func finestRender(in folder: String) throws -> String {
        guard let first = SessionFolder(path: folder).finestRenders()?.files.first else {
            throw JukeboxError(folder, "holds no rendered WAV (render-level*-sample*.wav)")
        }
        return first
    }
}

/// `eval continuation`'s findings: per song, the beat over the prime, over each stretch after it, and
/// the song's own over the continued span.
struct ContinuationReport: Encodable {
    struct Song: Encodable {
        let id, genre, artist: String
        let bpm: Double
        let session: String
        let guidance: Guidance
        let prime: BeatStretch
        let continuation: [BeatStretch]
        let song: BeatStretch?
        let sound: SoundKept
    }

    /// The guides' strengths a continuation was sampled with (0: off).
    struct Guidance: Encodable, Equatable {
        let bar, genre, prime: Double
    }

    let primeSeconds, stretchSeconds: Double
    let levels: String
    var songs: [Song]

    enum CodingKeys: String, CodingKey {
        case primeSeconds = "prime_seconds", stretchSeconds = "stretch_seconds", levels, songs, summary
    }

    struct Summary: Encodable {
        let prime_strength, continuation_strength, song_strength: Double
        let prime_at_tempo, continuation_at_tempo, continuation_stretches, song_at_tempo: Int
        /// Means over the songs of SoundKept's figures (nil where no song has them).
        let continuation_balance_distance_db, song_balance_distance_db: Double
        let unprimed_balance_distance_db: Double?
        let continuation_loudness_change_db, song_loudness_change_db: Double
        let unprimed_loudness_change_db: Double?
    }

    var summary: Summary {
        let after = songs.flatMap(\.continuation), own = songs.compactMap(\.song)
        func mean(_ x: [BeatStretch]) -> Double { x.isEmpty ? 0 : x.reduce(0) { $0 + Double($1.strength) } / Double(x.count) }
        func average(_ f: (SoundKept) -> Double?) -> Double? {
            let values = songs.compactMap { f($0.sound) }
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        return Summary(prime_strength: mean(songs.map(\.prime)), continuation_strength: mean(after), song_strength: mean(own),
                       prime_at_tempo: songs.filter(\.prime.atTempo).count, continuation_at_tempo: after.filter(\.atTempo).count,
                       continuation_stretches: after.count, song_at_tempo: own.filter(\.atTempo).count,
                       continuation_balance_distance_db: average(\.continuationDistance) ?? 0, song_balance_distance_db: average(\.songDistance) ?? 0,
                       unprimed_balance_distance_db: average(\.unprimedDistance),
                       continuation_loudness_change_db: average { $0.continuationLoudness - $0.primeLoudness } ?? 0,
                       song_loudness_change_db: average { $0.songLoudness - $0.songPrimeLoudness } ?? 0,
                       unprimed_loudness_change_db: average { s in s.unprimedLoudness.map { $0 - s.primeLoudness } })
    }

    func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(primeSeconds, forKey: .primeSeconds)
        try c.encode(stretchSeconds, forKey: .stretchSeconds)
        try c.encode(levels, forKey: .levels)
        try c.encode(songs, forKey: .songs)
        try c.encode(summary, forKey: .summary)
    }

    /// One row per song: tempo and beat strength of each stretch, a mark where the tempo is the song's.
    func table() -> String {
        func cell(_ s: BeatStretch) -> String { String(format: "%5.1f %4.2f", s.bpm, s.strength) + (s.atTempo ? " *" : "  ") }
        // A render ends on a whole top-level hop, a few samples short of the seconds asked for.
        func time(_ t: Double) -> String {
            let text = String(format: "%.1f", t)
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        func span(_ s: BeatStretch) -> String { "\(time(s.start))-\(time(s.end)) s" }
        let header = ["song", "genre", "bpm", "song itself"] + (songs.first.map { [span($0.prime) + " (prime)"] + $0.continuation.map(span) } ?? [])
        var rows = [header]
        for song in songs {
            rows.append([song.id, song.genre, String(format: "%.0f", song.bpm), song.song.map(cell) ?? "-", cell(song.prime)]
                        + song.continuation.map(cell))
        }
        let widths = (0..<header.count).map { i in rows.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        var lines = rows.map { row in
            let padded = row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: " | ")
            return String(padded.reversed().drop { $0 == " " }.reversed())
        }
        let s = summary
        lines.insert("tempo (bpm) and beat strength (0 to 1) per stretch; * where the tempo is the song's, or half or double it", at: 0)
        let strengths = songs.map(\.guidance).reduce(into: [Guidance]()) { if !$0.contains($1) { $0.append($1) } }
        lines.append("sampled with " + strengths.map { String(format: "bar guidance %g, genre guidance %g, prime guidance %g", $0.bar, $0.genre, $0.prime) }
            .joined(separator: "; ") + (strengths.count > 1 ? " (the songs differ)" : ""))
        lines.append(String(format: "beat strength: prime %.2f (%d of %d at tempo), continuation %.2f (%d of %d stretches at tempo), the songs themselves %.2f (%d of %d)",
                            s.prime_strength, s.prime_at_tempo, songs.count, s.continuation_strength, s.continuation_at_tempo,
                            s.continuation_stretches, s.song_strength, s.song_at_tempo, songs.count))
        lines.append(String(format: "spectral balance, distance from the prime's (dB): continuation %.2f, the songs themselves %.2f",
                            s.continuation_balance_distance_db, s.song_balance_distance_db)
                     + (s.unprimed_balance_distance_db.map { String(format: ", unprimed samples %.2f", $0) } ?? ""))
        lines.append(String(format: "loudness after the prime (dB, against the prime): continuation %+.1f, the songs themselves %+.1f",
                            s.continuation_loudness_change_db, s.song_loudness_change_db)
                     + (s.unprimed_loudness_change_db.map { String(format: ", unprimed samples %+.1f", $0) } ?? ""))
        return lines.joined(separator: "\n")
    }
}

/// How much of the prime's sound a continuation keeps: loudness and spectral balance after the prime, each
/// beside the real song's own continuation (the prime of the song as recorded against what follows it) and an
/// unprimed sample of the same prompt (against the render's prime, as the codec rebuilds it).
struct SoundKept: Encodable {
    let primeLoudness, continuationLoudness: Double
    let songPrimeLoudness, songLoudness: Double
    let unprimedLoudness: Double?
    /// Distances of spectral balance from the prime's, dB.
    let continuationDistance, songDistance: Double
    let unprimedDistance: Double?

    enum CodingKeys: String, CodingKey {
        case primeLoudness = "prime_loudness_db", continuationLoudness = "continuation_loudness_db"
        case songPrimeLoudness = "song_prime_loudness_db", songLoudness = "song_loudness_db", unprimedLoudness = "unprimed_loudness_db"
        case continuationDistance = "continuation_balance_distance_db", songDistance = "song_balance_distance_db"
        case unprimedDistance = "unprimed_balance_distance_db"
    }

    static func measure(render: String, song: String, unprimed: String?, prime: Double, end: Double) throws -> SoundKept {
        func balances(_ file: String) throws -> (prime: SpectralBalance, after: SpectralBalance) {
            let audio = try AudioFile.read(file)
            let mono = audio.mono(), rate = Double(audio.sampleRate)
            let cut = min(Int(prime * rate), mono.count), stop = min(Int(end * rate), mono.count)
            guard cut > 0, stop > cut else { throw JukeboxError(file, "is shorter than the \(prime) s prime") }
            return (SpectralBalance(mono[0..<cut], sampleRate: audio.sampleRate), SpectralBalance(mono[cut..<stop], sampleRate: audio.sampleRate))
        }
        let sampled = try balances(render), real = try balances(song)
        let free = try unprimed.map(balances)
        return SoundKept(primeLoudness: sampled.prime.loudness, continuationLoudness: sampled.after.loudness,
                         songPrimeLoudness: real.prime.loudness, songLoudness: real.after.loudness, unprimedLoudness: free?.after.loudness,
                         continuationDistance: sampled.after.distance(to: sampled.prime), songDistance: real.after.distance(to: real.prime),
                         unprimedDistance: free.map { $0.after.distance(to: sampled.prime) })
    }
}
