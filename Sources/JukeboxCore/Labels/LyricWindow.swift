/// The lyric tokens one sampling window sees (the reference's get_relevant_lyric_tokens).
///
/// Lyrics shorter than n_tokens are left-padded with 0 (index -1). Longer lyrics are cut to the
/// n_tokens characters around a linear guess of where the window sits:
/// midpoint = floor(len · (offset + duration/2) / total_length), kept at least n_tokens/2 from
/// either end.
public enum LyricWindow {
    /// How the midpoint's fraction is computed. The reference's sampler (prior.get_y →
    /// Labeller.set_y_lyric_tokens) computes it on int64 torch tensors, which promotes to float32;
    /// Labeller.get_label computes it on Python ints, in float64. They differ only when the
    /// product lands within float32 rounding of an integer.
    public enum Arithmetic: Sendable { case float32, float64 }

    /// Tokens (n_tokens of them) and, for each, its index in `fullTokens` (-1 for padding).
    public static func relevantTokens(_ fullTokens: [Int], nTokens: Int, totalLength: Int, offset: Int,
                                      duration: Int, arithmetic: Arithmetic = .float32) throws
        -> (tokens: [Int], indices: [Int]) {
        guard nTokens >= 0 else { throw JukeboxError("n_tokens", "must not be negative (got \(nTokens))") }
        let count = fullTokens.count
        if count < nTokens {
            let pad = nTokens - count
            return (Array(repeating: 0, count: pad) + fullTokens,
                    Array(repeating: -1, count: pad) + Array(0..<count))
        }
        guard totalLength > 0, offset >= 0, offset < totalLength else {
            throw JukeboxError("offset", "\(offset) is outside the song (total_length \(totalLength) samples)")
        }
        let fraction: Double
        switch arithmetic {
        case .float32:
            let middle = Float(offset) + Float(duration) / 2
            fraction = Double(Float(count) * middle / Float(totalLength))
        case .float64:
            fraction = Double(count) * (Double(offset) + Double(duration) / 2) / Double(totalLength)
        }
        // int() truncates toward zero; the clamp below makes huge or negative values harmless.
        let midpoint = fraction.isFinite ? Int(max(min(fraction, Double(count)), -1).rounded(.towardZero)) : 0
        // The reference keeps the midpoint in [n/2, len - n/2] and takes [mid - n/2, mid + n/2);
        // as a start in [0, len - n] this also holds n tokens when n is odd.
        let start = min(max(midpoint - nTokens / 2, 0), count - nTokens)
        return (Array(fullTokens[start..<start + nTokens]), Array(start..<start + nTokens))
    }
}
