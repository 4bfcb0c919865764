import Foundation
import JukeboxCore

/// Turns a corpus into training data for the priors: each song encoded by a VQ-VAE into codes of every
/// level, with its labels, lyric tokens and bar clock (the corpus's songs are in 4/4 and start on a
/// downbeat), one codes file per song (what `train prior --data` reads).
public enum CorpusEncoder {
    /// Encodes the songs of `split` ("train", "test" or nil for all) of the corpus at `corpus` into
    /// `output` (created if needed; files of the same song are replaced). Returns the files written.
    /// Labels are ids in the corpus's own lists, or in `vocabulary` (a model's lists grown by the corpus's
    /// names, for fine-tuning) with `genreSlots` genre ids a song.
    @discardableResult
    public static func encode(corpus: String, vqvae: VQVAE, split: String?, to output: String,
                              vocabulary given: LabelVocabulary? = nil, genreSlots: Int = 1,
                              progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> [String] {
        let songs = try CorpusIndex.read(corpus).filter { split == nil || $0.split == split }
        guard !songs.isEmpty else { throw JukeboxError(corpus, "holds no \(split ?? "") songs".replacingOccurrences(of: "  ", with: " ")) }
        // The corpus's lists are whole lower-case names, as the v3 lookups take them; one genre per song.
        let vocabulary = try given ?? LabelVocabulary(modelFolder: corpus, v3: true)
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw JukeboxError(output, "cannot create folder (\(error.localizedDescription))")
        }
        var written: [String] = []
        for (i, song) in songs.enumerated() {
            let source = (corpus as NSString).appendingPathComponent(song.file)
            // Read and encoded in windows (47 s: a rendered song in one), so an imported hour-long recording
            // takes the memory of a window, not of the hour.
            let codes = try vqvae.encode(reader: AudioReader(source, sampleRate: vqvae.sampleRate), chunkSamples: 1 << 21).codes
            let labels = try SongLabelCodes(vocabulary: vocabulary, artist: song.artist, genre: song.genre,
                                            lyrics: song.lyrics, genreSlots: genreSlots)
            if let problem = labels.warnings.first { throw JukeboxError(source, "labels: \(problem)") }
            let path = (output as NSString).appendingPathComponent(song.id + ".safetensors")
            let clock = try BarClock(bpm: song.bpm, sampleRate: Double(vqvae.sampleRate),
                                     downbeat: Int(((song.downbeat ?? 0) * Double(vqvae.sampleRate)).rounded()))
            let clockMatrix = ("bar_clock", try LevelCodes(n: 1, t: 2, values: [clock.barLength, clock.downbeat]))
            // When each word is sung, in milliseconds (start, end): what alignments are measured against.
            let words = try song.words.flatMap { $0.isEmpty ? nil : $0 }.map { words in
                [("word_times", try LevelCodes(n: words.count, t: 2, values: words.flatMap {
                    [Int(($0.start * 1000).rounded()), Int(($0.end * 1000).rounded())] }))]
            } ?? []
            try CodesFile.write(codes.enumerated().map { ("z\($0.offset)", $0.element) } + labels.matrices + [clockMatrix] + words, to: path,
                                metadata: ["source": source, "sample_rate": "\(vqvae.sampleRate)", "split": song.split])
            written.append(path)
            progress(i + 1, songs.count)
        }
        return written
    }
}

/// songs.jsonl of a corpus folder, read strictly: a bad line is an error naming the file and line.
public enum CorpusIndex {
    public static func read(_ folder: String) throws -> [CorpusSong] {
        let list = (folder as NSString).appendingPathComponent("songs.jsonl")
        guard let text = try? String(contentsOfFile: list, encoding: .utf8) else {
            throw JukeboxError(list, "cannot read (is \(folder) a corpus from `jukebox dataset build`?)")
        }
        return try text.split(separator: "\n").enumerated().map { n, line in
            guard let song = try? JSONDecoder().decode(CorpusSong.self, from: Data(line.utf8)) else {
                throw JukeboxError(list, "line \(n + 1) is not a song record")
            }
            return song
        }
    }
}
