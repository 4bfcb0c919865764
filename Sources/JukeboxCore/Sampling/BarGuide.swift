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
        return try BarGuide(artists: counted.artists, bins: bins, codes: codes,
                            logRatio: logRatio + counted.logRatio[(artists * bins * codes)...])
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
