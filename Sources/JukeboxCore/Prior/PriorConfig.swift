import Foundation

/// The hyperparameters of one reference SimplePrior (prior.py, built by make_models.make_prior),
/// read under their reference names and checked once.
public struct PriorConfig: Sendable {
    public let level: Int
    public let levels: Int
    public let lBins: Int               // VQ-VAE codebook size: the code vocabulary
    public let nCtx: Int                // codes per window
    public let width: Int               // prior_width
    public let initScale: Double
    public let posInit: Bool

    // Labels (LabelConditioner).
    public let labels: Bool
    public let labelsV3: Bool
    public let yBins: [Int]             // (genres, artists)
    public let tBins: Int
    public let maxBowGenreSize: Int
    public let sr: Double
    public let minDuration: Double
    public let maxDuration: Double
    /// Bins of the bar clock's position embedding (`bar_clock_bins`, our extension; 0 without one).
    public let barClockBins: Int

    // Lyrics.
    public let nTokens: Int
    public let nVocab: Int
    public let useTokens: Bool
    public let singleEncDec: Bool
    public let mergedDecoder: Bool
    public let primeLossFraction: Double

    /// The main autoregressive model (`prior.*`).
    public let prior: AutoregressiveConfig
    /// The separate lyrics encoder (`prime_prior.*`), 5b_lyrics style.
    public let primePrior: AutoregressiveConfig?

    public init(hps h: Hyperparameters) throws {
        level = try h.int("level")
        levels = try h.int("levels")
        guard levels > 0, level >= 0, level < levels else {
            throw JukeboxError(h.source, "hyperparameter level \(level) is outside 0..<levels (\(levels))")
        }
        lBins = try h.int("l_bins")
        nCtx = try h.int("n_ctx")
        width = try h.int("prior_width")
        initScale = try h.double("init_scale")
        posInit = try h.bool("pos_init")
        labels = try h.bool("labels")
        labelsV3 = h.has("labels_v3") ? try h.bool("labels_v3") : false
        yBins = labels ? try h.intOrInts("y_bins") : []
        if labels && yBins.count != 2 {
            throw JukeboxError(h.source, "hyperparameter y_bins should be (genre bins, artist bins), found \(yBins)")
        }
        tBins = labels ? try h.int("t_bins") : 0
        maxBowGenreSize = labels ? try h.int("max_bow_genre_size") : 0
        sr = try h.double("sr")
        // The timing signal (and so the duration range) exists only at the top level: the reference's
        // upsampler presets leave min_duration and max_duration null.
        let timing = labels && level == levels - 1
        minDuration = timing || h.has("min_duration") ? try h.double("min_duration") : 0
        maxDuration = timing || h.has("max_duration") ? try h.double("max_duration") : 0
        barClockBins = h.has("bar_clock_bins") ? try h.int("bar_clock_bins") : 0
        guard barClockBins >= 0, barClockBins == 0 || timing else {
            throw JukeboxError(h.source, "hyperparameter bar_clock_bins (\(barClockBins)) needs a labelled top-level prior and must not be negative")
        }
        nTokens = try h.int("n_tokens")
        nVocab = try h.int("n_vocab")
        useTokens = try h.bool("use_tokens")
        singleEncDec = try h.bool("single_enc_dec")
        mergedDecoder = try h.bool("merged_decoder")
        primeLossFraction = try h.double("prime_loss_fraction")
        if h.has("copy_input"), try h.bool("copy_input") {
            throw JukeboxError(h.source, "hyperparameter copy_input is true; only the published layout (false) is supported")
        }
        guard lBins > 0, nCtx > 0, width > 0 else {
            throw JukeboxError(h.source, "l_bins, n_ctx and prior_width must be positive")
        }
        // Sizes far past any published or trainable prior are damage: refused before anything is allocated
        // (prior_depth 1e7 used to abort). The published priors are 79 layers deep, 4800 wide, 8192 codes long.
        let depth = try h.int("prior_depth")
        for (name, value, limit) in [("l_bins", lBins, 1 << 20), ("n_ctx", nCtx, 1 << 20), ("prior_width", width, 1 << 16),
                                     ("prior_depth", depth, 4096), ("n_tokens", try h.int("n_tokens"), 1 << 20)]
        where value > limit || value < 0 {
            throw JukeboxError(h.source, "hyperparameter \(name) is \(value); this engine takes 0 to \(limit)")
        }
        if labels {
            guard yBins.allSatisfy({ $0 > 0 }), maxBowGenreSize >= 0 else {
                throw JukeboxError(h.source, "y_bins must be positive and max_bow_genre_size non-negative")
            }
            if level == levels - 1 {
                guard tBins > 0, minDuration < maxDuration else {
                    throw JukeboxError(h.source, "top-level labels need t_bins > 0 and min_duration < max_duration")
                }
            }
        }

        let isTop = level == levels - 1
        let codes = nCtx
        let transformerDepth = try h.int("prior_depth")
        let priorWidth = width
        func transformer(nCtx: Int, encoderDims: Int, primeLen: Int?) throws -> TransformerConfig {
            try TransformerConfig(width: priorWidth, depth: transformerDepth, heads: h.int("heads"), nCtx: nCtx,
                                  attnOrder: h.int("attn_order"), blocks: h.optionalInt("blocks"),
                                  spread: h.optionalInt("spread"), mAttn: h.double("m_attn"),
                                  mMlp: h.double("m_mlp"), resScale: h.bool("res_scale"),
                                  encoderDims: encoderDims, primeLen: primeLen, source: h.source)
        }
        if singleEncDec {
            guard labels else {
                throw JukeboxError(h.source, "single_enc_dec needs labels (its start token is the label embedding)")
            }
            guard nTokens > 0, nVocab > 0 else {
                throw JukeboxError(h.source, "single_enc_dec needs n_tokens and n_vocab")
            }
            // Lyric tokens then codes in one sequence, over one vocabulary: lyrics first, codes shifted by n_vocab.
            prior = AutoregressiveConfig(
                transformer: try transformer(nCtx: nTokens + codes, encoderDims: 0, primeLen: nTokens),
                bins: nVocab + lBins, xCond: true, yCond: true, mergedDecoder: false, onlyEncode: false,
                posInit: posInit, initScale: initScale)
            primePrior = nil
        } else {
            let hasEncoder = nTokens != 0 && useTokens
            if hasEncoder {
                guard nVocab > 0 else { throw JukeboxError(h.source, "use_tokens needs n_vocab > 0") }
                let primeT = try TransformerConfig(
                    width: h.int("prime_width"), depth: h.int("prime_depth"), heads: h.int("prime_heads"),
                    nCtx: nTokens, attnOrder: h.int("prime_attn_order"), blocks: h.optionalInt("prime_blocks"),
                    spread: h.optionalInt("prime_spread"), mAttn: h.double("prime_m_attn"),
                    mMlp: h.double("prime_m_mlp"), resScale: h.bool("prime_res_scale"), source: h.source)
                primePrior = AutoregressiveConfig(
                    transformer: primeT, bins: nVocab, xCond: false, yCond: false, mergedDecoder: false,
                    onlyEncode: true, posInit: try h.bool("prime_pos_init"), initScale: try h.double("prime_init_scale"))
            } else {
                primePrior = nil
            }
            prior = AutoregressiveConfig(
                transformer: try transformer(nCtx: codes, encoderDims: hasEncoder ? nTokens : 0, primeLen: nil),
                bins: lBins, xCond: !isTop || labels, yCond: labels, mergedDecoder: mergedDecoder, onlyEncode: false,
                posInit: posInit, initScale: initScale)
        }
    }

    public init(_ config: ModelConfig) throws {
        guard config.kind == .prior else { throw JukeboxError(config.hps.source, "kind is \(config.kind.rawValue), expected prior") }
        try self.init(hps: config.hps)
    }

    public var isTopLevel: Bool { level == levels - 1 }
    /// Upsamplers take x_cond from the codes of the level above (conditioner_blocks.0, built elsewhere).
    public var conditionsOnLevelAbove: Bool { !isTopLevel }
    /// The label conditioner adds the timing signal only at the top level (include_time_signal).
    public var includeTimeSignal: Bool { labels && isTopLevel }
    /// Lyric tokens taken from the end of the label vector (n_tokens, when lyrics are used).
    public var hasLyrics: Bool { nTokens > 0 && (singleEncDec || useTokens) }
    /// Length of the label vector y: [total_length, offset, sample_length, artist, genres…, (bar_length,
    /// downbeat,) lyric tokens…].
    public var labelLength: Int { labels ? labelLayout.count : 0 }
    /// The label vector's layout (labelled priors).
    public var labelLayout: LabelLayout {
        LabelLayout(maxBowGenreSize: maxBowGenreSize, nTokens: nTokens, barClock: barClockBins > 0)
    }
    /// Where the lyric tokens start in y.
    public var lyricStart: Int { labelLayout.lyricStart }
    /// Lyric positions before the codes in the single encoder-decoder's sequence.
    public var prefixLength: Int { singleEncDec ? nTokens : 0 }
    /// Where the codes' logits start in the output vocabulary (n_vocab for the single encoder-decoder).
    public var codeOffset: Int { singleEncDec ? nVocab : 0 }
}

/// Construction arguments of one reference ConditionalAutoregressive2D (autoregressive.py).
public struct AutoregressiveConfig: Sendable, Equatable {
    public let transformer: TransformerConfig
    public let bins: Int
    /// Conditioning added to the input embedding (timing signal or upper-level codes).
    public let xCond: Bool
    /// Start token is the label embedding (else a learned `start_token`).
    public let yCond: Bool
    /// 5b_lyrics: x_out not shared with x_emb, and x_cond not added again after the transformer.
    public let mergedDecoder: Bool
    /// The lyrics encoder: activations out, no x_out.
    public let onlyEncode: Bool
    public let posInit: Bool
    public let initScale: Double

    public init(transformer: TransformerConfig, bins: Int, xCond: Bool, yCond: Bool, mergedDecoder: Bool,
                onlyEncode: Bool, posInit: Bool = false, initScale: Double = 1) {
        self.transformer = transformer
        self.bins = bins
        self.xCond = xCond
        self.yCond = yCond
        self.mergedDecoder = mergedDecoder
        self.onlyEncode = onlyEncode
        self.posInit = posInit
        self.initScale = initScale
    }

    public var width: Int { transformer.width }
    public var nCtx: Int { transformer.nCtx }
    public var shareXEmbXOut: Bool { !mergedDecoder }
    public var addCondAfterTransformer: Bool { !mergedDecoder }
}
