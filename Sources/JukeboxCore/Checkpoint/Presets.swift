import Foundation

/// The reference's named hyperparameter sets (jukebox/hparams.py), so a checkpoint without usable
/// hps — or one whose training-time hps should be replaced by the ones the reference samples with —
/// can be converted. A preset is what `setup_hparams(name, {})` gives: every default, then the
/// named set's values. For priors the published VQ-VAE's values are merged in first, so a prior's
/// folder knows the audio geometry it was trained on (levels, downs_t, strides_t), as the reference
/// fixtures' prior configs do.
public enum HyperparameterPresets {
    public typealias Entries = [(key: String, value: PickleValue)]

    public static let names = ["vqvae", "upsampler_level_0", "upsampler_level_1", "prior_5b", "prior_5b_lyrics", "prior_1b_lyrics"]

    /// The kind of model a preset describes.
    public static func kind(of name: String) -> ModelKind? {
        guard names.contains(name) else { return nil }
        return name == "vqvae" ? .vqvae : .prior
    }

    /// The full hps of a preset, every default key included, in the reference's key order.
    public static func hps(_ name: String) throws -> Entries {
        var sets: [Entries]
        switch name {
        case "vqvae": sets = [vqvae]
        case "upsampler_level_0": sets = [vqvae, upsamplers, labels, [("level", .int(0)), ("restore_prior", remote("5b/prior_level_0.pth.tar"))]]
        case "upsampler_level_1":
            sets = [vqvae, upsamplers, labels, [("level", .int(1)), ("cond_res_scale", .bool(true)),
                                                ("restore_prior", remote("5b/prior_level_1.pth.tar"))]]
        case "prior_5b": sets = [vqvae, prior5b, labels]
        case "prior_5b_lyrics": sets = [vqvae, prior5bLyrics, labels]
        case "prior_1b_lyrics": sets = [vqvae, prior1bLyrics, labelsV3]
        default:
            throw JukeboxError("preset", "unknown preset \(name) (known: \(names.joined(separator: ", ")))")
        }
        return merge(defaults, sets)
    }

    /// `base` with each set's values laid over it in turn; keys keep their first position.
    public static func merge(_ base: Entries, _ sets: [Entries]) -> Entries {
        var out = base
        var index = Dictionary(base.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { a, _ in a })
        for set in sets {
            for (k, v) in set {
                if let i = index[k] { out[i] = (k, v) } else { index[k] = out.count; out.append((k, v)) }
            }
        }
        return out
    }

    private static func ints(_ values: Int...) -> PickleValue { .tuple(values.map { .int($0) }) }
    private static func remote(_ path: String) -> PickleValue { .string("https://openaipublic.azureedge.net/jukebox/models/" + path) }

    private static let vqvae: Entries = [
        ("levels", .int(3)), ("downs_t", ints(3, 2, 2)), ("strides_t", ints(2, 2, 2)), ("emb_width", .int(64)),
        ("l_bins", .int(2048)), ("l_mu", .float(0.99)), ("commit", .float(0.02)), ("spectral", .float(0.0)),
        ("multispectral", .float(1.0)), ("hvqvae_multipliers", ints(2, 1, 1)), ("loss_fn", .string("lmix")),
        ("lmix_l2", .float(1.0)), ("lmix_linf", .float(0.02)), ("width", .int(32)), ("depth", .int(4)),
        ("m_conv", .float(1.0)), ("dilation_growth_rate", .int(3)), ("restore_vqvae", remote("5b/vqvae.pth.tar")),
    ]

    private static let labels: Entries = [
        ("y_bins", ints(120, 4111)), ("t_bins", .int(128)), ("max_bow_genre_size", .int(5)), ("n_vocab", .int(80)),
    ]

    private static let labelsV3: Entries = [
        ("y_bins", ints(604, 7898)), ("t_bins", .int(64)), ("max_bow_genre_size", .int(1)), ("n_vocab", .int(79)),
    ]

    private static let upsamplers: Entries = [
        ("n_ctx", .int(8192)), ("prior_width", .int(1920)), ("prior_depth", .int(72)), ("heads", .int(1)),
        ("attn_order", .int(2)), ("blocks", .int(128)), ("init_scale", .float(0.4)), ("c_res", .int(1)),
        ("cond_width", .int(1024)), ("cond_depth", .int(16)), ("cond_dilation_growth_rate", .int(3)),
        ("cond_dilation_cycle", .int(8)), ("cond_c_res", .int(1)), ("use_tokens", .bool(false)),
        ("prime_loss_fraction", .float(0.0)), ("fp16_params", .bool(false)),
    ]

    private static let prior5b: Entries = [
        ("level", .int(2)), ("n_ctx", .int(8192)), ("prior_width", .int(4800)), ("prior_depth", .int(72)),
        ("heads", .int(8)), ("attn_order", .int(2)), ("blocks", .int(128)), ("init_scale", .float(0.1)),
        ("c_res", .int(1)), ("beta2", .float(0.925)), ("min_duration", .float(60.0)), ("max_duration", .float(600.0)),
        ("use_tokens", .bool(false)), ("n_tokens", .int(0)), ("prime_loss_fraction", .float(0.0)),
        ("merged_decoder", .bool(true)), ("restore_prior", remote("5b/prior_level_2.pth.tar")), ("fp16_params", .bool(true)),
    ]

    private static let prior5bLyrics: Entries = [
        ("level", .int(2)), ("n_ctx", .int(8192)), ("prior_width", .int(4800)), ("prior_depth", .int(79)),
        ("heads", .int(8)), ("attn_order", .int(10)), ("blocks", .int(128)), ("init_scale", .float(0.1)),
        ("c_res", .int(1)), ("prime_width", .int(1280)), ("prime_depth", .int(18)), ("prime_heads", .int(4)),
        ("prime_attn_order", .int(2)), ("prime_blocks", .int(32)), ("prime_init_scale", .float(0.7)),
        ("prime_c_res", .int(1)), ("min_duration", .float(23.8)), ("max_duration", .float(600.0)),
        ("use_tokens", .bool(true)), ("n_tokens", .int(512)), ("prime_loss_fraction", .float(0.4)),
        ("merged_decoder", .bool(true)), ("restore_prior", remote("5b_lyrics/prior_level_2.pth.tar")),
        ("fp16_params", .bool(true)), ("alignment_layer", .int(68)), ("alignment_head", .int(2)),
    ]

    private static let prior1bLyrics: Entries = [
        ("level", .int(2)), ("n_ctx", .int(6144)), ("prior_width", .int(2048)), ("prior_depth", .int(72)),
        ("heads", .int(2)), ("attn_order", .int(12)), ("blocks", .int(64)), ("init_scale", .float(0.2)),
        ("c_res", .int(1)), ("labels_v3", .bool(true)), ("min_duration", .float(17.84)), ("max_duration", .float(600.0)),
        ("use_tokens", .bool(true)), ("n_tokens", .int(384)), ("prime_loss_fraction", .float(0.4)),
        ("single_enc_dec", .bool(true)), ("restore_prior", remote("1b_lyrics/prior_level_2.pth.tar")),
        ("fp16_params", .bool(false)), ("alignment_layer", .int(63)), ("alignment_head", .int(0)),
    ]

    /// Every hyperparameter the reference defines, with its default (the groups of its DEFAULTS).
    public static let defaults: Entries = [
        // rcall
        ("rcall_command", .string("<unknown_rcall_command>")), ("git_commit", .string("<unknown_git_commit>")),
        // script
        ("name", .string("")), ("debug_mem", .bool(false)), ("debug_eval_files", .bool(false)),
        ("debug_speed", .bool(false)), ("debug_iters", .int(100)), ("debug_batch", .bool(false)),
        ("debug_grad_accum", .bool(false)), ("debug_inputs", .bool(false)), ("local_path", .string("")),
        ("local_logdir", .string("logs")), ("max_len", .int(24)), ("max_log", .int(32)), ("save", .bool(true)),
        ("save_iters", .int(20000)), ("seed", .int(0)), ("prior", .bool(false)), ("log_steps", .int(100)),
        ("func", .string("")),
        // data
        ("audio_files_dir", .string("")), ("finetune", .string("")), ("english_only", .bool(false)), ("bs", .int(1)),
        ("bs_sample", .int(1)), ("nworkers", .int(1)), ("aug_shift", .bool(false)), ("aug_blend", .bool(false)),
        ("train_test_split", .float(0.9)), ("train_shrink_factor", .float(1.0)), ("test_shrink_factor", .float(1.0)),
        ("p_unk", .float(0.1)), ("min_duration", .none), ("max_duration", .none), ("n_tokens", .int(0)),
        ("n_vocab", .int(0)), ("use_tokens", .bool(false)), ("curr_epoch", .int(-1)),
        // vqvae
        ("restore_vqvae", .string("")), ("levels", .int(2)), ("downs_t", ints(1, 1)), ("strides_t", ints(2, 2)),
        ("hvqvae_multipliers", .none), ("revival_threshold", .float(1.0)), ("emb_width", .int(64)),
        ("l_bins", .int(512)), ("l_mu", .float(0.99)), ("commit", .float(1.0)), ("spectral", .float(0.0)),
        ("multispectral", .float(1.0)), ("loss_fn", .string("l2")), ("linf_k", .int(2048)), ("lmix_l1", .float(0.0)),
        ("lmix_l2", .float(0.0)), ("lmix_linf", .float(0.0)), ("use_bottleneck", .bool(true)),
        // vqvae_conv_block
        ("depth", .int(3)), ("width", .int(128)), ("m_conv", .float(1.0)), ("dilation_growth_rate", .int(1)),
        ("dilation_cycle", .none), ("vqvae_reverse_decoder_dilation", .bool(true)),
        // prior
        ("restore_prior", .string("")), ("restore_prior_ddp", .bool(false)), ("max_bow_genre_size", .none),
        ("y_bins", .int(0)), ("level", .int(0)), ("cond_levels", .none), ("t_bins", .int(64)),
        ("y_cond_as_bias", .bool(false)), ("copy_input", .bool(false)), ("merged_decoder", .bool(false)),
        ("single_enc_dec", .bool(false)), ("alignment_layer", .none), ("alignment_head", .none),
        // prior_attn_block
        ("n_ctx", .int(1024)), ("prior_depth", .int(3)), ("prior_width", .int(128)), ("heads", .int(1)),
        ("attn_order", .int(0)), ("blocks", .none), ("spread", .none), ("attn_dropout", .float(0.0)),
        ("resid_dropout", .float(0.0)), ("emb_dropout", .float(0.0)), ("zero_out", .bool(false)),
        ("res_scale", .bool(false)), ("pos_init", .bool(false)), ("init_scale", .float(1.0)),
        ("m_attn", .float(0.25)), ("m_mlp", .float(1.0)), ("c_res", .int(0)), ("c_attn", .int(0)),
        ("c_mlp", .int(0)),
        // cond_conv_block
        ("cond_depth", .int(3)), ("cond_width", .int(128)), ("cond_m_conv", .float(1.0)),
        ("cond_zero_out", .bool(false)), ("cond_res_scale", .bool(false)), ("cond_dilation_growth_rate", .int(1)),
        ("cond_dilation_cycle", .none), ("cond_c_res", .int(0)),
        // sample
        ("primed_chunk_size", .none), ("selected_artists", .string("")), ("temp_top", .float(1.0)),
        ("temp_rest", .float(0.99)), ("sample_length_in_seconds", .int(24)),
        ("total_sample_length_in_seconds", .int(240)),
        // prime
        ("prime_loss_fraction", .float(0.1)), ("restore_decoder", .string("")),
        // prime_attn_block
        ("prime_depth", .int(3)), ("prime_width", .int(128)), ("prime_heads", .int(1)),
        ("prime_attn_order", .int(0)), ("prime_blocks", .none), ("prime_spread", .none),
        ("prime_attn_dropout", .float(0.0)), ("prime_resid_dropout", .float(0.0)),
        ("prime_emb_dropout", .float(0.0)), ("prime_zero_out", .bool(false)), ("prime_res_scale", .bool(false)),
        ("prime_pos_init", .bool(false)), ("prime_init_scale", .float(1.0)), ("prime_m_attn", .float(0.25)),
        ("prime_m_mlp", .float(1.0)), ("prime_c_res", .int(0)), ("prime_c_attn", .int(0)), ("prime_c_mlp", .int(0)),
        ("prime_rel_attn", .bool(false)), ("prime_posemb_timescale", .int(10000)),
        // opt
        ("epochs", .int(10000)), ("lr", .float(0.0003)), ("clip", .float(1.0)), ("beta1", .float(0.9)),
        ("beta2", .float(0.999)), ("ignore_grad_norm", .int(0)), ("weight_decay", .float(0.0)),
        ("eps", .float(1e-08)), ("lr_warmup", .float(100.0)), ("lr_decay", .float(10000000000.0)),
        ("lr_gamma", .float(1.0)), ("lr_scale", .float(1.0)), ("lr_use_linear_decay", .bool(false)),
        ("lr_start_linear_decay", .int(0)), ("lr_use_cosine_decay", .bool(false)),
        // fp16
        ("fp16", .bool(false)), ("fp16_params", .bool(false)), ("fp16_loss_scale", .none),
        ("fp16_scale_window", .float(1000.0)), ("fp16_opt", .bool(false)),
        // train_test_eval
        ("labels", .bool(true)), ("labels_v3", .bool(false)), ("dump", .bool(false)), ("ema", .bool(true)),
        ("ema_fused", .bool(true)), ("cpu_ema", .bool(false)), ("cpu_ema_freq", .int(100)),
        ("reset_best_loss", .bool(false)), ("reset_step", .bool(false)), ("reset_opt", .bool(false)),
        ("reset_shd", .bool(false)), ("train", .bool(false)), ("test", .bool(false)), ("sample", .bool(false)),
        ("sampler", .string("ancestral")), ("codes_logdir", .string("")), ("date", .none),
        ("labeller", .string("top_genres")), ("label_line", .int(0)), ("iters_before_update", .int(1)),
        ("grad_accum_iters", .int(0)), ("mu", .none), ("piped", .bool(false)), ("pipe_depth", .int(8)),
        ("break_train", .float(10000000000.0)), ("break_test", .float(10000000000.0)),
        ("exit_train", .float(10000000000.0)),
        // audio
        ("n_fft", .int(1024)), ("hop_length", .int(256)), ("window_size", .int(1024)), ("sr", .int(44100)),
        ("channels", .int(2)), ("wav", .string("")), ("n_inps", .int(1)), ("n_hops", .int(2)),
        ("n_segment", .int(1)), ("n_total_segment", .int(1)), ("n_segment_each", .int(1)), ("prime_chunks", .int(4)),
        ("sample_length", .int(0)), ("sample_hop_length", .int(30000)), ("max_silence_pad_length", .int(0)),
        ("ignore_boundaries", .bool(false)), ("use_nonrelative_specloss", .bool(true)),
        ("multispec_loss_n_fft", ints(2048, 1024, 512)), ("multispec_loss_hop_length", ints(240, 120, 50)),
        ("multispec_loss_window_size", ints(1200, 600, 240)),
        // distributed
        ("bucket", .int(128)),
    ]
}
