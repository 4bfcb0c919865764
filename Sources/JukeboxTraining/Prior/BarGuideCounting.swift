import Foundation
import JukeboxCore

extension BarGuide {
    /// Counts the codes of the training windows' songs (`PriorTrainingData` of the top prior, so the same
    /// songs and checks as training) that have a bar clock. Each place's distribution is smoothed toward
    /// the artist's overall one with `prior` pseudo-counts, so a place seen rarely says little; an artist
    /// without songs gets zeros (no guidance). The genres' tilt counts every song's codes (clock or not)
    /// under each of its genres, smoothed toward all songs' distribution likewise.
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
        var ratio: [Float] = []
        ratio.reserveCapacity(counts.count)
        for a in 0..<artists {
            let table = counts[(a * bins * codes)..<((a + 1) * bins * codes)]
            ratio += BarGuide.placeTilt(counts: table, places: bins, codes: codes, prior: prior)
        }
        let genres = c.yBins[0]
        return try BarGuide(artists: artists, bins: bins, codes: codes, logRatio: ratio, genres: genres,
                            genreLogRatio: genreTilt(data, genres: genres, codes: codes, prior: prior))
    }

    /// log p(code | genre) − log p(code), [genres, codes]: zeros for a genre without songs.
    static func genreTilt(_ data: PriorTrainingData, genres: Int, codes: Int, prior: Double) -> [Float] {
        var counts = [Double](repeating: 0, count: genres * codes), all = [Double](repeating: 0, count: codes)
        for song in data.songs {
            let own = Set(song.genres.filter { $0 >= 0 && $0 < genres })
            for code in song.codes {
                all[code] += 1
                for g in own { counts[g * codes + code] += 1 }
            }
        }
        let total = all.reduce(0, +)
        let overall = all.map { ($0 + 0.5) / (total + 0.5 * Double(codes)) }
        var tilt = [Float](repeating: 0, count: counts.count)
        for g in 0..<genres {
            let row = counts[(g * codes)..<((g + 1) * codes)]
            guard row.contains(where: { $0 > 0 }) else { continue }
            tilt.replaceSubrange((g * codes)..<((g + 1) * codes), with: BarGuide.rowTilt(row, base: overall, prior: prior))
        }
        return tilt
    }
}
