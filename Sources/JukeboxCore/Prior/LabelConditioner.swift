import Foundation

/// The reference's LabelConditioner (conditioners.py, `y_emb.*`): artist and bag-of-genres embeddings summed
/// into the start token (y_cond), and at the top level a timing signal over the window (total length,
/// absolute and relative position, each a RangeEmbedding) that becomes x_cond.
public struct LabelConditioner: Sendable {
    public let bowGenreEmb: Tensor        // [genre bins, width]
    public let artistEmb: Tensor          // [artist bins, width]
    public let totalLengthEmb: Tensor?    // [t_bins, width]
    public let absolutePosEmb: Tensor?    // [t_bins, width]
    public let relativePosEmb: Tensor?    // [t_bins, width]
    /// The bar clock's position-in-bar embedding [bar_clock_bins, width] (our extension; nil in the reference's priors).
    public let barPosEmb: Tensor?
    public let maxBowGenreSize: Int
    public let nTime: Int
    public let tBins: Int
    /// Where the genres and the bar clock sit in y.
    package let layout: LabelLayout
    /// Sample ranges of the three RangeEmbeddings (as the reference computes them, in double precision).
    let totalLengthRange: (Double, Double)
    let absolutePosRange: (Double, Double)

    static func parameters(config c: PriorConfig) -> ParameterList {
        var p = ParameterList(prefix: "y_emb")
        let std = 0.01 * c.initScale
        p.add("bow_genre_emb.emb.weight", [c.yBins[0], c.width], .normal(std: std))
        p.add("artist_emb.emb.weight", [c.yBins[1], c.width], .normal(std: std))
        if c.includeTimeSignal {
            p.add("total_length_emb.emb.weight", [c.tBins, c.width], .normal(std: std))
            p.add("absolute_pos_emb.emb.weight", [c.tBins, c.width], .normal(std: std))
            p.add("relative_pos_emb.emb.weight", [c.tBins, c.width], .normal(std: std))
        }
        if c.barClockBins > 0 { p.add(barPosKey, [c.barClockBins, c.width], .normal(std: std)) }
        return p
    }

    init(config c: PriorConfig, source: TensorLookup) throws {
        let read = ParameterReader(LabelConditioner.parameters(config: c), source)
        bowGenreEmb = try read("bow_genre_emb.emb.weight")
        artistEmb = try read("artist_emb.emb.weight")
        if c.includeTimeSignal {
            totalLengthEmb = try read("total_length_emb.emb.weight")
            absolutePosEmb = try read("absolute_pos_emb.emb.weight")
            relativePosEmb = try read("relative_pos_emb.emb.weight")
        } else {
            totalLengthEmb = nil; absolutePosEmb = nil; relativePosEmb = nil
        }
        barPosEmb = c.barClockBins > 0 ? try read(Self.barPosKey) : nil
        layout = c.labelLayout
        maxBowGenreSize = c.maxBowGenreSize
        // The timing signal spans the window's codes (n_time = z_shape[0] = n_ctx of this level).
        nTime = c.nCtx
        tBins = c.tBins
        totalLengthRange = (c.minDuration * c.sr, c.maxDuration * c.sr)
        absolutePosRange = (0, c.maxDuration * c.sr)
    }

    /// The bar clock's table, under y_emb beside the reference's timing tables.
    package static let barPosKey = "bar_pos_emb.emb.weight"

    public var width: Int { artistEmb.shape[1] }
    public var includesTimeSignal: Bool { totalLengthEmb != nil }
    /// Entries of y it reads: [total_length, offset, sample_length, artist, genre ids…(, bar_length, downbeat)].
    public var labelCount: Int { layout.lyricStart }

    /// y: batch rows of at least `labelCount` entries (row stride `stride`). Returns the start embedding
    /// [batch, 1, width] and, at the top level, the timing signal [batch, nTime, width].
    public func callAsFunction(_ y: [Int], batch: Int, stride: Int? = nil) throws -> (yCond: Tensor, timing: Tensor?) {
        let stride = stride ?? labelCount
        guard stride >= labelCount, y.count == batch * stride else {
            throw JukeboxError("labels", "expected \(batch) rows of \(stride) label entries, got \(y.count) values")
        }
        let w = width
        let start = Tensor(zeros: [batch, 1, w])
        for n in 0..<batch {
            let row = Array(y[(n * stride)..<(n * stride + labelCount)])
            let dst = start.data + n * w
            // Empty genre slots are -1 and contribute nothing; the genre sum comes first, then the artist.
            for g in row[layout.genres] where g >= 0 {
                guard g < bowGenreEmb.shape[0] else {
                    throw JukeboxError("labels", "genre id \(g) of item \(n) is outside 0..<\(bowGenreEmb.shape[0])")
                }
                Ops.addInPlace(dst, bowGenreEmb.data + g * w, w)
            }
            let artist = row[3]
            guard artist >= 0 && artist < artistEmb.shape[0] else {
                throw JukeboxError("labels", "artist id \(artist) of item \(n) is outside 0..<\(artistEmb.shape[0])")
            }
            Ops.addInPlace(dst, artistEmb.data + artist * w, w)
        }
        guard let totalLengthEmb, let absolutePosEmb, let relativePosEmb else { return (start, nil) }

        let timing = Tensor(zeros: [batch, nTime, w])
        for n in 0..<batch {
            let (totalBin, absBins, relBins) = try timingBins(y, item: n, stride: stride)
            for t in 0..<nTime {
                let dst = timing.data + (n * nTime + t) * w
                let a = totalLengthEmb.data + totalBin[0] * w
                let b = absolutePosEmb.data + absBins[t] * w
                let c = relativePosEmb.data + relBins[t] * w
                for j in 0..<w { dst[j] = (a[j] + b[j]) + c[j] }
            }
            if let barPosEmb, let barBins = try barClockBins(y, item: n, stride: stride) {
                for t in 0..<nTime {
                    Ops.addInPlace(timing.data + (n * nTime + t) * w, barPosEmb.data + barBins[t] * w, w)
                }
            }
        }
        return (start, timing)
    }

    /// The bar clock's bin for each step of item `n`'s window: the step's first audio sample, placed in
    /// its bar. Nil when the prior has no clock or the row's bar length is 0 (no clock given: nothing added).
    package func barClockBins(_ y: [Int], item n: Int, stride: Int) throws -> [Int]? {
        guard let barPosEmb else { return nil }
        let barLength = y[n * stride + layout.clock.lowerBound], downbeat = y[n * stride + layout.clock.lowerBound + 1]
        guard barLength != 0 else { return nil }
        guard barLength > 0 else { throw JukeboxError("labels", "bar length \(barLength) of item \(n) is negative") }
        let offset = y[n * stride + 1], length = y[n * stride + 2]
        let clock = BarClock(barLength: barLength, downbeat: downbeat)
        return (0..<nTime).map { t in clock.bin(atSample: offset + t * length / nTime, bins: barPosEmb.shape[0]) }
    }

    /// The bins of item `n`'s three timing embeddings (total length; absolute and relative position per
    /// step) from its label row: [total_length, offset, sample_length, ...].
    package func timingBins(_ y: [Int], item n: Int, stride: Int) throws -> (total: [Int], absolute: [Int], relative: [Int]) {
        let total = y[n * stride], offset = y[n * stride + 1], length = y[n * stride + 2]
        // As the reference: integer start/end, then float32 everywhere.
        let totalF = Float(total), startF = Float(offset), endF = Float(offset + length)
        return (try bins(start: totalF, end: nil, range: totalLengthRange, clamp: false, what: "total_length", item: n),
                try bins(start: startF, end: endF, range: absolutePosRange, clamp: false, what: "offset", item: n),
                try bins(start: startF / totalF, end: endF / totalF, range: (0, 1), clamp: true, what: "relative position", item: n))
    }

    /// The reference's RangeEmbedding binning: positions interpolated over [start, end) across n_time steps
    /// (or just start for a single step), mapped from [min, max) onto t_bins bins by floor, in float32.
    func bins(start: Float, end: Float?, range: (Double, Double), clamp: Bool, what: String, item: Int) throws -> [Int] {
        let (lo, hi) = range
        let loF = Float(lo), hiF = Float(hi)
        guard loF <= start && start < hiF else {
            throw JukeboxError("labels", "\(what) \(start) of item \(item) is outside [\(lo), \(hi))")
        }
        let steps = end == nil ? 1 : nTime
        var stop = end ?? start
        if end != nil {
            if clamp { stop = min(max(stop, loF), hiF) }
            guard loF <= stop && stop <= hiF else {
                throw JukeboxError("labels", "end of \(what) \(stop) of item \(item) is outside [\(lo), \(hi)]")
            }
        }
        let span = Float(hi - lo), count = Float(tBins)
        var out = [Int](repeating: 0, count: steps)
        for t in 0..<steps {
            let position: Float
            if end == nil {
                position = start
            } else {
                let interpolation = Float(t) / Float(nTime)
                position = start + (stop - start) * interpolation
            }
            let normalised = (position - loF) / span
            let bin = Int((count * normalised).rounded(.down))
            // float32 rounding can only push a value onto the open right edge; keep it in the table.
            out[t] = min(max(bin, 0), tBins - 1)
        }
        return out
    }
}
