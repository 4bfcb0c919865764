import Foundation

/// A model set's own sampling temperatures (`SET/sampling.json`), used where the user names none.
///
/// Small models sample cleaner audio below the reference's 0.98/0.99: at those temperatures their
/// upsamplers spread probability over noisy codes. The recipe that trains a set measures and writes
/// what suits it; sets without the file (the published ones) keep the reference's values.
public struct SamplingDefaults: Sendable, Equatable {
    public static let fileName = "sampling.json"
    /// The reference's temperatures: the top level, and every upsampler.
    public static let reference = SamplingDefaults(top: 0.98, upsamplers: 0.99)
    /// The prime guidance a set fine-tuned on a user's recordings samples continuations with unless its base
    /// set names one: on one real album (10 held-out songs continued from 12 s), 3 took a fine-tuned set's
    /// continuations from 6 to 13 stretches of 20 at the song's tempo and nearer the prime's balance (7.97
    /// against 8.49 dB); 5 drifted from the balance. The bundled set keeps it off: on its own corpus it costs.
    public static let fineTunedPrimeGuidance = 3.0

    public var top: Double
    public var upsamplers: Double
    /// Upsamplers sampled at their own temperature (`temperature_by_level`, keyed by level), where judging
    /// the set found one level better served by another than `upsamplers`.
    public var levelTemperatures: [Int: Double]
    /// The length of the songs the set was trained on. Its top prior only learned the timing embeddings
    /// of such lengths, so a song length far outside them conditions it on untrained vectors.
    public var songSeconds: Double?
    /// Each artist's tempo in the training corpus, beats a minute, by the name in the set's artist list:
    /// what a top prior with a bar clock keeps when the user names no tempo.
    public var artistTempos: [String: Double]
    /// How strongly the set's bar guide steers the top level when the user names no `--bar-guidance` (0: off).
    public var barGuidance: Double
    /// Strengths for some genres (`bar_guidance_by_genre`), where judging the set's samples found that
    /// genre served better by another strength than `barGuidance`; keyed by lowercased genre name.
    public var genreBarGuidance: [String: Double]
    /// How strongly the guide's genre tilt pulls the top level toward the genre asked for when the user
    /// names no `--genre-guidance` (`genre_guidance`; 0 or absent: off).
    public var genreGuidance: Double
    /// How strongly a continuation keeps the places in the bar of its prime's own codes when the user names
    /// no `--prime-guidance` (`prime_guidance`; 0 or absent: off). Only primed and continued samples use it.
    public var primeGuidance: Double
    /// Each artist's genre in the training corpus, by the name in the set's artist list: what the studio's
    /// artist picker shows beside a name, and how it offers the chosen genre's artists first.
    public var artistGenres: [String: String]
    /// Artists none of whose training songs has lyrics, by the name in the set's artist list: asked to sing,
    /// such an artist's samples drift from its sound (the resolver says so).
    public var instrumentalArtists: Set<String>

    /// What to tell a person who gives lyrics to `artist` (its name in the set's list) when it sings in none of
    /// the songs the set learnt from; nil when it sings, or the lyrics are empty. `sample` notes it, the
    /// studio's composer shows it under the lyrics.
    public func instrumentalNote(artist: String, lyrics: String) -> String? {
        guard instrumentalArtists.contains(artist), !lyrics.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return "\(artist) sings in none of the songs this set learnt from: with lyrics its samples drift from its sound (leave the lyrics empty to keep it)"
    }

    public init(top: Double, upsamplers: Double, songSeconds: Double? = nil, artistTempos: [String: Double] = [:],
                barGuidance: Double = 0, genreBarGuidance: [String: Double] = [:], artistGenres: [String: String] = [:],
                levelTemperatures: [Int: Double] = [:], genreGuidance: Double = 0, instrumentalArtists: Set<String> = [],
                primeGuidance: Double = 0) {
        (self.genreGuidance, self.primeGuidance) = (genreGuidance, primeGuidance)
        self.instrumentalArtists = instrumentalArtists
        self.artistGenres = artistGenres
        self.levelTemperatures = levelTemperatures
        self.genreBarGuidance = Dictionary(genreBarGuidance.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.top = top
        self.upsamplers = upsamplers
        self.songSeconds = songSeconds
        self.artistTempos = artistTempos
        self.barGuidance = barGuidance
    }

    /// The tempo a bar clock keeps: `bpm` when the user names one, else the artist's, else the middle of
    /// the set's artists' tempos (an artist it does not know); nil when the set knows no tempos.
    public func tempo(artist: String?, bpm: Double?) -> Double? {
        if let bpm { return bpm }
        if let artist, let known = artistTempos[artist] { return known }
        let all = artistTempos.values.sorted()
        return all.isEmpty ? nil : all[all.count / 2]
    }

    /// The same for an artist as the user typed it: the tempo table is keyed by the names of the set's
    /// artist list, so the name is looked up there first (as sampling looks up the artist's id).
    public func tempo(typed artist: String, vocabulary: LabelVocabulary?, bpm: Double?) -> Double? {
        tempo(artist: vocabulary.flatMap { $0.artistName(id: $0.artistID(artist).id) } ?? artist, bpm: bpm)
    }

    /// The song length to condition on when the user names none: the set's own (at least the sampled
    /// length), else the reference habit of twice the sampled length, at least a minute.
    public func totalSeconds(sampling seconds: Double) -> Double {
        if let songSeconds { return max(songSeconds, seconds) }
        return max(60, 2 * seconds)
    }

    /// The guide's strength for a prompt of `genre` when the user names none.
    public func barGuidance(genre: String) -> Double {
        genreBarGuidance[genre.trimmingCharacters(in: .whitespaces).lowercased()] ?? barGuidance
    }

    /// The temperature of `level` when the user names none, in a set whose top level is `topLevel`.
    public func temperature(level: Int, topLevel: Int) -> Double {
        level == topLevel ? top : levelTemperatures[level] ?? upsamplers
    }

    /// One temperature per level, finest first, for a set whose top level is `topLevel`.
    public func temperatures(topLevel: Int) -> [Double] {
        (0...topLevel).map { temperature(level: $0, topLevel: topLevel) }
    }

    /// `folder/sampling.json` when present (nil when absent); a file that is there must be well formed.
    public static func load(setFolder folder: String) throws -> SamplingDefaults? {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "cannot be read") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw JukeboxError(path, "is not a JSON object")
        }
        func temperature(_ value: Any?, _ name: String) throws -> Double {
            guard let value = value as? Double, value.isFinite, value > 0, value <= 2 else {
                throw JukeboxError(path, "\(name) should be a temperature between 0 and 2")
            }
            return value
        }
        var song: Double? = nil
        if let value = object["song_seconds"] {
            guard let seconds = value as? Double, seconds.isFinite, seconds > 0 else {
                throw JukeboxError(path, "song_seconds should be a positive number of seconds")
            }
            song = seconds
        }
        var tempos: [String: Double] = [:]
        if let value = object["artist_bpm"] {
            guard let table = value as? [String: Any] else { throw JukeboxError(path, "artist_bpm should map artist names to beats a minute") }
            for (artist, bpm) in table {
                guard let bpm = bpm as? Double, bpm.isFinite, bpm >= 20, bpm <= 400 else {
                    throw JukeboxError(path, "artist_bpm of \(artist) should be a tempo between 20 and 400 beats a minute")
                }
                tempos[artist] = bpm
            }
        }
        var genres: [String: String] = [:]
        if let value = object["artist_genre"] {
            guard let table = value as? [String: String] else { throw JukeboxError(path, "artist_genre should map artist names to genre names") }
            genres = table
        }
        func strength(_ value: Any, _ key: String) throws -> Double {
            guard let strength = value as? Double, strength.isFinite, strength >= 0, strength <= 10 else {
                throw JukeboxError(path, "\(key) should be a strength between 0 and 10")
            }
            return strength
        }
        let guidance = try object["bar_guidance"].map { try strength($0, "bar_guidance") } ?? 0
        let genreGuidance = try object["genre_guidance"].map { try strength($0, "genre_guidance") } ?? 0
        let primeGuidance = try object["prime_guidance"].map { try strength($0, "prime_guidance") } ?? 0
        var instrumental: Set<String> = []
        if let value = object["instrumental_artists"] {
            guard let names = value as? [String] else { throw JukeboxError(path, "instrumental_artists should be a list of artist names") }
            instrumental = Set(names)
        }
        var byGenre: [String: Double] = [:]
        if let value = object["bar_guidance_by_genre"] {
            guard let table = value as? [String: Any] else { throw JukeboxError(path, "bar_guidance_by_genre should map genre names to strengths") }
            for (genre, value) in table { byGenre[genre] = try strength(value, "bar_guidance_by_genre of \(genre)") }
        }
        var byLevel: [Int: Double] = [:]
        if let value = object["temperature_by_level"] {
            guard let table = value as? [String: Any] else { throw JukeboxError(path, "temperature_by_level should map levels to temperatures") }
            for (key, value) in table {
                let name = "temperature_by_level of \(key)"
                guard let level = Int(key), level >= 0 else { throw JukeboxError(path, "\(name): the key should be a level (0 = finest)") }
                byLevel[level] = try temperature(value, name)
            }
        }
        return SamplingDefaults(top: try temperature(object["temperature_top"], "temperature_top"),
                                upsamplers: try temperature(object["temperature_upsamplers"], "temperature_upsamplers"),
                                songSeconds: song, artistTempos: tempos, barGuidance: guidance, genreBarGuidance: byGenre,
                                artistGenres: genres, levelTemperatures: byLevel, genreGuidance: genreGuidance,
                                instrumentalArtists: instrumental, primeGuidance: primeGuidance)
    }

    public var json: Data {
        var object: [String: Any] = ["temperature_top": top, "temperature_upsamplers": upsamplers]
        if let songSeconds { object["song_seconds"] = songSeconds }
        if !artistTempos.isEmpty { object["artist_bpm"] = artistTempos }
        if barGuidance > 0 { object["bar_guidance"] = barGuidance }
        if !genreBarGuidance.isEmpty { object["bar_guidance_by_genre"] = genreBarGuidance }
        if genreGuidance > 0 { object["genre_guidance"] = genreGuidance }
        if primeGuidance > 0 { object["prime_guidance"] = primeGuidance }
        if !instrumentalArtists.isEmpty { object["instrumental_artists"] = instrumentalArtists.sorted() }
        if !artistGenres.isEmpty { object["artist_genre"] = artistGenres }
        if !levelTemperatures.isEmpty {
            object["temperature_by_level"] = Dictionary(uniqueKeysWithValues: levelTemperatures.map { (String($0.key), $0.value) })
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }
}
