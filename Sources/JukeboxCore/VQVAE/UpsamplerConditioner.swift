/// The upsamplers' conditioner on the level above (the reference's prior/conditioners.py Conditioner):
/// embed the upper level's codes, upsample them with a DecoderConvBock built from the cond_*
/// hyperparameters (by stride^down of the upper level, so one vector per code of this level), then
/// layer-normalise. Its output is the x_cond the upsampler prior adds to its input embedding.
/// In a prior's state dict it sits under `conditioner_blocks.0.`; keys: `x_emb.weight`, `cond`, `ln`.
public struct UpsamplerConditioner: @unchecked Sendable {
    /// The prior's width (out_width): channels of the output.
    public let width: Int
    /// Codes of this level per code of the level above (stride^down of the level above).
    public let upsampling: Int
    /// Entries of the code vocabulary (l_bins).
    public let bins: Int
    package let xEmb: Tensor        // [bins, width]
    package let cond: DecoderConvBock
    package let lnWeight: Tensor    // [width]
    package let lnBias: Tensor      // [width]

    /// The conditioner's own settings, read from a prior's hyperparameters.
    public struct Settings: Sendable, Equatable {
        public var bins: Int
        public var width: Int
        public var downT: Int
        public var strideT: Int
        public var initScale: Double
        public var block: ConvBlockConfig

        /// The reference builds the conditioner from the VQ-VAE's levels, downs_t, strides_t and
        /// l_bins (make_prior passes vqvae.downs_t etc.); pass `vqvae` to take them from there rather
        /// than from the prior's own hyperparameters.
        public init(_ hps: Hyperparameters, vqvae: VQVAEHyperparameters? = nil) throws {
            let level = try hps.int("level"), levels = try vqvae?.levels ?? hps.int("levels")
            guard level >= 0 && level < levels - 1 else {
                throw JukeboxError(hps.source, "level \(level) of \(levels) has no level above to condition on")
            }
            let downs = try vqvae?.downsT ?? hps.ints("downs_t"), strides = try vqvae?.stridesT ?? hps.ints("strides_t")
            guard downs.count == levels, strides.count == levels else {
                throw JukeboxError(hps.source, "downs_t and strides_t need \(levels) entries each")
            }
            bins = try vqvae?.lBins ?? hps.int("l_bins")
            width = try hps.int("prior_width")
            downT = downs[level + 1]
            strideT = strides[level + 1]
            initScale = hps.has("init_scale") ? try hps.double("init_scale") : 1
            func optionalInt(_ key: String) throws -> Int? { hps.values.keys.contains(key) ? try hps.optionalInt(key) : nil }
            block = ConvBlockConfig(
                width: try hps.int("cond_width"), depth: try hps.int("cond_depth"),
                mConv: hps.has("cond_m_conv") ? try hps.double("cond_m_conv") : 1,
                dilationGrowthRate: try optionalInt("cond_dilation_growth_rate") ?? 1,
                dilationCycle: try optionalInt("cond_dilation_cycle"),
                resScale: hps.has("cond_res_scale") ? try hps.bool("cond_res_scale") : false,
                reverseDilation: false,
                checkpointRes: try optionalInt("cond_c_res") == 1)
            guard bins > 0, width > 0 else { throw JukeboxError(hps.source, "l_bins and prior_width must be positive") }
            guard downT >= 1, strideT >= 2, strideT % 2 == 0 else {
                throw JukeboxError(hps.source, "the level above has downs_t \(downT) and strides_t \(strideT);"
                                   + " need downs_t ≥ 1 and an even stride ≥ 2")
            }
            try block.validate(hps.source)
        }
    }

    public init(scope: WeightScope, hps: Hyperparameters, vqvae: VQVAEHyperparameters? = nil) throws {
        try self.init(parameters: scope, settings: Settings(hps, vqvae: vqvae))
    }

    public init<P: ParameterSource>(parameters p: P, settings s: Settings) throws {
        xEmb = try p.parameter("x_emb.weight", [s.bins, s.width], .normal(std: Float(0.02 * s.initScale)))
        cond = try DecoderConvBock(p.scope("cond"), inputWidth: s.width, outputWidth: s.width, downT: s.downT,
                                   strideT: s.strideT, config: s.block)
        lnWeight = try p.parameter("ln.weight", [s.width], .ones)
        lnBias = try p.parameter("ln.bias", [s.width], .zeros)
        width = s.width
        bins = s.bins
        upsampling = (0..<s.downT).reduce(1) { r, _ in r * s.strideT }
    }

    /// Every key (relative to `conditioner_blocks.0`) and shape, in the reference's order.
    public static func parameterShapes(_ hps: Hyperparameters,
                                       vqvae: VQVAEHyperparameters? = nil) throws -> [(key: String, shape: [Int])] {
        let recorder = ParameterRecorder(fill: false)
        _ = try UpsamplerConditioner(parameters: recorder, settings: Settings(hps, vqvae: vqvae))
        return recorder.shapes
    }

    /// Upper-level codes, `n` rows of T_cond, row-major → [N, T_cond · upsampling, width].
    public func forward(_ zCond: [Int], n: Int) throws -> Tensor {
        guard n > 0, !zCond.isEmpty, zCond.count % n == 0 else {
            throw JukeboxError("z_cond", "\(zCond.count) codes do not split into \(n) non-empty rows")
        }
        if let (i, bad) = zCond.enumerated().first(where: { $0.element < 0 || $0.element >= bins }) {
            throw JukeboxError("z_cond", "code \(bad) at index \(i) is outside 0..<\(bins)")
        }
        let tc = zCond.count / n
        // Embed straight into the channel-major layout the convolutions read.
        let x = Tensor(zeros: [n, width, tc])
        for item in 0..<n {
            let xi = x.data + item * width * tc
            for j in 0..<tc {
                let row = xEmb.data + zCond[item * tc + j] * width
                for c in 0..<width { xi[c * tc + j] = row[c] }
            }
        }
        let h = cond(x)     // [N, width, T]
        let t = h.shape[2]
        let out = Tensor(zeros: [n, t, width])
        for item in 0..<n {
            let src = h.data + item * width * t, dst = out.data + item * t * width
            parallelFor(t, minChunk: 256) { range in
                for j in range { for c in 0..<width { dst[j * width + c] = src[c * t + j] } }
            }
        }
        Ops.layerNorm(out.data, rows: n * t, width: width, gamma: lnWeight.data, beta: lnBias.data, out.data)
        return out
    }
}
