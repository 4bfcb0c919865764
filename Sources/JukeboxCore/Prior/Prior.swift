import Foundation

/// One level's prior: the reference's SimplePrior (prior.py) minus the VQ-VAE and the upper-level
/// conditioner. Holds the label conditioner (`y_emb`), the lyrics encoder (5b_lyrics style, `prime_*`)
/// and the autoregressive model (`prior`). Immutable and shareable; run state lives in PriorState.
///
/// Upsamplers (level < levels − 1) get x_cond from the codes of the level above through
/// `conditioner_blocks.0.*`, which this type does not own: pass that conditioner's output as `xCond`,
/// and load its weights through the `otherWeights` hook of `load(folder:otherWeights:)`.
public final class Prior: Sendable {
    public let config: PriorConfig
    public let labelConditioner: LabelConditioner?
    public let lyricsEncoder: LyricsEncoder?
    public let prior: ConditionalAutoregressive2D

    /// Every tensor this type owns, in the reference's state_dict order (conditioner_blocks.* excluded).
    public static func parameters(config c: PriorConfig) throws -> [ParameterSpec] {
        var specs: [ParameterSpec] = []
        if c.labels { specs += LabelConditioner.parameters(config: c).specs }
        if let prime = c.primePrior { specs += try LyricsEncoder.parameters(config: c, prime: prime).specs }
        specs += try ConditionalAutoregressive2D.parameters(prefix: "prior", config: c.prior).specs
        return specs
    }

    public static func parameters(hps: Hyperparameters) throws -> [ParameterSpec] {
        try parameters(config: PriorConfig(hps: hps))
    }

    /// Number of distinct parameters (x_out counted once where it shares x_emb's weight).
    public static func parameterCount(hps: Hyperparameters) throws -> Int {
        try parameters(hps: hps).reduce(0) { total, s in
            if case .sameAs = s.initial { return total }
            return total + s.count
        }
    }

    public init(config: PriorConfig, source: TensorLookup) throws {
        self.config = config
        labelConditioner = config.labels ? try LabelConditioner(config: config, source: source) : nil
        lyricsEncoder = try config.primePrior.map { try LyricsEncoder(config: config, prime: $0, source: source) }
        prior = try ConditionalAutoregressive2D(prefix: "prior", config: config.prior, source: source)
    }

    /// Takes this prior's tensors from `store` (strict, shape-checked) and leaves the rest there:
    /// the caller takes any others (e.g. conditioner_blocks.*) and calls `store.finish()`.
    public convenience init(hps: Hyperparameters, store: WeightStore) throws {
        try self.init(config: PriorConfig(hps: hps), source: .store(store))
    }

    /// Loads a model folder (config.json + weights.safetensors) strictly: after this prior has taken its
    /// tensors, `otherWeights` takes those it owns (the upper-level conditioner of an upsampler), and any
    /// tensor still left is an error.
    public static func load(folder: String, otherWeights: ((WeightStore) throws -> Void)? = nil) throws -> Prior {
        let model = try ModelConfig.load(folder: folder)
        let config = try PriorConfig(model)
        let store = try WeightStore(folder: folder)
        let prior = try Prior(config: config, source: .store(store))
        try otherWeights?(store)
        try store.finish()
        return prior
    }

    /// As load(folder:otherWeights:), leaving (unread) every tensor whose key starts with one of `prefixes`.
    public static func load(folder: String, leaving prefixes: [String]) throws -> Prior {
        try load(folder: folder) { store in
            for name in store.file.names where prefixes.contains(where: { name.hasPrefix($0) }) {
                if let e = store.file.entries[name] { _ = try store.take(name, e.shape) }
            }
        }
    }

    /// Random tensors for every key of `parameters(hps:)`, following the reference's init scales.
    public static func randomTensors(hps: Hyperparameters, seed: UInt64) throws -> [String: Tensor] {
        ParameterSpec.randomTensors(try parameters(hps: hps), seed: seed)
    }

    /// A prior with random weights (tests, benchmarks).
    public static func randomWeights(hps: Hyperparameters, seed: UInt64) throws -> Prior {
        let config = try PriorConfig(hps: hps)
        return try Prior(config: config, source: .dictionary(randomTensors(hps: hps, seed: seed)))
    }

    // MARK: Conditioning

    /// What the labels and the level above give a window: start token, x_cond, lyrics and their encoding.
    public struct Conditioning: @unchecked Sendable {
        public let batch: Int
        /// [batch, 1, width] label embedding (start token), when the prior has labels.
        public let yCond: Tensor?
        /// The timing signal [batch, n_ctx, width] (top level) or the caller's x_cond (upsamplers).
        public let xCond: Tensor?
        /// Lyric tokens, batch rows of n_tokens, when the prior uses lyrics.
        public let lyrics: [Int]?
        /// [batch, n_tokens, width] lyrics encoder output (5b_lyrics style).
        public let encoderKV: Tensor?

        package init(batch: Int, yCond: Tensor?, xCond: Tensor?, lyrics: [Int]?, encoderKV: Tensor?) {
            (self.batch, self.yCond, self.xCond, self.lyrics, self.encoderKV) = (batch, yCond, xCond, lyrics, encoderKV)
        }
    }

    /// Splits and embeds the label vectors y (batch rows of [total_length, offset, sample_length, artist,
    /// genres…, lyric tokens…]). xCond, when given, replaces the timing signal (upsamplers must give it:
    /// [batch, n_ctx, width] from the conditioner over the level above).
    public func conditioning(y: [Int]?, batch: Int, xCond: Tensor? = nil) throws -> Conditioning {
        let c = config
        var yCond: Tensor? = nil, timing: Tensor? = nil, lyrics: [Int]? = nil, encoderKV: Tensor? = nil
        if let labelConditioner {
            guard let y else { throw JukeboxError("labels", "this prior needs label vectors y") }
            guard y.count == batch * c.labelLength else {
                throw JukeboxError("labels", "expected \(batch) rows of \(c.labelLength) entries (4 + \(c.maxBowGenreSize) genres\(c.barClockBins > 0 ? " + 2 for the bar clock" : "") + \(c.nTokens) lyric tokens), got \(y.count) values")
            }
            (yCond, timing) = try labelConditioner(y, batch: batch, stride: c.labelLength)
            if c.hasLyrics {
                let first = c.lyricStart
                var l: [Int] = []
                l.reserveCapacity(batch * c.nTokens)
                for n in 0..<batch { l += y[(n * c.labelLength + first)..<((n + 1) * c.labelLength)] }
                lyrics = l
            }
        }
        if let lyricsEncoder, let lyrics { encoderKV = try lyricsEncoder.encode(tokens: lyrics, batch: batch) }
        let cond = xCond ?? timing
        if c.conditionsOnLevelAbove && cond == nil {
            throw JukeboxError("x_cond", "an upsampler needs x_cond from the conditioner over the level above")
        }
        if let cond {
            guard cond.rank == 3, cond.shape[0] == batch, cond.shape[2] == c.width,
                  cond.shape[1] == c.nCtx || cond.shape[1] == 1 else {
                throw JukeboxError("x_cond", "has shape \(cond.shape), expected \([batch, c.nCtx, c.width])")
            }
        }
        return Conditioning(batch: batch, yCond: yCond, xCond: c.prior.xCond ? cond : nil, lyrics: lyrics,
                            encoderKV: encoderKV)
    }

    /// x_cond as the autoregressive model sees it: for the single encoder-decoder, zeros over the lyric
    /// prefix, then the window's conditioning (prior_preprocess).
    package func sequenceXCond(_ cond: Conditioning) -> Tensor? {
        guard let x = cond.xCond else { return nil }
        let prefix = config.prefixLength
        guard prefix > 0 else { return x }
        let w = config.width, n = cond.batch, len = x.shape[1]
        let total = prefix + config.nCtx
        let out = Tensor(zeros: [n, total, w])
        for b in 0..<n {
            for t in 0..<config.nCtx {
                (out.data + (b * total + prefix + t) * w).update(from: x.data + (b * len + (len == 1 ? 0 : t)) * w, count: w)
            }
        }
        return out
    }

    // MARK: Incremental run

    /// A run state over codes: the lyric prefix of the single encoder-decoder is already consumed.
    public func makeState(batch: Int, y: [Int]?, xCond: Tensor? = nil) throws -> PriorState {
        try makeState(try conditioning(y: y, batch: batch, xCond: xCond))
    }

    public func makeState(_ cond: Conditioning) throws -> PriorState {
        let inner = try prior.makeState(batch: cond.batch, yCond: cond.yCond, xCond: sequenceXCond(cond),
                                        encoderKV: cond.encoderKV)
        var last: [Int]? = nil
        if config.singleEncDec, let lyrics = cond.lyrics {
            let n = config.nTokens
            try validateLyrics(lyrics)
            var previous = [Int](repeating: 0, count: cond.batch * n)
            for b in 0..<cond.batch { for i in 1..<n { previous[b * n + i] = lyrics[b * n + i - 1] } }
            try prior.forward(inner, previous: previous, count: n, output: .none)
            last = (0..<cond.batch).map { lyrics[$0 * n + n - 1] }
        }
        return PriorState(inner: inner, prefix: config.prefixLength, lastLyric: last)
    }

    private func validateLyrics(_ lyrics: [Int]) throws {
        if let bad = lyrics.first(where: { $0 < 0 || $0 >= config.nVocab }) {
            throw JukeboxError("lyrics", "lyric token \(bad) is outside 0..<\(config.nVocab)")
        }
    }

    /// Runs the next T code positions of every item. previousCodes[n·T + i] is the code before code position
    /// state.codes + i (ignored at code position 0). Logits are over the whole output vocabulary
    /// (`prior.bins`); codes sit at `config.codeOffset` onwards.
    @discardableResult
    public func forward(_ state: PriorState, previousCodes: [Int], count T: Int,
                        output: ConditionalAutoregressive2D.Output = .logits) throws -> Tensor? {
        let offset = config.codeOffset, batch = state.batch
        guard previousCodes.count == batch * T else {
            throw JukeboxError("codes", "got \(previousCodes.count) codes for \(batch) items × \(T) positions")
        }
        var previous = previousCodes
        for n in 0..<batch {
            for i in 0..<T {
                let codePos = state.codes + i
                if codePos == 0 {
                    previous[n * T + i] = state.lastLyric?[n] ?? 0
                } else {
                    let code = previousCodes[n * T + i]
                    guard code >= 0 && code < config.lBins else {
                        throw JukeboxError("codes", "code \(code) at position \(codePos - 1) of item \(n) is outside 0..<\(config.lBins)")
                    }
                    previous[n * T + i] = code + offset
                }
            }
        }
        return try prior.forward(state.inner, previous: previous, count: T, output: output)
    }

    // MARK: Teacher-forced forward

    /// Full teacher-forced forward: z holds batch rows of L ≤ n_ctx codes. Logits [batch, prefix + L, bins]
    /// where prefix is the lyric prefix of the single encoder-decoder (else 0).
    public func logits(z: [Int], batch: Int, y: [Int]?, xCond: Tensor? = nil) throws -> Tensor {
        try logits(z: z, cond: conditioning(y: y, batch: batch, xCond: xCond))
    }

    public func logits(z: [Int], cond: Conditioning) throws -> Tensor {
        let batch = cond.batch
        guard batch > 0, !z.isEmpty, z.count % batch == 0, z.count / batch <= config.nCtx else {
            throw JukeboxError("codes", "expected \(batch) rows of at most \(config.nCtx) codes, got \(z.count) values")
        }
        let L = z.count / batch
        if let bad = z.first(where: { $0 < 0 || $0 >= config.lBins }) {
            throw JukeboxError("codes", "code \(bad) is outside 0..<\(config.lBins)")
        }
        let seq = try sequence(z: z, L: L, cond: cond)
        let total = seq.count / batch
        let state = try prior.makeState(batch: batch, yCond: cond.yCond, xCond: sequenceXCond(cond), encoderKV: cond.encoderKV)
        var previous = [Int](repeating: 0, count: seq.count)
        for b in 0..<batch { for i in 1..<max(total, 1) { previous[b * total + i] = seq[b * total + i - 1] } }
        return try prior.forward(state, previous: previous, count: total, output: .logits)!
    }

    /// The model's token sequence per item: lyric tokens then shifted codes (single encoder-decoder), else codes.
    package func sequence(z: [Int], L: Int, cond: Conditioning) throws -> [Int] {
        guard config.singleEncDec else { return z }
        guard let lyrics = cond.lyrics else { throw JukeboxError("lyrics", "the single encoder-decoder needs lyric tokens in y") }
        try validateLyrics(lyrics)
        let n = config.nTokens, offset = config.codeOffset
        var seq: [Int] = []
        seq.reserveCapacity(cond.batch * (n + L))
        for b in 0..<cond.batch {
            seq += lyrics[(b * n)..<((b + 1) * n)]
            seq += z[(b * L)..<((b + 1) * L)].map { $0 + offset }
        }
        return seq
    }
}

/// Run state of a Prior for a batch: the autoregressive model's caches and the code position.
public final class PriorState: @unchecked Sendable {
    let inner: AutoregressiveState
    let prefix: Int
    private(set) var lastLyric: [Int]?

    init(inner: AutoregressiveState, prefix: Int, lastLyric: [Int]?) {
        self.inner = inner
        self.prefix = prefix
        self.lastLyric = lastLyric
    }

    public var batch: Int { inner.batch }
    /// Code positions processed so far.
    public var codes: Int { inner.length - prefix }
    /// Memory held by the key/value caches.
    public var cacheBytes: Int { inner.cacheBytes }

    /// Makes item `to` continue exactly as item `from` (caches, conditioning and lyrics).
    public func copyItem(_ from: Int, to: Int) throws {
        try inner.copyItem(from, to: to)
        if lastLyric != nil { lastLyric![to] = lastLyric![from] }
    }
}
