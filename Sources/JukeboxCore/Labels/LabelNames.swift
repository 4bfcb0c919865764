import Foundation

/// One id list of the reference (`v2_artist_ids.txt`, `v3_genre_ids.txt`, ...): lines `name;id`,
/// several names may share an id. Loaded as the reference's ArtistGenreProcessor does: each line
/// stripped of surrounding whitespace, split at ';', the name lowercased; a later line with the
/// same (lowercased) name replaces the earlier one.
public struct LabelNameList: Sendable {
    /// The file the list came from, for messages.
    public let source: String
    /// name → id, as the reference's dictionary ends up.
    public let ids: [String: Int]
    /// Every distinct name with the id it finally maps to, in order of first appearance in the
    /// file (what a picker shows).
    public let entries: [(name: String, id: Int)]
    /// id → the reference's display name: all names of that id, sorted by code point, joined by '_'.
    public let names: [Int: String]
    /// Names as code point arrays, parallel to `entries`, for suggestions.
    let scalars: [[UInt32]]

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JukeboxError(path, "cannot read the label id list")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw JukeboxError(path, "label id list is not UTF-8 text")
        }
        try self.init(text: text, source: path)
    }

    public init(text: String, source: String) throws {
        self.source = source
        var ids: [String: Int] = [:]
        var order: [String] = []
        var lineNumber = 0
        // Python's text mode splits lines at \n, \r and \r\n.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            lineNumber += 1
            let line = PythonText.strip(rawLine)
            if line.isEmpty { continue }  // the reference would fail here; a blank line carries nothing
            let parts = line.split(separator: ";", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw JukeboxError(source, "line \(lineNumber): expected 'name;id', got '\(line)'")
            }
            guard let id = Int(PythonText.strip(parts[1])), id >= 0 else {
                throw JukeboxError(source, "line \(lineNumber): id '\(parts[1])' is not a non-negative integer")
            }
            let name = PythonText.lower(String(parts[0]))
            if ids[name] == nil { order.append(name) }
            ids[name] = id
        }
        guard !ids.isEmpty else { throw JukeboxError(source, "label id list is empty") }
        self.ids = ids
        self.entries = order.map { ($0, ids[$0] ?? 0) }
        self.scalars = order.map { $0.unicodeScalars.map(\.value) }
        var byID: [Int: [String]] = [:]
        for (name, id) in ids { byID[id, default: []].append(name) }
        var names: [Int: String] = [:]
        for (id, list) in byID {
            names[id] = list.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) { $0.value < $1.value } }
                .joined(separator: "_")
        }
        self.names = names
    }

    /// The file name without its folder, for warnings.
    public var fileName: String { (source as NSString).lastPathComponent }

    /// The largest id in the list (the embedding needs at least this many + 1 bins).
    public var maxID: Int { ids.values.max() ?? 0 }

    /// Up to `limit` names closest to `query` (already normalised the way lookups are):
    /// Levenshtein distance on code points, with names that contain the query as a whole ranked
    /// as if they were close (so "beatles" finds "the beatles"). Ties keep file order.
    public func closest(to query: String, limit: Int = 5) -> [String] {
        let q = query.unicodeScalars.map(\.value)
        guard !q.isEmpty, limit > 0 else { return [] }
        var best: [(score: Double, index: Int)] = []
        var cutoff = Double.infinity
        var previous = [Int32](repeating: 0, count: q.count + 1)
        var current = previous
        for (index, name) in scalars.enumerated() {
            var score = Double.infinity
            if q.count >= 3, name.count > q.count, contains(name, q) {
                score = 1 + Double(name.count - q.count) / 4
            }
            let lengthGap = abs(name.count - q.count)
            if Double(lengthGap) < min(score, cutoff) {
                let bound = min(score, cutoff)
                if let d = levenshtein(q, name, bound: bound, &previous, &current) { score = min(score, Double(d)) }
            }
            guard score < cutoff || best.count < limit else { continue }
            guard score.isFinite else { continue }
            let slot = best.firstIndex { $0.score > score } ?? best.count
            best.insert((score, index), at: slot)
            if best.count > limit { best.removeLast() }
            if best.count == limit { cutoff = best[limit - 1].score }
        }
        return best.map { entries[$0.index].name }
    }

    private func contains(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        outer: for start in 0...(haystack.count - needle.count) {
            for k in 0..<needle.count where haystack[start + k] != needle[k] { continue outer }
            return true
        }
        return false
    }

    /// Edit distance, or nil once every path exceeds `bound` (not worth finishing).
    private func levenshtein(_ a: [UInt32], _ b: [UInt32], bound: Double,
                             _ previous: inout [Int32], _ current: inout [Int32]) -> Int? {
        let n = a.count
        for i in 0...n { previous[i] = Int32(i) }
        for j in 1...max(b.count, 1) where j <= b.count {
            current[0] = Int32(j)
            var rowMin = current[0]
            let bj = b[j - 1]
            for i in 1...n {
                let substitution = previous[i - 1] + (a[i - 1] == bj ? 0 : 1)
                let v = min(substitution, min(previous[i], current[i - 1]) + 1)
                current[i] = v
                if v < rowMin { rowMin = v }
            }
            if Double(rowMin) >= bound { return nil }
            swap(&previous, &current)
        }
        return Int(previous[n])
    }
}
