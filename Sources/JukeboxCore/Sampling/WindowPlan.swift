/// How one level is sampled window by window (the reference's sample_level / get_starts /
/// sample_single_window / sample_partial_window, and prior.get_z_conds / get_y for each window).
///
/// A level of T tokens is covered by windows of n_ctx tokens, hop_length apart, the last one pulled
/// back to end at T. In each window the tokens that already exist (the context) are fed to the model
/// and never resampled; the rest are sampled. When T < n_ctx there is one shorter window [0, T).
public struct WindowPlan: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        public let index: Int
        /// First token of the window at this level.
        public let start: Int
        /// Tokens in the window (n_ctx, or T when T < n_ctx).
        public let length: Int
        /// Tokens at the window's head that already exist when it is sampled (context).
        public let existing: Int
        /// Tokens the window samples: length − existing.
        public var toSample: Int { length - existing }
        public var end: Int { start + length }
        /// For an upsampler, the span of the level above that conditions a full n_ctx window
        /// (start and end divided by cond_downsample); nil at the top level.
        public let conditioning: Range<Int>?
        /// The label vector's offset for this window, in audio samples (start · raw_to_tokens).
        public let labelOffset: Int
    }

    public let level: Int
    public let nCtx: Int
    public let hopLength: Int
    public let totalTokens: Int
    public let windows: [Window]

    /// The reference's hop_fraction default, indexed by level (0 = bottom).
    public static let defaultHopFraction: [Double] = [0.5, 0.5, 0.125]

    /// hop_length = int(hop_fraction · n_ctx), at least 1.
    public static func hopLength(hopFraction: Double, nCtx: Int) throws -> Int {
        guard hopFraction > 0, hopFraction <= 1, nCtx >= 1 else {
            throw JukeboxError("hop_fraction", "\(hopFraction) must lie in (0, 1] (n_ctx \(nCtx))")
        }
        return max(1, Int(hopFraction * Double(nCtx)))
    }

    /// The reference's get_starts: every hop_length from 0 while a window still adds tokens; the last
    /// window that would reach or pass T is pulled back to end exactly at T. One start (0) when T ≤ n_ctx.
    public static func starts(totalLength: Int, nCtx: Int, hopLength: Int) -> [Int] {
        guard totalLength > nCtx else { return [0] }
        var starts: [Int] = []
        var start = 0
        while start < totalLength - nCtx + hopLength {
            starts.append(start + nCtx >= totalLength ? totalLength - nCtx : start)
            start += hopLength
        }
        return starts
    }

    /// - existingTokens: tokens of this level already there (continuation, priming); never resampled.
    /// - rawToTokens: audio samples per token at this level (the VQ-VAE's hop length).
    /// - condDownsample: tokens of this level per token of the level above (upsamplers), nil at the top.
    public init(level: Int, nCtx: Int, hopFraction: Double, totalTokens: Int, existingTokens: Int,
                rawToTokens: Int, condDownsample: Int?) throws {
        guard totalTokens >= 1 else { throw JukeboxError("sample_length", "level \(level) would have \(totalTokens) tokens") }
        guard existingTokens >= 0 else { throw JukeboxError("codes", "negative existing token count \(existingTokens)") }
        let hop = try Self.hopLength(hopFraction: hopFraction, nCtx: nCtx)
        if let cd = condDownsample {
            guard cd >= 1, nCtx % cd == 0 else {
                throw JukeboxError("cond_downsample", "n_ctx \(nCtx) of level \(level) is not a multiple of \(cd)")
            }
            guard totalTokens >= nCtx else {
                throw JukeboxError("sample_length", "the upsampler of level \(level) needs at least n_ctx = \(nCtx) tokens, got \(totalTokens)")
            }
        }
        var current = existingTokens
        var windows: [Window] = []
        for (i, start) in Self.starts(totalLength: totalTokens, nCtx: nCtx, hopLength: hop).enumerated() {
            let length = min(nCtx, totalTokens)
            var span: Range<Int>? = nil
            if let cd = condDownsample {
                guard start % cd == 0 else {
                    throw JukeboxError("sample_length", "window start \(start) of level \(level) is not a multiple of cond_downsample \(cd)")
                }
                span = (start / cd)..<((start + nCtx) / cd)
            }
            let existing = min(max(current - start, 0), length)
            windows.append(Window(index: i, start: start, length: length, existing: existing,
                                  conditioning: span, labelOffset: start * rawToTokens))
            current = max(current, start + length)
        }
        (self.level, self.nCtx, self.hopLength, self.totalTokens, self.windows) = (level, nCtx, hop, totalTokens, windows)
    }

    /// Tokens this plan samples in all.
    public var tokensToSample: Int { windows.reduce(0) { $0 + $1.toSample } }
}
