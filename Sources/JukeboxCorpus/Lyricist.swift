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
