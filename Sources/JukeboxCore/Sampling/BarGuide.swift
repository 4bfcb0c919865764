import Foundation

/// How much more (or less) likely each top-level code is at each place in the bar than in the artist's
/// songs overall, counted from training code files: log p(code | artist, place) − log p(code | artist).
///
/// Sampling adds `strength` times this to the top prior's logits (our addition, `--bar-guidance`). The
/// prior predicts each code from the codes before it, so a sample that drifts off the beat follows its own
/// drift; the counts know where the artist's onsets fall in the bar whatever came before, and the sum
/// (a product of the two distributions) keeps the onsets on the bar. Only a set that ships the file and a
/// prompt with a bar clock use it.
public struct BarGuide: Sendable {
    public static let fileName = "bar_guide.safetensors"
    static let tensorName = "log_ratio"

    /// Artists (the top prior's artist ids), places per bar, codes.
    public let artists: Int, bins: Int, codes: Int
    /// [artists, bins, codes], natural log.
    let logRatio: [Float]

    public init(artists: Int, bins: Int, codes: Int, logRatio: [Float]) throws {
        guard artists > 0, bins > 0, codes > 0, logRatio.count == artists * bins * codes else {
            throw JukeboxError("bar guide", "\(logRatio.count) values do not fill \(artists) artists × \(bins) places × \(codes) codes")
        }
        guard logRatio.allSatisfy(\.isFinite) else { throw JukeboxError("bar guide", "holds values that are not finite") }
        (self.artists, self.bins, self.codes, self.logRatio) = (artists, bins, codes, logRatio)
    }

    /// Counts the codes of the training windows' songs (`PriorTrainingData` of the top prior, so the same
    /// songs and checks as training) that have a bar clock. Each place's distribution is smoothed toward
    /// the artist's overall one with `prior` pseudo-counts, so a place seen rarely says little; an artist
    /// without songs gets zeros (no guidance).
    public static func count(_ data: PriorTrainingData, bins: Int, prior: Double = 100) throws -> BarGuide {
        guard bins > 0 else { throw JukeboxError("--bins", "must be positive, got \(bins)") }
        let c = data.config
        guard c.labels else { throw JukeboxError("bar guide", "needs a labelled prior: it counts codes per artist") }
        let artists = c.yBins[1], codes = c.lBins
        var counts = [Double](repeating: 0, count: artists * bins * codes)
        var songs = 0
        for song in data.songs {
            guard let clock = song.barClock else { continue }
            for (t, code) in song.codes.enumerated() {
                counts[(song.artist * bins + clock.bin(atSample: t * data.hopLength, bins: bins)) * codes + code] += 1
            }
            songs += 1
        }
        guard songs > 0 else { throw JukeboxError("bar guide", "no song has a bar_clock to count") }
        var ratio = [Float](repeating: 0, count: counts.count)
        for a in 0..<artists {
            var overall = [Double](repeating: 0, count: codes)
            for b in 0..<bins { for k in 0..<codes { overall[k] += counts[(a * bins + b) * codes + k] } }
            let total = overall.reduce(0, +)
            guard total > 0 else { continue }
            // The artist's own distribution, itself lightly smoothed so no code has probability 0.
            let artistP = overall.map { ($0 + 0.5) / (total + 0.5 * Double(codes)) }
            for b in 0..<bins {
                let base = (a * bins + b) * codes
                let seen = (0..<codes).reduce(0.0) { $0 + counts[base + $1] }
                for k in 0..<codes {
                    let p = (counts[base + k] + prior * artistP[k]) / (seen + prior)
                    ratio[base + k] = Float(log(p / artistP[k]))
                }
            }
        }
        return try BarGuide(artists: artists, bins: bins, codes: codes, logRatio: ratio)
    }

    /// The row for `artist` at place `bin` of the bar, `codes` values; nil for an artist outside the table.
    func row(artist: Int, bin: Int) -> ArraySlice<Float>? {
        guard artist >= 0 && artist < artists, bin >= 0 && bin < bins else { return nil }
        let start = (artist * bins + bin) * codes
        return logRatio[start..<(start + codes)]
    }

    // MARK: File

    public func write(to path: String) throws {
        var w = SafetensorsWriter()
        w.add(Self.tensorName, Tensor(shape: [artists, bins, codes], values: logRatio))
        try w.write(to: path)
    }

    public static func load(_ path: String) throws -> BarGuide {
        let file = try SafetensorsFile(path: path)
        let e = try file.entry(tensorName)
        guard e.shape.count == 3 else { throw JukeboxError(path, "\(tensorName) has shape \(e.shape); expected artists × places × codes") }
        let values = try file.tensor(tensorName).toArray()
        do {
            return try BarGuide(artists: e.shape[0], bins: e.shape[1], codes: e.shape[2], logRatio: values)
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
