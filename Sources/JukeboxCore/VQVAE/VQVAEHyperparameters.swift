import Foundation

/// The settings of one stack of residual convolutions (the reference's block_kwargs for Resnet1D,
/// EncoderConvBlock and DecoderConvBock). Shared by the VQ-VAE and the upsamplers' conditioner.
public struct ConvBlockConfig: Sendable, Equatable {
    public var width: Int
    public var depth: Int
    public var mConv: Double
    public var dilationGrowthRate: Int
    public var dilationCycle: Int?
    /// Scale each residual branch by 1/√depth (the reference's res_scale=True).
    public var resScale: Bool
    /// Run the residual blocks in reversed dilation order (decoders of the VQ-VAE).
    public var reverseDilation: Bool
    /// The reference's checkpoint_res == 1 keeps the residual blocks under `blocks.` instead of `model.`.
    public var checkpointRes: Bool

    public init(width: Int, depth: Int, mConv: Double = 1, dilationGrowthRate: Int = 1, dilationCycle: Int? = nil,
                resScale: Bool = false, reverseDilation: Bool = false, checkpointRes: Bool = false) {
        self.width = width
        self.depth = depth
        self.mConv = mConv
        self.dilationGrowthRate = dilationGrowthRate
        self.dilationCycle = dilationCycle
        self.resScale = resScale
        self.reverseDilation = reverseDilation
        self.checkpointRes = checkpointRes
    }

    /// Channels inside each residual block: int(m_conv · width), as the reference truncates.
    public var stateWidth: Int { Int(mConv * Double(width)) }

    /// Dilation of the residual block built at `depth` (before any reversal): rate^(depth mod cycle).
    public func dilation(atDepth depth: Int) -> Int {
        let e = dilationCycle.map { depth % $0 } ?? depth
        var d = 1
        for _ in 0..<e { d *= dilationGrowthRate }
        return d
    }

    /// Rejects settings that would build no model or overflow a dilation.
    public func validate(_ subject: String) throws {
        guard width > 0 else { throw JukeboxError(subject, "width is \(width), must be positive") }
        guard depth >= 0 else { throw JukeboxError(subject, "depth is \(depth), must not be negative") }
        guard stateWidth > 0 else { throw JukeboxError(subject, "m_conv \(mConv) × width \(width) leaves no channels") }
        guard dilationGrowthRate >= 1 else {
            throw JukeboxError(subject, "dilation_growth_rate is \(dilationGrowthRate), must be at least 1")
        }
        if let c = dilationCycle, c <= 0 { throw JukeboxError(subject, "dilation_cycle is \(c), must be positive") }
        var d = 1
        for i in 0..<max(depth, 0) {
            let e = dilationCycle.map { i % $0 } ?? i
            d = 1
            for _ in 0..<e {
                let (p, overflow) = d.multipliedReportingOverflow(by: dilationGrowthRate)
                guard !overflow, p <= 1 << 30 else {
                    throw JukeboxError(subject, "dilation \(dilationGrowthRate)^\(e) at depth \(i) is too large")
                }
                d = p
            }
        }
    }
}

/// The VQ-VAE's hyperparameters under the reference's names (hparams.py `vqvae`, make_vqvae).
/// Keys the reference fills from its DEFAULTS may be absent and take those defaults.
public struct VQVAEHyperparameters: Sendable, Equatable {
    public var levels: Int
    public var downsT: [Int]
    public var stridesT: [Int]
    public var embWidth: Int
    public var lBins: Int
    public var width: Int
    public var depth: Int
    public var mConv: Double
    public var dilationGrowthRate: Int
    public var dilationCycle: Int?
    /// hvqvae_multipliers: width and depth of level L are multiplied by multipliers[L].
    public var multipliers: [Int]
    public var reverseDecoderDilation: Bool
    public var sampleRate: Int

    public init(_ hps: Hyperparameters) throws {
        levels = try hps.int("levels")
        downsT = try hps.ints("downs_t")
        stridesT = try hps.ints("strides_t")
        embWidth = try hps.int("emb_width")
        lBins = try hps.int("l_bins")
        width = try hps.int("width")
        depth = try hps.int("depth")
        mConv = hps.values.keys.contains("m_conv") ? try hps.double("m_conv") : 1
        dilationGrowthRate = hps.values.keys.contains("dilation_growth_rate") ? try hps.int("dilation_growth_rate") : 1
        dilationCycle = hps.values.keys.contains("dilation_cycle") ? try hps.optionalInt("dilation_cycle") : nil
        multipliers = hps.has("hvqvae_multipliers") ? try hps.ints("hvqvae_multipliers") : []
        reverseDecoderDilation = hps.values.keys.contains("vqvae_reverse_decoder_dilation")
            ? try hps.bool("vqvae_reverse_decoder_dilation") : true
        sampleRate = hps.values.keys.contains("sr") ? try hps.int("sr") : 44100
        if hps.has("use_bottleneck"), try !hps.bool("use_bottleneck") {
            throw JukeboxError(hps.source, "hyperparameter use_bottleneck is false; only VQ-VAEs with a codebook are supported")
        }
        if multipliers.isEmpty { multipliers = Array(repeating: 1, count: max(levels, 0)) }
        try validate(hps.source)
    }

    private func validate(_ source: String) throws {
        func fail(_ what: String) -> JukeboxError { JukeboxError(source, what) }
        guard levels >= 1 else { throw fail("hyperparameter levels is \(levels), must be at least 1") }
        guard downsT.count == levels else { throw fail("hyperparameter downs_t has \(downsT.count) entries for \(levels) levels") }
        guard stridesT.count == levels else {
            throw fail("hyperparameter strides_t has \(stridesT.count) entries for \(levels) levels")
        }
        guard multipliers.count == levels else {
            throw fail("hyperparameter hvqvae_multipliers has \(multipliers.count) entries for \(levels) levels")
        }
        if let d = downsT.first(where: { $0 < 1 }) { throw fail("hyperparameter downs_t holds \(d), each must be at least 1") }
        // Filter 2s, padding s/2 halves/doubles lengths exactly only for even strides; the reference
        // asserts those lengths, so other strides cannot run there either.
        if let s = stridesT.first(where: { $0 < 2 || $0 % 2 != 0 }) {
            throw fail("hyperparameter strides_t holds \(s), each must be even and at least 2")
        }
        if let m = multipliers.first(where: { $0 < 1 }) { throw fail("hyperparameter hvqvae_multipliers holds \(m), must be positive") }
        guard embWidth > 0 else { throw fail("hyperparameter emb_width is \(embWidth), must be positive") }
        guard lBins > 0 else { throw fail("hyperparameter l_bins is \(lBins), must be positive") }
        guard sampleRate > 0 else { throw fail("hyperparameter sr is \(sampleRate), must be positive") }
        var hop = 1
        for (s, d) in zip(stridesT, downsT) {
            for _ in 0..<d {
                let (p, o) = hop.multipliedReportingOverflow(by: s)
                guard !o, p <= 1 << 24 else { throw fail("hyperparameters strides_t and downs_t give a hop length beyond 2^24") }
                hop = p
            }
        }
        for level in 0..<levels { try blockConfig(level: level, decoder: true).validate(source) }
    }

    /// stride^down for each level (the reference's downsamples).
    public var downsamples: [Int] {
        zip(stridesT, downsT).map { s, d in (0..<d).reduce(1) { r, _ in r * s } }
    }

    /// Audio samples per code at each level: cumulative products of the downsamples (8, 32, 128 for 5b).
    public var hopLengths: [Int] {
        var hop = 1
        return downsamples.map { hop *= $0; return hop }
    }

    /// The residual-stack settings of level `level`, with hvqvae multipliers applied. The reference's
    /// make_vqvae passes no res_scale (so residual branches are unscaled) and zero_out only matters
    /// for initialisation; the decoders alone reverse their dilations.
    public func blockConfig(level: Int, decoder: Bool) -> ConvBlockConfig {
        ConvBlockConfig(width: width * multipliers[level], depth: depth * multipliers[level], mConv: mConv,
                        dilationGrowthRate: dilationGrowthRate, dilationCycle: dilationCycle, resScale: false,
                        reverseDilation: decoder && reverseDecoderDilation, checkpointRes: false)
    }

    /// The published 5b VQ-VAE (hparams.py `vqvae` over the DEFAULTS), as config.json would hold it.
    public static let published5b: [String: Any] = [
        "levels": 3, "downs_t": [3, 2, 2], "strides_t": [2, 2, 2], "emb_width": 64, "l_bins": 2048,
        "hvqvae_multipliers": [2, 1, 1], "width": 32, "depth": 4, "m_conv": 1.0, "dilation_growth_rate": 3,
        "dilation_cycle": NSNull(), "vqvae_reverse_decoder_dilation": true, "sr": 44100, "use_bottleneck": true,
    ]
}
