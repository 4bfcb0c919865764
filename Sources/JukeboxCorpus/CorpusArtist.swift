import JukeboxCore
/// A made-up artist of the corpus: one genre, and the choices that make its songs sound alike
/// (key, tempo, progression, groove, instruments, voice) while other artists of the genre differ.
public struct CorpusArtist: Sendable {
    public let name: String
    public let genre: GenreStyle
    /// Pitch class of the key's root (0 = C).
    let key: Int
    let tempo: Double
    let progression: [Int]
    let groove: DrumGroove?
    let leadProgram: Int
    let compProgram: Int
    let bassProgram: Int
    /// Whether its songs have vocals (and so lyrics); some artists are instrumental.
    public let sings: Bool
    /// espeak-ng voice and base pitch (0–99) and speed (words per minute).
    let voice: String
    let voicePitch: Int
    let wordsPerMinute: Int

    static let noteNames = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
    public var keyName: String { "\(Self.noteNames[key]) \(genre.modeName)" }

    /// The artist `index` of `genre` in the corpus made from `seed`; the same arguments give the same artist.
    static func make(genre: GenreStyle, genreIndex: Int, index: Int, seed: UInt64) -> CorpusArtist {
        var rng = SeededGenerator(seed: seed &* 0x9E37_79B9 &+ UInt64(genreIndex * 97 + index * 13 + 1))
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        let span = genre.tempo.upperBound - genre.tempo.lowerBound
        let tempo = (genre.tempo.lowerBound + span * Double(rng.nextUnitFloat())).rounded()
        let voices = ["en+m1", "en+m3", "en+m7", "en+f2", "en+f3", "en+f4"]
        return CorpusArtist(
            name: ArtistName.make(rng: &rng),
            genre: genre, key: Int(rng.next() % 12), tempo: tempo,
            progression: genre.progressions[index % genre.progressions.count],
            groove: genre.grooves.isEmpty ? nil : genre.grooves[index % genre.grooves.count],
            leadProgram: genre.leadPrograms[index % genre.leadPrograms.count],
            compProgram: genre.compPrograms[index % genre.compPrograms.count],
            bassProgram: genre.bassPrograms[index % genre.bassPrograms.count],
            // Two artists of every three sing, so part of the corpus carries lyrics.
            sings: index % 3 != 2,
            voice: pick(voices), voicePitch: 30 + Int(rng.next() % 40),
            wordsPerMinute: genre.rapped ? 230 : 150 + Int(rng.next() % 40))
    }
}

/// Invented names from syllables: pronounceable, lower case, and not anybody's real name.
enum ArtistName {
    static let onsets = ["b", "d", "f", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "st", "gl"]
    static let vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
    static let codas = ["", "", "n", "r", "l", "x", "sh"]

    static func make(rng: inout SeededGenerator) -> String {
        func syllable(_ rng: inout SeededGenerator) -> String {
            onsets[Int(rng.next() % UInt64(onsets.count))] + vowels[Int(rng.next() % UInt64(vowels.count))]
                + codas[Int(rng.next() % UInt64(codas.count))]
        }
        let first = syllable(&rng) + syllable(&rng)
        let last = syllable(&rng) + syllable(&rng)
        return "\(first) \(last)"
    }
}
