import Foundation

/// Audio for finished spans of codes while sampling goes on: any level's codes decoded on their own
/// (the reference decodes each level with its own decoder, so a top-level span previews the same
/// stretch of time as the bottom level's render of it, only coarser). A span decoded alone lacks the
/// decoder's context beyond its edges, so its ends differ slightly from the same span cut from a
/// whole-line decode; lengths match exactly.
public enum PartialRender {
    /// Codes `range` of every row of `codes` (a `level` of `vqvae`) → audio [N, range.count · hop, 1].
    public static func decode(vqvae: VQVAE, codes: LevelCodes, level: Int, range: Range<Int>) throws -> Tensor {
        guard level >= 0, level < vqvae.levels else { throw JukeboxError("level", "level \(level) is outside 0..<\(vqvae.levels)") }
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= codes.t else {
            throw JukeboxError("range", "span \(range) is empty or outside the \(codes.t) codes sampled at level \(level)")
        }
        var values = [Int]()
        values.reserveCapacity(codes.n * range.count)
        for i in 0..<codes.n { values += codes.row(i)[(i * codes.t + range.lowerBound)..<(i * codes.t + range.upperBound)] }
        return try vqvae.decode(LevelCodes(n: codes.n, t: range.count, uncheckedValues: values), level: level)
    }

    /// The span of audio samples (in the song, from the sampled start) that codes `range` of `level` cover.
    public static func audioSpan(vqvae: VQVAE, level: Int, range: Range<Int>) -> Range<Int> {
        let hop = vqvae.hopLengths[level]
        return (range.lowerBound * hop)..<(range.upperBound * hop)
    }
}

/// Codes gathered from `tokensSampled` events as they arrive, per level and sample, so a partial render
/// can decode whatever is finished. Positions are the level's absolute code positions.
public struct SampledCodes: Sendable {
    public let samples: Int
    private var rows: [[[Int]]]

    public init(levels: Int, samples: Int) {
        self.samples = samples
        rows = [[[Int]]](repeating: [[Int]](repeating: [], count: samples), count: levels)
    }

    /// Codes that existed before sampling (a continuation's or upsampling's given codes).
    public mutating func seed(level: Int, codes: LevelCodes) throws {
        guard level >= 0, level < rows.count else { throw JukeboxError("level", "level \(level) is outside 0..<\(rows.count)") }
        rows[level] = try Generator.rows(codes, samples: samples, what: "level \(level) codes")
    }

    public mutating func record(_ event: GenerationEvent) {
        guard case let .tokensSampled(level, sampleRange, positions, values) = event,
              level >= 0, level < rows.count, values.count == sampleRange.count * positions.count else { return }
        for (i, s) in sampleRange.enumerated() where s >= 0 && s < samples {
            for (j, p) in positions.enumerated() where p >= 0 {
                if rows[level][s].count <= p { rows[level][s] += [Int](repeating: -1, count: p + 1 - rows[level][s].count) }
                rows[level][s][p] = values[i * positions.count + j]
            }
        }
    }

    /// Positions finished for every sample at `level` (no gaps before them).
    public func finished(level: Int) -> Int {
        guard level >= 0, level < rows.count else { return 0 }
        return rows[level].map { $0.firstIndex(of: -1) ?? $0.count }.min() ?? 0
    }

    /// The finished codes of `level` (rows = samples).
    public func codes(level: Int) -> LevelCodes {
        let t = finished(level: level)
        let values = level >= 0 && level < rows.count ? rows[level].flatMap { $0.prefix(t) } : []
        return LevelCodes(n: values.count == samples * t ? samples : 0, t: values.count == samples * t ? t : 0, uncheckedValues: values)
    }
}
