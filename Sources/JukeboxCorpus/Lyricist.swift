import JukeboxCore
/// Writes the corpus's lyrics from a genre's words: short lines in a handful of shapes, lower case,
/// only letters and spaces, so every character reaches the model's lyric vocabulary.
struct Lyricist {
    let words: LyricWords

    static let shapes: [[String]] = [
        ["the", "A", "N", "will", "V"], ["i", "V", "with", "the", "N"], ["A", "N", "and", "A", "N"],
        ["we", "V", "all", "A", "night"], ["V", "V", "my", "N"], ["my", "N", "is", "A"],
        ["oh", "N", "V", "on"], ["come", "and", "V", "the", "A", "N"],
    ]

    func line(_ rng: inout SeededGenerator) -> [String] {
        let shape = Self.shapes[Int(rng.next() % UInt64(Self.shapes.count))]
        return shape.map { slot in
            switch slot {
            case "A": return words.adjectives[Int(rng.next() % UInt64(words.adjectives.count))]
            case "N": return words.nouns[Int(rng.next() % UInt64(words.nouns.count))]
            case "V": return words.verbs[Int(rng.next() % UInt64(words.verbs.count))]
            default: return slot
            }
        }
    }
}

/// Lyrics for a prompt nobody tuned for: lines the corpus's lyricist writes for a genre from a seed of
/// their own, not any training song's (what `eval genre --prompts fresh` asks with).
public enum FreshLyrics {
    /// `lines` lines for `genre` (nil for a genre the corpus does not have).
    public static func write(genre: String, lines: Int = 2, seed: UInt64) -> String? {
        guard let style = GenreStyle.all.first(where: { $0.name == genre }) else { return nil }
        var rng = SeededGenerator(seed: seed ^ 0xF8E5_11A5)
        let lyricist = Lyricist(words: style.words)
        return (0..<max(1, lines)).map { _ in lyricist.line(&rng).joined(separator: " ") }.joined(separator: "\n")
    }
}
