/// Lyrics → tokens, as the reference's TextProcessor does it.
///
/// The vocabulary is A–Z a–z 0–9 . , : ; ! ? - [+ in v2 only] ' " ( ) [ ] space tab newline;
/// token = 1 + position in that string, 0 = <unk> (also the padding of short lyrics).
/// v2: 79 characters, n_vocab 80; v3: 78 characters, n_vocab 79.
///
/// Cleaning: every backslash becomes a newline (lyrics files write line breaks as "\"), then
/// every code point outside the vocabulary is removed. The reference first passes the text through
/// `unidecode` (ASCII transliteration); the golden fixtures were made without it ("café" → "caf"),
/// so that is the default here. `asciiFolding: true` approximates unidecode for Latin letters and
/// typographic punctuation (see ASCIIFolding).
public struct TextProcessor: Sendable {
    public let v3: Bool
    public let asciiFolding: Bool
    /// The vocabulary in token order: `vocabulary[t - 1]` is token t.
    public let vocabulary: [Unicode.Scalar]
    /// Token of each ASCII code point (0 where not in the vocabulary).
    private let tokenOfASCII: [Int]

    public init(v3: Bool, asciiFolding: Bool = false) {
        self.v3 = v3
        self.asciiFolding = asciiFolding
        let text = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;!?-" + (v3 ? "" : "+") + "'\"()[] \t\n"
        vocabulary = Array(text.unicodeScalars)
        var table = [Int](repeating: 0, count: 128)
        for (i, s) in vocabulary.enumerated() { table[Int(s.value)] = i + 1 }
        tokenOfASCII = table
    }

    /// Tokens including <unk> (0): the bins of the lyric embedding.
    public var nVocab: Int { vocabulary.count + 1 }

    /// The token of one code point, or nil when the model cannot see it.
    @inline(__always)
    public func token(of scalar: Unicode.Scalar) -> Int? {
        guard scalar.value < 128 else { return nil }
        let t = tokenOfASCII[Int(scalar.value)]
        return t == 0 ? nil : t
    }

    /// The reference's `clean`.
    public func clean(_ text: String) -> String { inspect(text).text }

    /// Cleans `text` and reports what the model will not see.
    public func inspect(_ text: String) -> CleanedLyrics {
        var out = String.UnicodeScalarView()
        var origins: [Int] = []
        var dropped: [CleanedLyrics.Dropped] = []
        var folded: [CleanedLyrics.Folded] = []
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            let s: Unicode.Scalar = scalar == "\\" ? "\n" : scalar
            if token(of: s) != nil { out.append(s); origins.append(offset); continue }
            if asciiFolding, let replacement = ASCIIFolding.fold(s) {
                var kept = String.UnicodeScalarView()
                // A replacement may itself hold a backslash or characters outside the vocabulary.
                for r in replacement.unicodeScalars {
                    let rs: Unicode.Scalar = r == "\\" ? "\n" : r
                    if token(of: rs) != nil { kept.append(rs) }
                }
                if !kept.isEmpty {
                    out.append(contentsOf: kept)
                    origins += [Int](repeating: offset, count: kept.count)
                    folded.append(.init(scalar: scalar, offset: offset, replacement: String(kept)))
                    continue
                }
            }
            dropped.append(.init(scalar: scalar, offset: offset))
        }
        return CleanedLyrics(text: String(out), dropped: dropped, folded: folded, origins: origins)
    }

    /// The reference's `tokenise` of cleaned text: one token per code point. A code point outside
    /// the vocabulary (text that was not cleaned) becomes 0 (<unk>) instead of failing.
    public func tokenise(_ cleaned: String) -> [Int] {
        cleaned.unicodeScalars.map { token(of: $0) ?? 0 }
    }

    /// clean then tokenise: the full token sequence of a song's lyrics.
    public func tokens(forLyrics lyrics: String) -> [Int] { tokenise(clean(lyrics)) }

    /// The reference's `textise`: tokens back to text, 0 (and anything out of range) as nothing.
    public func textise(_ tokens: [Int]) -> String {
        var out = String.UnicodeScalarView()
        for t in tokens where t >= 1 && t <= vocabulary.count { out.append(vocabulary[t - 1]) }
        return String(out)
    }
}

/// Cleaned lyrics and what cleaning took away (for showing "characters the model cannot see").
public struct CleanedLyrics: Sendable, Equatable {
    public struct Dropped: Sendable, Equatable {
        public let scalar: Unicode.Scalar
        /// Position in the input, counted in Unicode scalars.
        public let offset: Int
    }

    public struct Folded: Sendable, Equatable {
        public let scalar: Unicode.Scalar
        public let offset: Int
        /// What the model sees instead (only with ASCII folding).
        public let replacement: String
    }

    public let text: String
    public let dropped: [Dropped]
    public let folded: [Folded]
    /// For each scalar of `text`, the position in the input it came from (counted in Unicode scalars).
    public let origins: [Int]

    /// Each dropped character once, in order of first appearance, with how often it occurs.
    public var droppedSummary: [(character: Unicode.Scalar, count: Int)] {
        var order: [Unicode.Scalar] = []
        var counts: [Unicode.Scalar: Int] = [:]
        for d in dropped {
            if counts[d.scalar] == nil { order.append(d.scalar) }
            counts[d.scalar, default: 0] += 1
        }
        return order.map { ($0, counts[$0] ?? 0) }
    }

    /// `droppedSummary` as a person reads it, e.g. "é×2 ö×1" (invisible and combining characters by code point).
    public var droppedText: String {
        droppedSummary.map { "\(Self.shown($0.character))×\($0.count)" }.joined(separator: " ")
    }

    /// A character as a person can read it on its own: invisible and combining ones by code point.
    public static func shown(_ s: Unicode.Scalar) -> String {
        let category = s.properties.generalCategory
        if [.control, .format, .nonspacingMark, .enclosingMark, .spacingMark, .spaceSeparator,
            .lineSeparator, .paragraphSeparator].contains(category) {
            return "U+" + String(s.value, radix: 16, uppercase: true)
        }
        return String(s)
    }
}
