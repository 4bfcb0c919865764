import Foundation

/// How much more (or less) likely each top-level code is at each place in the bar than in the artist's
/// songs overall, counted from training code files: log p(code | artist, place) − log p(code | artist).
///
/// Sampling adds `strength` times this to the top prior's logits (our addition, `--bar-guidance`). The
/// prior predicts each code from the codes before it, so a sample that drifts off the beat follows its own
/// drift; the counts know where the artist's onsets fall in the bar whatever came before, and the sum
/// (a product of the two distributions) keeps the onsets on the bar. Only a set that ships the file and a
/// prompt with a bar clock use it.
///
/// The file may also hold the genres' own tilt, log p(code | genre) − log p(code) over all the songs, which
/// `--genre-guidance` adds: the codes a genre uses more than the others, whichever of its artists is asked
/// for (an artist whose songs lean toward a neighbouring genre is drawn back toward its own).
public struct BarGuide: Sendable {
    public static let fileName = "bar_guide.safetensors"
    static let tensorName = "log_ratio"
    static let genreTensorName = "genre_log_ratio"

    /// Artists (the top prior's artist ids), places per bar, codes.
    public let artists: Int, bins: Int, codes: Int
    /// [artists, bins, codes], natural log.
    let logRatio: [Float]
    /// Genres (the top prior's genre ids) of `genreLogRatio`: 0 in a guide counted without them.
    public let genres: Int
    /// [genres, codes], natural log (empty when `genres` is 0).
    let genreLogRatio: [Float]

    public init(artists: Int, bins: Int, codes: Int, logRatio: [Float], genres: Int = 0, genreLogRatio: [Float] = []) throws {
        guard artists > 0, bins > 0, codes > 0, logRatio.count == artists * bins * codes else {
            throw JukeboxError("bar guide", "\(logRatio.count) values do not fill \(artists) artists × \(bins) places × \(codes) codes")
        }
        guard genres >= 0, genreLogRatio.count == genres * codes else {
            throw JukeboxError("bar guide", "\(genreLogRatio.count) genre values do not fill \(genres) genres × \(codes) codes")
        }
        guard logRatio.allSatisfy(\.isFinite), genreLogRatio.allSatisfy(\.isFinite) else {
            throw JukeboxError("bar guide", "holds values that are not finite")
        }
        (self.artists, self.bins, self.codes, self.logRatio) = (artists, bins, codes, logRatio)
        (self.genres, self.genreLogRatio) = (genres, genreLogRatio)
    }

    /// The tilt of `genre`, `codes` values; nil for a genre outside the table (or a guide without genres).
    public func genreRow(genre: Int) -> ArraySlice<Float>? {
        guard genre >= 0 && genre < genres else { return nil }
        return genreLogRatio[(genre * codes)..<((genre + 1) * codes)]
    }

    /// log p(code | place) − log p(code) for one table of counts [places, codes]: each place's distribution
    /// smoothed toward the table's own with `prior` pseudo-counts (a place seen rarely says little), and that
    /// one itself lightly smoothed so no code has probability 0. Zeros for a table without counts.
    public static func placeTilt(counts: ArraySlice<Double>, places: Int, codes: Int, prior: Double) -> [Float] {
        precondition(counts.count == places * codes, "placeTilt: \(counts.count) counts for \(places) × \(codes)")
        let first = counts.startIndex
        var overall = [Double](repeating: 0, count: codes)
        for b in 0..<places { for k in 0..<codes { overall[k] += counts[first + b * codes + k] } }
        let total = overall.reduce(0, +)
        var ratio = [Float](repeating: 0, count: places * codes)
        guard total > 0 else { return ratio }
        let p = overall.map { ($0 + 0.5) / (total + 0.5 * Double(codes)) }
        for b in 0..<places {
            let row = first + b * codes
            ratio.replaceSubrange((b * codes)..<((b + 1) * codes), with: rowTilt(counts[row..<(row + codes)], base: p, prior: prior))
        }
        return ratio
    }

    /// log p(code | row) − log base(code) for one row of counts, the row's distribution smoothed toward `base`
    /// (no code at probability 0) with `prior` pseudo-counts.
    public static func rowTilt(_ counts: ArraySlice<Double>, base: [Double], prior: Double) -> [Float] {
        let seen = counts.reduce(0, +)
        return zip(counts, base).map { count, p in Float(log((count + prior * p) / (seen + prior) / p)) }
    }

    /// The row for `artist` at place `bin` of the bar, `codes` values; nil for an artist outside the table.
    func row(artist: Int, bin: Int) -> ArraySlice<Float>? {
        guard artist >= 0 && artist < artists, bin >= 0 && bin < bins else { return nil }
        let start = (artist * bins + bin) * codes
        return logRatio[start..<(start + codes)]
    }

    /// This guide with the rows of artists it lacks taken from `counted` (a guide counted on new artists'
    /// songs with the grown lists): the artists it knows keep their rows.
    public func grown(by counted: BarGuide) throws -> BarGuide {
        guard counted.bins == bins, counted.codes == codes, counted.artists >= artists else {
            throw JukeboxError("bar guide", "cannot grow \(artists)×\(bins)×\(codes) by \(counted.artists)×\(counted.bins)×\(counted.codes)")
        }
        // Genres likewise: the known keep their rows, new ones take the counted rows (none without both).
        let keepsGenres = genres > 0 && counted.genres >= genres
        return try BarGuide(artists: counted.artists, bins: bins, codes: codes,
                            logRatio: logRatio + counted.logRatio[(artists * bins * codes)...],
                            genres: keepsGenres ? counted.genres : 0,
                            genreLogRatio: keepsGenres ? genreLogRatio + counted.genreLogRatio[(genres * codes)...] : [])
    }

    // MARK: File

    public func write(to path: String) throws {
        var w = SafetensorsWriter()
        w.add(Self.tensorName, Tensor(shape: [artists, bins, codes], values: logRatio))
        if genres > 0 { w.add(Self.genreTensorName, Tensor(shape: [genres, codes], values: genreLogRatio)) }
        try w.write(to: path)
    }

    public static func load(_ path: String) throws -> BarGuide {
        let file = try SafetensorsFile(path: path)
        let e = try file.entry(tensorName)
        guard e.shape.count == 3 else { throw JukeboxError(path, "\(tensorName) has shape \(e.shape); expected artists × places × codes") }
        let values = try file.tensor(tensorName).toArray()
        var genres = 0, genreValues: [Float] = []
        if file.entries[genreTensorName] != nil {
            let g = try file.entry(genreTensorName)
            guard g.shape.count == 2, g.shape[1] == e.shape[2] else {
                throw JukeboxError(path, "\(genreTensorName) has shape \(g.shape); expected genres × \(e.shape[2]) codes")
            }
            (genres, genreValues) = (g.shape[0], try file.tensor(genreTensorName).toArray())
        }
        do {
            return try BarGuide(artists: e.shape[0], bins: e.shape[1], codes: e.shape[2], logRatio: values,
                                genres: genres, genreLogRatio: genreValues)
        } catch let error as JukeboxError {
            throw JukeboxError(path, error.message)
        }
    }

    /// `folder/bar_guide.safetensors` when present (nil when absent); a file that is there must be sound.
    public static func load(setFolder folder: String) throws -> BarGuide? {
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path)
    }
}
