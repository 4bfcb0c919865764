#!/usr/bin/env python3
"""Make reference fixtures of other shapes, in the format of ../shared/fixtures/reference, with the
reference implementation (PyTorch), so the engine's fixture tests can be run against sizes it has
never seen:

    python3 Tests/tools/make_fixtures.py --jukebox PATH/TO/openai-jukebox --seed 7 --out /tmp/alt
    JUKEBOX_FIXTURES=/tmp/alt swift test

Needs torch and numpy; librosa/soundfile/unidecode are stubbed because nothing here uses them.
Variants change widths, depths, heads, blocks, vocabularies and seeds; folder names match the shared
fixtures so the same tests pick them up.
"""
import argparse, json, os, struct, sys, types
import numpy as np


def stub_modules():
    for name in ["librosa", "soundfile", "fire"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    if "unidecode" not in sys.modules:
        m = types.ModuleType("unidecode")
        m.unidecode = lambda s: s.encode("ascii", "ignore").decode()
        sys.modules["unidecode"] = m


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[arr.dtype]
        raw = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * ((8 - (len(h) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def save_model(folder, kind, hps, model):
    os.makedirs(folder, exist_ok=True)
    clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in hps.items()}
    json.dump({"kind": kind, "hps": clean}, open(os.path.join(folder, "config.json"), "w"), indent=1)
    write_safetensors(os.path.join(folder, "weights.safetensors"),
                      {k: v.detach().float().numpy() for k, v in model.state_dict().items()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jukebox", required=True, help="checkout of github.com/openai/jukebox")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "../../../shared/fixtures/reference"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", type=int, default=0, choices=[0, 1], help="which family of variants")
    args = ap.parse_args()
    sys.path.insert(0, args.jukebox)
    stub_modules()
    import torch as t
    # The reference moves codebooks and some tensors to CUDA unconditionally; keep everything on the CPU.
    t.Tensor.cuda = lambda self, *a, **k: self
    t.nn.Module.cuda = lambda self, *a, **k: self
    def on_cpu(fn):
        def wrapped(*a, **k):
            if str(k.get("device", "")).startswith("cuda"):
                k["device"] = "cpu"
            return fn(*a, **k)
        return wrapped
    for name in ["arange", "zeros", "ones", "empty", "tensor", "full", "randn", "rand", "randint", "zeros_like",
                 "ones_like", "empty_like", "linspace"]:
        setattr(t, name, on_cpu(getattr(t, name)))
    t.Tensor.to = on_cpu(t.Tensor.to)
    t.cuda.LongTensor, t.cuda.FloatTensor, t.cuda.HalfTensor = t.LongTensor, t.FloatTensor, t.HalfTensor
    import torch.distributed as tdist
    if not tdist.is_initialized():
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29517")
        tdist.init_process_group("gloo", rank=0, world_size=1)
    from jukebox.hparams import Hyperparams
    from jukebox.make_models import make_vqvae, make_prior

    rng = np.random.RandomState(args.seed)
    t.manual_seed(args.seed)
    base = lambda name: json.load(open(os.path.join(args.shared, name, "config.json")))["hps"]

    # VQ-VAE with other widths/depths/codebook.
    hv = Hyperparams(base("vqvae"))
    hv.update(width=12, depth=3, emb_width=8, l_bins=48, dilation_cycle=2, m_conv=1.5, train=False)
    vqvae = make_vqvae(hv, "cpu")
    for k in vqvae.bottleneck.level_blocks:
        k.k.data.normal_()
        k.init = True
    save_model(os.path.join(args.out, "vqvae"), "vqvae", hv, vqvae)
    T = 128 * 24
    x = t.from_numpy((rng.rand(2, T, 1).astype(np.float32) * 2 - 1) * 0.5)
    io = {"x": x.numpy()}
    with t.no_grad():
        xin = vqvae.preprocess(x)
        for level in range(3):
            enc = vqvae.encoders[level](xin)[-1]
            z = vqvae.bottleneck.level_blocks[level].encode(enc)
            dec = vqvae.decode([z], start_level=level, end_level=level + 1)
            # ties: two nearest codebook entries within 0.1 %
            kk = vqvae.bottleneck.level_blocks[level].k
            flat = enc.permute(0, 2, 1).reshape(-1, enc.shape[1])
            d = (flat ** 2).sum(1, keepdim=True) - 2 * flat @ kk.T + (kk ** 2).sum(1)[None]
            two = d.topk(2, dim=1, largest=False).values
            tie = ((two[:, 1] - two[:, 0]).abs() <= 1e-3 * two[:, 0].abs()).long().view(2, -1)
            io.update({f"encoded{level}": enc.numpy(), f"z{level}": z.numpy(), f"decoded{level}": dec.numpy(),
                       f"tie{level}": tie.numpy()})
    write_safetensors(os.path.join(args.out, "vqvae", "io.safetensors"), io)
    # The same weights as torch checkpoints: legacy (the published files' format) and zip.
    plain_hps = {k: (list(v) if isinstance(v, tuple) else v) for k, v in hv.items()}
    ckpt = {"hps": plain_hps, "model": vqvae.state_dict(), "step": 123}
    t.save(ckpt, os.path.join(args.out, "vqvae", "checkpoint_legacy.pth.tar"), _use_new_zipfile_serialization=False)
    t.save(ckpt, os.path.join(args.out, "vqvae", "checkpoint_zip.pth.tar"))

    variants = [{
        "prior_top_labels": dict(prior_width=48, prior_depth=5, heads=3, blocks=4, n_ctx=48, t_bins=10,
                                 y_bins=[9, 17], max_bow_genre_size=2),
        "prior_top_dense": dict(prior_width=48, prior_depth=2, heads=4, n_ctx=24),
        "prior_top_1b_lyrics": dict(prior_width=24, prior_depth=8, heads=3, blocks=6, n_ctx=48, n_tokens=12,
                                    y_bins=[7, 11]),
        "prior_top_5b_lyrics": dict(prior_width=24, prior_depth=10, heads=3, blocks=6, n_ctx=48, n_tokens=20,
                                    prime_width=24, prime_depth=3, prime_heads=3, prime_blocks=5),
        "upsampler_level1": dict(prior_width=24, prior_depth=2, heads=2, blocks=8, n_ctx=96, cond_width=20,
                                 cond_depth=3, cond_dilation_cycle=3),
        "upsampler_level0": dict(prior_width=40, prior_depth=4, heads=2, blocks=4, n_ctx=64, cond_width=16,
                                 cond_depth=2, cond_res_scale=True),
    }, {
        # Other layouts: row/column (1), row + summary (3, 4 with spread), res_scale, wider MLP and attention.
        "prior_top_labels": dict(prior_width=32, prior_depth=4, heads=2, attn_order=1, blocks=8, n_ctx=64,
                                 res_scale=True, m_mlp=2.0),
        "prior_top_dense": dict(prior_width=32, prior_depth=4, heads=2, attn_order=3, blocks=8, n_ctx=64,
                                m_attn=0.5),
        "prior_top_1b_lyrics": dict(prior_width=32, prior_depth=16, heads=1, blocks=4, n_ctx=32, n_tokens=8,
                                    t_bins=12),
        "prior_top_5b_lyrics": dict(prior_width=32, prior_depth=19, heads=4, blocks=4, n_ctx=32, n_tokens=12,
                                    prime_width=16, prime_depth=1, prime_heads=1, prime_attn_order=0,
                                    prime_blocks=None),
        "upsampler_level1": dict(prior_width=32, prior_depth=4, heads=2, attn_order=4, blocks=8, spread=2,
                                 n_ctx=64),
        "upsampler_level0": dict(prior_width=32, prior_depth=3, heads=2, attn_order=0, blocks=None, n_ctx=32,
                                 cond_depth=1, cond_m_conv=2.0),
    }][args.set]
    for name, changes in variants.items():
        hp = Hyperparams(base(name))
        hp.update(changes)
        hp.update(train=False, l_bins=hv.l_bins, emb_width=hv.emb_width)
        hvv = Hyperparams(hv)
        hvv.update(sample_length=hp.n_ctx * [8, 32, 128][hp.level])
        vq = make_vqvae(hvv, "cpu")
        prior = make_prior(hp, vq, "cpu")
        with t.no_grad():
            for p in prior.parameters():
                p.normal_(0, 0.2)
        save_model(os.path.join(args.out, name), "prior", hp, prior)
        # Newer torch returns a non-contiguous prime_x_out here; the reference's .view then fails. Same maths, .reshape.
        if prior.use_tokens and not prior.single_enc_dec:
            def prime_loss(encoder_kv, prime_t, prior=prior):
                logits = prior.prime_x_out(encoder_kv).float()
                return t.nn.functional.cross_entropy(logits.reshape(-1, prior.prime_bins), prime_t.reshape(-1)) / np.log(2.)
            prior.get_prime_loss = prime_loss
        N = 2
        z = t.from_numpy(rng.randint(0, hp.l_bins, size=(N, hp.n_ctx)).astype(np.int64))
        z_conds = []
        if hp.level < 2:
            z_conds = [t.from_numpy(rng.randint(0, hp.l_bins, size=(N, hp.n_ctx // 4)).astype(np.int64))]
        sr = hp.sr
        hop = [8, 32, 128][hp.level]
        sample_length = hp.n_ctx * hop
        bow = hp.max_bow_genre_size
        n_tok = hp.n_tokens if hp.use_tokens else 0
        from jukebox.data.text_processor import TextProcessor
        from jukebox.data.labels import get_relevant_lyric_tokens
        words = ["love", "night", "Road", "fire,", "yeah!", "(oh)", "don't", "stop:", "1", "2-3", "\\", "[x2]", "caf\u00e9"]
        lyrics = [" ".join(rng.choice(words, size=int(rng.randint(2, 40)))) for _ in range(N)]
        processor = TextProcessor(v3=hp.labels_v3)
        ys = []
        for i in range(N):
            total = int(rng.randint(sample_length * 2, int(hp.max_duration * sr)))
            offset = int(rng.randint(0, total - sample_length))
            genres = [int(g) for g in rng.randint(0, hp.y_bins[0], size=bow)]
            if bow > 1:
                genres[-1] = -1
            full = processor.tokenise(processor.clean(lyrics[i]))
            toks = get_relevant_lyric_tokens(full, n_tok, total, offset, sample_length)[0] if n_tok else []
            ys.append([total, offset, sample_length, int(rng.randint(0, hp.y_bins[1]))] + genres + toks)
        y = t.tensor(ys, dtype=t.long)
        with t.no_grad():
            x_cond, y_cond, prime = prior.get_cond(z_conds, y)
            loss, metrics = prior.z_forward(z, z_conds, y, get_preds=True)
        io = {"z": z.numpy(), "y": y.numpy(), "x_cond": x_cond.numpy(), "y_cond": y_cond.numpy(),
              "logits": metrics["preds"].numpy(), "train_loss": np.array([loss.item()], dtype=np.float32)}
        if z_conds:
            io["z_cond0"] = z_conds[0].numpy()
        if name == "prior_top_5b_lyrics":
            # As the published 5b priors are stored: transformer matrices in fp16, keys under 'module.'.
            sd = {"module." + k: (v.half() if "transformer" in k and k.endswith(".w") else v)
                  for k, v in prior.state_dict().items()}
            plain = {k: (list(v) if isinstance(v, tuple) else v) for k, v in hp.items()}
            t.save({"hps": plain, "model": sd, "step": 7},
                   os.path.join(args.out, name, "checkpoint_fp16_legacy.pth.tar"), _use_new_zipfile_serialization=False)
        write_safetensors(os.path.join(args.out, name, "io.safetensors"), io, {"lyrics": json.dumps(lyrics)})
        print(name, {k: v.shape for k, v in io.items()})


if __name__ == "__main__":
    main()
