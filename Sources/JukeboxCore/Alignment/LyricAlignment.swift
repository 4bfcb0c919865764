import Foundation

/// When a clip sings each part of its lyrics: per character the model saw, the time it is reached and the
/// attention it got; per word and line of the lyrics as written, start and end (seconds from the clip's
/// start). Words the clip ends before are left out, as are lines with none of their words sung.
public struct LyricAlignment: Codable, Equatable, Sendable {
    public struct Character: Codable, Equatable, Sendable {
        public let text: String
        public let time: Double?
        public let weight: Float
    }

    public struct Word: Codable, Equatable, Sendable {
        /// The word's place among all the words of the lyrics (0 = the first).
        public let index: Int
        public let text: String
        public let start: Double
        public let end: Double
    }

    public struct Line: Codable, Equatable, Sendable {
        public let text: String
        public let start: Double
        public let end: Double
        public let words: [Word]
    }

    /// "attention" (a layer and head of the top prior) or "even" (characters spread evenly over the song, as
    /// the lyric windows assume).
    public let method: String
    public let layer: Int?
    public let head: Int?
    public let seconds: Double
    public let characters: [Character]
    public let lines: [Line]

    public var words: [Word] { lines.flatMap(\.words) }

    /// From the time each character the model saw is first reached (nil: not within the clip).
    public init(method: String, layer: Int? = nil, head: Int? = nil, lyrics: String, text: TextProcessor,
                onsets: [Double?], weights: [Float], seconds: Double) {
        (self.method, self.layer, self.head, self.seconds) = (method, layer, head, seconds)
        let cleaned = text.inspect(lyrics)
        let scalars = Array(cleaned.text.unicodeScalars)
        characters = scalars.indices.map { i in
            Character(text: String(scalars[i]), time: i < onsets.count ? onsets[i] : nil, weight: i < weights.count ? weights[i] : 0)
        }
        // The cleaned character each input scalar starts at or, for scalars the model cannot see, the next one.
        let source = Array(lyrics.unicodeScalars)
        var firstCleaned = [Int](repeating: scalars.count, count: source.count + 1)
        for (k, origin) in cleaned.origins.enumerated().reversed() { firstCleaned[origin] = k }
        for i in stride(from: source.count - 1, through: 0, by: -1) { firstCleaned[i] = min(firstCleaned[i], firstCleaned[i + 1]) }
        func onset(_ k: Int) -> Double? { k < onsets.count ? onsets[k] : nil }

        var lines: [Line] = []
        var words: [Word] = []
        var lineStart = 0
        func closeLine(_ end: Int) {
            let text = String(String.UnicodeScalarView(source[lineStart..<end])).trimmingCharacters(in: .whitespaces)
            if let first = words.first, let last = words.last {
                lines.append(Line(text: text, start: first.start, end: last.end, words: words))
            }
            words = []
        }
        var i = 0, index = 0
        while i < source.count {
            let s = source[i]
            if s == "\n" || s == "\\" || s == "\r" {
                closeLine(i)
                lineStart = i + 1
                i += 1
                continue
            }
            if s.properties.isWhitespace { i += 1; continue }
            var j = i
            while j < source.count, !source[j].properties.isWhitespace, source[j] != "\\" { j += 1 }
            // A word starts when its first visible character is reached and ends when the next one after it is; a
            // word the model cannot see at all takes the time of the next visible word.
            var first = firstCleaned[i]
            if first >= firstCleaned[j] {
                while first < scalars.count && scalars[first].properties.isWhitespace { first += 1 }
            }
            if let start = onset(first) {
                let end = min(max(onset(firstCleaned[j]) ?? seconds, start), seconds)
                words.append(Word(index: index, text: String(String.UnicodeScalarView(source[i..<j])), start: start, end: end))
            }
            index += 1
            i = j
        }
        closeLine(source.count)
        self.lines = lines
    }

    /// The hps key (ours) of the spread the alignment head's path is held near the even spread with; absent: not held.
    public static let spreadKey = "alignment_spread"

    /// The attention of `layer`/`head` read as a monotone path (AttentionMap.path): a character's time is the
    /// first code at which the path reaches it.
    ///
    /// With `evenPrior` the path is held near the even spread of the characters over the song (of
    /// `songSeconds`, the clip starting `offsetSeconds` in), `spread` of the characters being one standard
    /// deviation: method "attention+even".
    public static func fromAttention(_ map: AttentionMap, layer: Int, head: Int, lyrics: String, text: TextProcessor,
                                     secondsPerCode: Double,
                                     evenPrior: (songSeconds: Double, offsetSeconds: Double, spread: Double)? = nil) -> LyricAlignment {
        let count = text.inspect(lyrics).text.unicodeScalars.count
        var onsets = [Double?](repeating: nil, count: count)
        var next = 0
        let path: [Int]
        if let evenPrior, evenPrior.songSeconds > 0 {
            let expected = (0..<map.codes).map { t in
                (Double(t) * secondsPerCode + evenPrior.offsetSeconds) / evenPrior.songSeconds * Double(count) - 0.5
            }
            path = map.path(head: head, expected: expected, spread: max(evenPrior.spread * Double(count), 1))
        } else {
            path = map.path(head: head)
        }
        for (t, c) in path.enumerated() where c >= next {
            for k in next...min(c, count - 1) where k < count { onsets[k] = Double(t) * secondsPerCode }
            next = c + 1
            if next >= count { break }
        }
        return LyricAlignment(method: evenPrior == nil ? "attention" : "attention+even", layer: layer, head: head, lyrics: lyrics,
                              text: text, onsets: onsets,
                              weights: map.peakWeights(head: head, characters: count),
                              seconds: Double(map.codes) * secondsPerCode)
    }

    /// What the lyric windows assume: the characters spread evenly over the whole song, of which the clip is the
    /// stretch from `offsetSeconds` on.
    public static func evenSpread(lyrics: String, text: TextProcessor, songSeconds: Double, offsetSeconds: Double = 0,
                                  seconds: Double) -> LyricAlignment {
        let count = text.inspect(lyrics).text.unicodeScalars.count
        let onsets: [Double?] = (0..<count).map { k in
            let t = (Double(k) + 0.5) / Double(max(count, 1)) * songSeconds - offsetSeconds
            return t >= 0 && t < seconds ? t : nil
        }
        return LyricAlignment(method: "even", lyrics: lyrics, text: text, onsets: onsets,
                              weights: [Float](repeating: 0, count: count), seconds: seconds)
    }
}
