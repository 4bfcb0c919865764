import ArgumentParser
import Foundation
import JukeboxCore
import JukeboxCorpus
import JukeboxEvaluation
import JukeboxTraining

/// Adds a song's labels to its codes file for training: `labels` (artist id, genre ids padded with −1) and
/// `lyrics` (the whole song's lyric tokens), resolved as the reference's labeller does.
struct TrainLabel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Add artist, genre and lyrics to a codes file (from `jukebox encode`) for `train prior`.",
        discussion: """
            IDS is a folder with the id lists: a prior model folder (artist_ids.txt, genre_ids.txt) or the \
            reference's jukebox/data/ids (v2_… or v3_… lists). Unknown names become id 0 (unknown) with a \
            warning naming the closest known ones; characters the lyric vocabulary lacks are listed.
            """)

    @Argument(help: "Codes file to update (z0, z1, z2 of one song).") var codes: String
    @Option(help: "Folder with the artist and genre id lists.") var ids: String
    @Flag(help: "The v3 lists and lyric vocabulary (1b_lyrics); v2 otherwise (5b, 5b_lyrics).") var v3 = false
    @Option(help: "Artist name.") var artist: String
    @Option(help: "Genre (v2: up to --max-bow-genre-size words).") var genre: String
    @Option(help: "Lyrics, or @FILE to read them from a file.") var lyrics: String = ""
    @Option(name: .customLong("max-bow-genre-size"), help: "Genre slots of the prior (5 for v2, 1 for v3).") var maxBowGenreSize: Int?

    func run() throws {
        let vocabulary = try LabelVocabulary(modelFolder: ids, v3: v3)
        let slots = maxBowGenreSize ?? (v3 ? 1 : 5)
        var text = lyrics
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else { throw JukeboxError(path, "missing or unreadable") }
            text = String(decoding: data, as: UTF8.self)
        }
        let song = try SongLabelCodes(vocabulary: vocabulary, artist: artist, genre: genre, lyrics: text, genreSlots: slots)
        for w in song.warnings { Log.note("warning: " + w) }

        let file = try SafetensorsFile(path: codes)
        var matrices: [(name: String, codes: LevelCodes)] = []
        for name in file.names where name != "labels" && name != "lyrics" {
            matrices.append((name, try CodesFile.read(file, name)))
        }
        guard let rows = matrices.first(where: { $0.name.hasPrefix("z") })?.codes.n, rows == 1 else {
            throw JukeboxError(codes, "holds no codes of a single song (z0, z1, z2 with one row)")
        }
        matrices += try song.matrices
        try CodesFile.write(matrices, to: codes, metadata: file.metadata)
        Log.note("labelled \(codes): artist \(song.labels[0]), genres \(song.labels.dropFirst().filter { $0 >= 0 }), \(song.lyricTokens.count) lyric tokens")
    }
}
