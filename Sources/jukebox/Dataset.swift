import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// `jukebox dataset ...`: the training corpus.
struct Dataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build the labelled training corpus (genre, artist, lyrics) the default model learns from.",
        subcommands: [DatasetBuild.self, DatasetImport.self, DatasetEncode.self])
}

struct DatasetBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compose and render a labelled corpus from a seed.",
        discussion: """
            Eight genres, several invented artists per genre, each with a style of its own (key, tempo, \
            progression, groove, instruments, voice); songs are composed procedurally, played by FluidSynth \
            through a General MIDI soundfont, and two artists in three sing invented lyrics with espeak-ng. \
            The same seed gives the same corpus. Needs the Debian packages fluidsynth, fluid-soundfont-gm \
            and espeak-ng.
            """)

    @Option(name: .shortAndLong, help: "Corpus folder to write (must not exist, or be empty).") var out: String
    @Option(help: "Seed of the corpus (the same seed gives the same songs).") var seed: UInt64 = 0
    @Option(help: "Minutes of audio to make.") var minutes: Double = 60
    @Option(help: "Invented artists per genre.") var artistsPerGenre: Int = 3
    @Option(help: "General MIDI soundfont (.sf2).") var soundfont: String = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
    @Option(help: "Songs rendered at once.") var workers: Int = 2

    func run() throws {
        guard minutes > 0, minutes.isFinite else { throw JukeboxError("--minutes", "must be a positive number, got \(minutes)") }
        guard (1...20).contains(artistsPerGenre) else { throw JukeboxError("--artists-per-genre", "must be 1 to 20, got \(artistsPerGenre)") }
        guard (1...64).contains(workers) else { throw JukeboxError("--workers", "must be 1 to 64, got \(workers)") }
        var recipe = CorpusRecipe(seed: seed, minutes: minutes)
        recipe.artistsPerGenre = artistsPerGenre
        recipe.soundfont = soundfont
        recipe.workers = workers
        let plan = CorpusPlan(recipe)
        let bar = Progress.Bar("rendering \(plan.entries.count) songs", total: plan.entries.count)
        let songs = try CorpusBuilder.build(recipe, to: out) { done, _ in bar.update(done, unit: "songs") }
        let seconds = songs.reduce(0) { $0 + $1.seconds }
        Log.note(String(format: "wrote %@: %d songs, %.1f minutes, %d genres, %d artists, %d held out", out, songs.count,
                        seconds / 60, Set(songs.map(\.genre)).count, Set(songs.map(\.artist)).count,
                        songs.filter { $0.split == "test" }.count))
    }
}

struct DatasetImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Make a corpus of your own recordings (any format libsndfile reads) for `dataset encode` and training.",
        discussion: """
            Labels: labels.csv in DIR (a header naming file, artist, genre and optionally lyrics and bpm; paths             relative to DIR), else the first folder below DIR names the artist (DIR/ARTIST/...), else --artist;             the genre is the CSV's or --genre. Lyrics: a .txt or .lrc beside each file with its name (an LRC with a             time on every word also gives when each is sung). Tempo: the labels file's, else estimated. About one song in             --held-out-every is held out, chosen from its path (the same folder gives the same split). Files that             cannot be read are listed and left out. DIR is only read; each song is written to OUT as mono 16-bit             WAV at 44.1 kHz.
            """)

    @Argument(help: "Folder of recordings.") var folder: String
    @Option(name: .shortAndLong, help: "Corpus folder to write (must not exist, or be empty; not inside DIR).") var out: String
    @Option(help: "Artist of recordings no labels file or artist folder names.") var artist: String?
    @Option(help: "Genre of recordings no labels file gives one.") var genre: String?
    @Option(name: .customLong("held-out-every"), help: "Hold out about one song in this many (0: none).") var heldOutEvery: Int = 7
    @Option(help: "Seed of the held-out choice.") var seed: UInt64 = 0
    @Option(name: .customLong("longest-minutes"), help: "Leave out (and list) recordings longer than this.")
    var longestMinutes: Double = CorpusImporter.Options().longestMinutes

    func run() throws {
        var options = CorpusImporter.Options(artist: artist, genre: genre)
        (options.heldOutEvery, options.seed, options.longestMinutes) = (heldOutEvery, seed, longestMinutes)
        var bar: Progress.Bar? = nil
        let report = try CorpusImporter.importFolder(folder, to: out, options: options) { done, total in
            if bar == nil { bar = Progress.Bar("importing \(total) files", total: total) }
            bar?.update(done, unit: "files")
        }
        for (file, reason) in report.skipped { Log.note("skipped \(file): \(reason)") }
        let seconds = report.songs.reduce(0) { $0 + $1.seconds }
        Log.note(String(format: "wrote %@: %d songs, %.1f minutes, %d artists, %d genres, %d held out, %d skipped", out,
                        report.songs.count, seconds / 60, Set(report.songs.map(\.artist)).count,
                        Set(report.songs.map(\.genre)).count, report.songs.filter { $0.split == "test" }.count,
                        report.skipped.count))
    }
}

struct DatasetEncode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a corpus's songs with a VQ-VAE into labelled code files for `train prior --data`.",
        discussion: """
            Each song becomes OUT/<id>.safetensors holding z0, z1, z2 (its codes at every level), labels \
            (artist id and genre id from the corpus's lists) and lyrics (the tokens of its cleaned lyrics).
            """)

    @Option(help: "VQ-VAE model folder.") var vqvae: String
    @Option(help: "Corpus folder from `jukebox dataset build`.") var data: String
    @Option(help: "Which songs: train, test or all.") var split: String = "train"
    @Option(name: .shortAndLong, help: "Folder for the code files.") var output: String

    func run() throws {
        guard ["train", "test", "all"].contains(split) else { throw JukeboxError("--split", "must be train, test or all, got \(split)") }
        let model = try VQVAE(folder: vqvae)
        let count = try CorpusIndex.read(data).filter { split == "all" || $0.split == split }.count
        let bar = Progress.Bar("encoding \(count) songs", total: count)
        let files = try CorpusEncoder.encode(corpus: data, vqvae: model, split: split == "all" ? nil : split, to: output) { done, _ in
            bar.update(done, unit: "songs")
        }
        Log.note("wrote \(files.count) code files to \(output)")
    }
}
