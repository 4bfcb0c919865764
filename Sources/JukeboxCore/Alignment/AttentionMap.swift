import Foundation

/// A top prior's attention on a song's lyric characters over its codes, window by window as the reference's
/// align.py gathers it: for each window (n_ctx codes, `hopFraction` of a window apart) the lyric window its
/// labels held and the weights one layer's heads put on each of those characters, for each code. A code
/// takes its weights from the first window that covers it.
public struct AttentionMap: Sendable {
    /// For each code, the characters (indices into the song's lyric tokens) its window showed and the weight
    /// on each, per head: `weights[head][code]` lists (character, weight) in character order.
    public let characters: [[Int]]
    public let weights: [[[Float]]]
    public let heads: Int
    public var codes: Int { characters.count }

    /// The lyric characters key column j of a window shows: the inputs are shifted by one (each position's input
    /// is the token before it), so column j carries the window's token j − 1; column 0 carries the start.
    static func characterOfColumn(_ indices: [Int]) -> [Int] {
        [-1] + indices.dropLast()
    }

    /// Maps of every layer in `layers` (one forward pass per window serves them all), for one song.
    public static func compute(prior: Prior, layers: [Int], codes: [Int], song: SongLabels, rawToTokens: Int,
                               hopFraction: Double = 0.5, cancel: CancelFlag? = nil) throws -> [AttentionMap] {
        let c = prior.config
        guard c.nTokens > 0 else { throw JukeboxError("prior", "has no lyric window (n_tokens 0): nothing to align") }
        guard !codes.isEmpty else { throw JukeboxError("codes", "no codes to align") }
        let hop = try WindowPlan.hopLength(hopFraction: hopFraction, nCtx: c.nCtx)
        let starts = WindowPlan.starts(totalLength: codes.count, nCtx: c.nCtx, hopLength: hop)
        let heads = prior.prior.transformer.config.heads
        var chars = [[Int]](repeating: [], count: codes.count)
        var weights = [[[[Float]]]](repeating: [[[Float]]](repeating: [[Float]](repeating: [], count: codes.count), count: heads),
                                    count: layers.count)
        var covered = 0
        for start in starts {
            if cancel?.isCancelled == true { throw Generator.Cancelled() }
            let end = min(start + c.nCtx, codes.count)
            guard end > covered else { continue }
            let (y, indices) = try LabelVector.forWindow(song, start: start, rawToTokens: rawToTokens,
                                                         sampleLength: c.nCtx * rawToTokens, layout: c.labelLayout)
            let maps = try prior.lyricAttention(layers: layers, z: Array(codes[start..<end]), batch: 1, y: y)
            let columns = characterOfColumn(indices)
            let kept = columns.indices.filter { columns[$0] >= 0 }
            let L = end - start
            for t in max(covered, start)..<end {
                chars[t] = kept.map { columns[$0] }
                for (l, map) in maps.enumerated() {
                    for h in 0..<heads {
                        let row = map.data + (h * L + (t - start)) * c.nTokens
                        weights[l][h][t] = kept.map { row[$0] }
                    }
                }
            }
            covered = end
        }
        return weights.map { AttentionMap(characters: chars, weights: $0, heads: heads) }
    }

    /// The monotone reading of one head's map: for each code, the character being sung, chosen so the
    /// characters never go back and the attention along the way is as large as it can be (a Viterbi path
    /// over codes × the characters each code's window shows). Codes whose window shows no characters keep the
    /// character before them (−1 before any).
    ///
    /// With `expected` (for each code, the character the even spread of the lyrics puts there) the path also
    /// pays for straying from it, a diagonal prior as alignment in speech uses, for heads whose attention alone
    /// wanders or stalls. Each step then scores log(weight / the character's mean weight) − ½((character −
    /// expected) / `spread`)²: a character that draws weight all through the song (an attention sink) says
    /// nothing of when it is sung, one that draws more than its usual weight at a code does.
    public func path(head: Int, expected: [Double]? = nil, spread: Double = 1) -> [Int] {
        let read = (0..<codes).filter { !characters[$0].isEmpty }
        var path = [Int](repeating: -1, count: codes)
        guard !read.isEmpty else { return path }
        // score[k]: the best total ending on the k-th character shown at this code; back[n][k]: the position
        // at the previous code read that it came from.
        var back: [[Int32]] = []
        back.reserveCapacity(read.count)
        var previousChars: [Int] = [], previousScore: [Float] = []
        var usual: [Int: Double] = [:]
        if expected != nil {
            var sum: [Int: Double] = [:], count: [Int: Double] = [:]
            for t in read {
                for (c, w) in zip(characters[t], weights[head][t]) { sum[c, default: 0] += Double(w); count[c, default: 0] += 1 }
            }
            for (c, total) in sum { usual[c] = total / count[c]! }
        }
        for (n, t) in read.enumerated() {
            let cs = characters[t], ws = weights[head][t]
            var score = [Float](repeating: 0, count: cs.count), from = [Int32](repeating: -1, count: cs.count)
            // Prefix maximum of the previous scores over characters ≤ cs[k] (both lists ascend).
            var j = 0, best: Float = -.infinity, bestAt: Int32 = -1
            for k in 0..<cs.count {
                while j < previousChars.count && previousChars[j] <= cs[k] {
                    if previousScore[j] > best { best = previousScore[j]; bestAt = Int32(j) }
                    j += 1
                }
                // The first code read may start on any character; later ones only go forward.
                var gain = ws[k]
                if let expected {
                    let d = (Double(cs[k]) - expected[t]) / spread
                    gain = Float(log((Double(ws[k]) + 1e-6) / (usual[cs[k]]! + 1e-6)) - 0.5 * d * d)
                }
                score[k] = (n == 0 ? 0 : best) + gain
                from[k] = bestAt
            }
            back.append(from)
            (previousChars, previousScore) = (cs, score)
        }
        guard var k = previousScore.indices.max(by: { previousScore[$0] < previousScore[$1] }),
              previousScore[k] > -.infinity else { return path }
        for n in stride(from: read.count - 1, through: 0, by: -1) {
            path[read[n]] = characters[read[n]][k]
            k = max(Int(back[n][k]), 0)
        }
        // Codes whose window showed nothing keep the character before them.
        for t in 1..<codes where characters[t].isEmpty { path[t] = path[t - 1] }
        return path
    }

    /// The largest weight each character gets anywhere in the song (0 for characters never shown).
    public func peakWeights(head: Int, characters count: Int) -> [Float] {
        var peak = [Float](repeating: 0, count: count)
        for t in 0..<codes {
            for (c, w) in zip(characters[t], weights[head][t]) where c < count { peak[c] = max(peak[c], w) }
        }
        return peak
    }
}
