import Foundation
import JukeboxCore

/// What `jukebox dataset build` makes: how much audio, from which seed, rendered how.
public struct CorpusRecipe: Sendable {
    public var seed: UInt64
    /// Audio to make, in minutes (songs are added until the plan reaches it).
    public var minutes: Double
    public var artistsPerGenre = 3
    public var songSeconds: ClosedRange<Double> = 30...50
    public var sampleRate = 44100
    public var soundfont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    /// One song in this many is held out for measuring the models: in round r (a song per genre),
    /// genre g's song when (r + g) is one short of a multiple, so within this many rounds every genre
    /// has one, and the artists take turns.
    public var heldOutEvery = 7
    public var workers = 2

    public init(seed: UInt64, minutes: Double) {
        self.seed = seed
        self.minutes = minutes
    }
}

/// One line of songs.jsonl: a song's file and its labels.
public struct CorpusSong: Codable, Equatable, Sendable {
    public let id: String
    public let file: String
    public let genre: String
    public let artist: String
    public let lyrics: String
    public let seconds: Double
    public let bpm: Double
    public let key: String
    /// "train" or "test" (held out).
    public var split: String
    /// When each word of `lyrics` is sung, in order (absent in corpora built before words were timed, and
    /// empty for instrumental songs): what alignment is measured against.
    public var words: [TimedWord]? = nil
    /// Seconds from the start to the first beat heard in an imported recording, where its bar clock starts
    /// (absent for rendered songs, which start on a downbeat).
    public var downbeat: Double? = nil
}

extension CorpusSong {
    /// The artists none of whose `songs` has lyrics.
    public static func instrumentalArtists(_ songs: [CorpusSong]) -> Set<String> {
        let singing = Set(songs.filter { !$0.lyrics.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.map(\.artist))
        return Set(songs.map(\.artist)).subtracting(singing)
    }
}

/// A word of the lyrics and when it is sung, in seconds from the song's start.
public struct TimedWord: Codable, Equatable, Sendable {
    public let text: String
    public let start: Double
    public let end: Double

    public init(text: String, start: Double, end: Double) {
        (self.text, self.start, self.end) = (text, start, end)
    }
}

/// The songs a recipe asks for, decided before any rendering so the plan alone is reproducible.
public struct CorpusPlan: Sendable {
    public struct Entry: Sendable {
        public let id: String
        public let artist: Int
        public let seed: UInt64
        public let targetSeconds: Double
        public let split: String
    }

    public let artists: [CorpusArtist]
    public let entries: [Entry]

    public init(_ recipe: CorpusRecipe) {
        var artists: [CorpusArtist] = []
        var names = Set<String>()
        for (g, genre) in GenreStyle.all.enumerated() {
            for a in 0..<recipe.artistsPerGenre {
                // A name taken already (vanishingly rare) is drawn again from the next index.
                var attempt = 0, artist: CorpusArtist
                repeat {
                    artist = CorpusArtist.make(genre: genre, genreIndex: g, index: a + 1000 * attempt, seed: recipe.seed)
                    attempt += 1
                } while names.contains(artist.name)
                names.insert(artist.name)
                artists.append(artist)
            }
        }
        var rng = SeededGenerator(seed: recipe.seed ^ 0x5EED_C0DE)
        var entries: [Entry] = [], planned = 0.0
        let span = recipe.songSeconds.upperBound - recipe.songSeconds.lowerBound
        // Round-robin over genres, and whole rounds only: every genre gets as many songs as the others.
        while planned < recipe.minutes * 60 || entries.count % GenreStyle.all.count != 0 {
            // Genre first, then artist within the genre: the first songs cover every genre.
            let k = entries.count, genres = GenreStyle.all.count
            let a = (k % genres) * recipe.artistsPerGenre + (k / genres) % recipe.artistsPerGenre
            let seconds = recipe.songSeconds.lowerBound + span * Double(rng.nextUnitFloat())
            let heldOut = recipe.heldOutEvery > 0 && (k / genres + k % genres) % recipe.heldOutEvery == recipe.heldOutEvery - 1
            entries.append(Entry(id: String(format: "s%04d", entries.count), artist: a, seed: rng.next(),
                                 targetSeconds: seconds, split: heldOut ? "test" : "train"))
            planned += seconds
        }
        self.artists = artists
        self.entries = entries
    }

    public func compose(_ entry: Entry) -> ComposedSong {
        var composer = SongComposer(artist: artists[entry.artist], seed: entry.seed)
        return composer.compose(targetSeconds: entry.targetSeconds)
    }
}

/// Builds the corpus folder:
///
///     dataset.json     format, seed, sample rate, genres, artists, total seconds
///     songs.jsonl      one CorpusSong per line
///     audio/sNNNN.wav  mono 16-bit PCM at the recipe's rate
///     artist_ids.txt genre_ids.txt   the labels in the reference's `name;id` format (0 = unknown)
///
/// The folder appears whole or not at all: it is made beside the output and renamed into place.
public enum CorpusBuilder {
    public static let formatVersion = 1

    public static func build(_ recipe: CorpusRecipe, to output: String,
                             progress: @escaping @Sendable (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [CorpusSong] {
        let fm = FileManager.default
        if let existing = try? fm.contentsOfDirectory(atPath: output), !existing.isEmpty {
            throw JukeboxError(output, "already exists and is not empty")
        }
        if fm.fileExists(atPath: output) && (try? fm.contentsOfDirectory(atPath: output)) == nil {
            throw JukeboxError(output, "exists and is not a folder")
        }
        let renderer = try CorpusRenderer.make(soundfont: recipe.soundfont, sampleRate: recipe.sampleRate)
        let plan = CorpusPlan(recipe)
        let (staging, target) = try StagingFolder.make(beside: output, purpose: "dataset")
        do {
            try fm.createDirectory(atPath: staging + "/audio", withIntermediateDirectories: true)
            let songs = try renderAll(plan, renderer: renderer, into: staging, workers: recipe.workers, progress: progress)
            try writeIndex(songs, plan: plan, recipe: recipe, into: staging)
            if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }  // an empty folder
            guard rename(staging, target) == 0 else {
                throw JukeboxError(target, "cannot move the finished corpus into place (\(String(cString: strerror(errno))))")
            }
            return songs
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
    }

    private static func renderAll(_ plan: CorpusPlan, renderer: CorpusRenderer, into folder: String, workers: Int,
                                  progress: @escaping @Sendable (Int, Int) -> Void) throws -> [CorpusSong] {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var songs: [CorpusSong?]
            var error: Error?
            var done = 0
            init(_ n: Int) { songs = Array(repeating: nil, count: n) }
        }
        let results = Results(plan.entries.count)
        let next = Results(0)  // its `done` is the next entry to take
        let total = plan.entries.count
        DispatchQueue.concurrentPerform(iterations: max(1, workers)) { worker in
            let work = folder + "/.work-\(worker)"
            try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            while true {
                next.lock.lock()
                let i = next.done
                next.done += 1
                next.lock.unlock()
                results.lock.lock()
                let stop = i >= total || results.error != nil
                results.lock.unlock()
                if stop { return }
                let entry = plan.entries[i]
                do {
                    let song = try renderOne(entry, plan: plan, renderer: renderer, folder: folder, work: work)
                    results.lock.lock()
                    results.songs[i] = song
                    results.done += 1
                    let done = results.done
                    results.lock.unlock()
                    progress(done, total)
                } catch {
                    results.lock.lock()
                    if results.error == nil { results.error = error }
                    results.lock.unlock()
                    return
                }
            }
        }
        if let error = results.error { throw error }
        return results.songs.map { $0! }
    }

    private static func renderOne(_ entry: CorpusPlan.Entry, plan: CorpusPlan, renderer: CorpusRenderer,
                                  folder: String, work: String) throws -> CorpusSong {
        let artist = plan.artists[entry.artist]
        let song = plan.compose(entry)
        let audio = try renderer.render(song, artist: artist, work: work)
        let file = "audio/\(entry.id).wav"
        try AudioFile.writeWAV(folder + "/" + file, samples: audio, sampleRate: renderer.sampleRate)
        return CorpusSong(id: entry.id, file: file, genre: artist.genre.name, artist: artist.name, lyrics: song.lyrics,
                          seconds: Double(audio.count) / Double(renderer.sampleRate), bpm: artist.tempo,
                          key: artist.keyName, split: entry.split,
                          words: song.vocals.map { TimedWord(text: $0.text, start: $0.start, end: $0.start + $0.length) })
    }

    private static func writeIndex(_ songs: [CorpusSong], plan: CorpusPlan, recipe: CorpusRecipe, into folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = try songs.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder + "/songs.jsonl")

        try CorpusIndex.writeLabelLists(artists: plan.artists.map(\.name), genres: GenreStyle.all.map(\.name), into: folder)

        struct Summary: Encodable {
            let format: Int, seed: UInt64, sample_rate: Int, minutes_requested: Double
            let total_seconds: Double, songs: Int, held_out: Int, genres: [String]
            let artists: [[String: String]]
        }
        let summary = Summary(
            format: formatVersion, seed: recipe.seed, sample_rate: recipe.sampleRate, minutes_requested: recipe.minutes,
            total_seconds: songs.reduce(0) { $0 + $1.seconds }, songs: songs.count,
            held_out: songs.filter { $0.split == "test" }.count, genres: GenreStyle.all.map(\.name),
            artists: plan.artists.map { ["name": $0.name, "genre": $0.genre.name, "key": $0.keyName,
                                         "vocals": $0.sings ? "yes" : "no"] })
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(summary), to: folder + "/dataset.json")
    }
}
