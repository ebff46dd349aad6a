#!/usr/bin/env python3
"""PyTorch reference for `visurf bench`: the same model, train step and rollout, in eager mode.

This is what a user who did not have visurf would write: plain PyTorch 1.13 (Debian's
python3-torch), f32 master weights, and for bf16 `torch.autocast('cpu', dtype=torch.bfloat16)`
around the forward pass. The model and the measured work follow /work/shared/BENCH.md and
visurf's own implementation (src/model/vlm.ts, src/model/generate.ts, src/bench/model-bench.ts):

  train_step  forward, backward and AdamW (lr 1e-5, wd 0.01 on matrices, global grad-norm clip
              1.0) over 16 prompts x 9 sequences of 64 image + 32 prompt + 64 response tokens;
              loss = PPO-style clipped surrogate (clip 0.2) on the response tokens' log-probs;
              tokens/s = sequences x 160 / step seconds, median of --steps steps after a warm-up.
  rollout     128 sequences: prefill image + prompt, then 64 new tokens each sampled at
              temperature 1 with a KV cache; new tokens/s, median of 3 runs after a warm-up.

Usage (the flags mirror `visurf bench`):
  /usr/bin/python3 bench/torch_bench.py [--json] [--only train_step,rollout] [--dtype f32,bf16]
                                        [--threads 2] [--steps 3] [--small] [--params]

Each (benchmark, dtype) runs in a fresh child process of this script, as visurf does, so that
peak_rss_mb is that benchmark's own high-water mark and not whatever ran before it.
"""

import argparse
import functools
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# visurf's BENCH_CONFIG (src/model/config.ts), spelled out once.
BENCH_CONFIG = {
    "image_size": 64,
    "patch": 8,
    "vision": {"width": 192, "layers": 2, "heads": 4, "hidden": 512},
    "decoder": {"width": 256, "layers": 6, "heads": 8, "hidden": 704},
    "rope_base": 10000.0,  # visurf uses the decoder's base for the encoder's RoPE as well
    "vocab": 320,
    "prompt_tokens": 32,
    "response_tokens": 64,
    "norm_eps": 1e-6,
}
BOS = 257  # tokenizer.ts: specials start at 256; <pad> = 256, <bos> = 257

# The measured work (model-bench.ts) and its --small smoke-test version.
FULL_WORK = {"prompts": 16, "group": 9, "rollout_batch": 128, "new_tokens": 64}
SMALL_WORK = {"prompts": 2, "group": 2, "rollout_batch": 2, "new_tokens": 8}

ALL_BENCHMARKS = ("train_step", "rollout")
ALL_DTYPES = ("f32", "bf16")


def image_tokens(c):
    return (c["image_size"] // c["patch"]) ** 2


# --------------------------------------------------------------------------------------- model


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * w, over the last dim (vlm.ts: every norm is an RMSNorm)."""

    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # Computed in f32 even under autocast (a bf16 mean of squares loses too much), which is
        # also what visurf does: only its matmuls take bf16 inputs.
        x = x.float()
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Rotary:
    """Rotary position embedding, half-split convention: pair (i, i + d/2) rotates by
    theta_i = pos * base^(-2i/d), as visurf's rope kernel and Llama do. The cos/sin tables are
    built once for every position the model can see."""

    def __init__(self, head_dim, max_positions, base):
        half = head_dim // 2
        inv_freq = base ** (-2.0 * torch.arange(half, dtype=torch.float64) / head_dim)
        angles = torch.arange(max_positions, dtype=torch.float64)[:, None] * inv_freq[None, :]
        self.cos = angles.cos().float()  # [positions, half]
        self.sin = angles.sin().float()

    def __call__(self, x, positions):
        """x: [batch, heads, seq, head_dim]; positions: [seq] (shared by the batch)."""
        cos = self.cos[positions]
        sin = self.sin[positions]
        half = x.shape[-1] // 2
        a, b = x[..., :half].float(), x[..., half:].float()
        rotated = torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)
        # Back to the input's dtype: under autocast q, k and v stay bf16 like the linear output,
        # so the KV cache and the attention products are all bf16 (what autocast would give
        # without the f32 rotation in between).
        return rotated.to(x.dtype)


@functools.lru_cache(maxsize=None)
def future_mask(t):
    """[t, t] True where key j lies after query i (the positions causal attention hides)."""
    return torch.ones(t, t, dtype=torch.bool).triu_(1)


def attend(q, k, v, causal):
    """Scaled dot-product attention by explicit matmuls (PyTorch 1.13 has no
    F.scaled_dot_product_attention). q: [B, H, Tq, d]; k, v: [B, H, Tk, d]. causal: query i
    sees keys j <= i (only used with Tq == Tk)."""
    scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    if causal:
        scores = scores.masked_fill(future_mask(scores.shape[-1]), float("-inf"))
    # Softmax in f32 (autocast on CPU would leave it in bf16); the product with v goes back
    # to bf16 under autocast, as the scores product did.
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
    return torch.matmul(probs, v)


class Block(nn.Module):
    """Pre-norm transformer block: x + out(attn(rope(qkv(norm1 x)))), then
    x + w2(silu(gate) * up) with [gate | up] = w13(norm2 x). No biases (vlm.ts)."""

    def __init__(self, width, heads, hidden, eps):
        super().__init__()
        self.heads = heads
        self.norm1 = RMSNorm(width, eps)
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.out = nn.Linear(width, width, bias=False)
        self.norm2 = RMSNorm(width, eps)
        self.w13 = nn.Linear(width, 2 * hidden, bias=False)
        self.w2 = nn.Linear(hidden, width, bias=False)

    def project_qkv(self, x, rotary, positions):
        """Roped q, k and v of x [B, T, W], each [B, heads, T, head_dim]. The fused projection's
        row layout is [3, heads, head_dim], visurf's."""
        b, t, w = x.shape
        qkv = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, w // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        return rotary(q, positions), rotary(k, positions), v

    def finish(self, x, attended):
        """Everything after attention: output projection, residual, SwiGLU MLP, residual."""
        b, _, t, _ = attended.shape
        x = x + self.out(attended.transpose(1, 2).reshape(b, t, -1))
        gate, up = self.w13(self.norm2(x)).chunk(2, dim=-1)
        return x + self.w2(F.silu(gate) * up)

    def forward(self, x, rotary, positions, causal):
        q, k, v = self.project_qkv(x, rotary, positions)
        return self.finish(x, attend(q, k, v, causal)), k, v


class VisionLanguageModel(nn.Module):
    """visurf's VisionLanguageModel on a `patch` stem without grid embeddings (BENCH_CONFIG):
    patch embedding -> bidirectional encoder blocks with RoPE over the patch index -> RMSNorm +
    linear projector -> [image][text] through causal decoder blocks -> RMSNorm -> untied head.
    Module names follow visurf's parameter names (vision.patch_embed, blocks.0.qkv, ...)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        vis, dec = c["vision"], c["decoder"]
        self.n_img = image_tokens(c)
        patch_dim = c["patch"] * c["patch"] * 3
        eps = c["norm_eps"]
        self.vision = nn.Module()
        self.vision.patch_embed = nn.Linear(patch_dim, vis["width"], bias=False)
        self.vision.blocks = nn.ModuleList(
            Block(vis["width"], vis["heads"], vis["hidden"], eps) for _ in range(vis["layers"])
        )
        self.projector = nn.Module()
        self.projector.norm = RMSNorm(vis["width"], eps)
        self.projector.linear = nn.Linear(vis["width"], dec["width"], bias=False)
        self.embed = nn.Embedding(c["vocab"], dec["width"])
        self.blocks = nn.ModuleList(
            Block(dec["width"], dec["heads"], dec["hidden"], eps) for _ in range(dec["layers"])
        )
        self.norm = RMSNorm(dec["width"], eps)
        self.head = nn.Linear(dec["width"], c["vocab"], bias=False)
        max_seq = self.n_img + c["prompt_tokens"] + c["response_tokens"]
        self.vision_rope = Rotary(vis["width"] // vis["heads"], self.n_img, c["rope_base"])
        self.decoder_rope = Rotary(dec["width"] // dec["heads"], max_seq, c["rope_base"])
        self._init_like_visurf()

    @torch.no_grad()
    def _init_like_visurf(self):
        """vlm.ts parameterSpecs: N(0, 1/fan_in) matrices, residual outputs scaled by
        1/sqrt(2 layers), embedding N(0, 1), head N(0, 0.02^2), norm gains 1. The speed does not
        depend on it, but the losses, clip fractions and sampled tokens then look alike."""
        for part, layers in ((self.vision.blocks, self.c["vision"]["layers"]),
                             (self.blocks, self.c["decoder"]["layers"])):
            resid = 1.0 / math.sqrt(2 * layers)
            for blk in part:
                for lin in (blk.qkv, blk.w13):
                    lin.weight.normal_(0.0, 1.0 / math.sqrt(lin.in_features))
                for lin in (blk.out, blk.w2):
                    lin.weight.normal_(0.0, resid / math.sqrt(lin.in_features))
        for lin in (self.vision.patch_embed, self.projector.linear):
            lin.weight.normal_(0.0, 1.0 / math.sqrt(lin.in_features))
        self.embed.weight.normal_(0.0, 1.0)
        self.head.weight.normal_(0.0, 0.02)

    def encode_images(self, pixels):
        """pixels [N, patches, patch*patch*3] -> image features [N, patches, decoder width]."""
        positions = torch.arange(self.n_img)
        x = self.vision.patch_embed(pixels)
        for blk in self.vision.blocks:
            x, _, _ = blk(x, self.vision_rope, positions, causal=False)
        return self.projector.linear(self.projector.norm(x))

    def decode(self, features, tokens, kv_cache=None):
        """Hidden states of [image][text]: [B, n_img + L, W]. features [B, n_img, W] (one image
        per sequence); tokens [B, L]. kv_cache, if given, receives every layer's k and v."""
        # The residual stream stays f32 under autocast (the linear outputs are bf16).
        x = torch.cat((features.float(), self.embed(tokens)), dim=1)
        positions = torch.arange(x.shape[1])
        for layer, blk in enumerate(self.blocks):
            x, k, v = blk(x, self.decoder_rope, positions, causal=True)
            if kv_cache is not None:
                kv_cache.store(layer, 0, k, v)
        return x

    def logits(self, hidden):
        return self.head(self.norm(hidden))

    def text_logits(self, pixels, tokens):
        """Logits predicting each text token: position n_img - 1 + i predicts tokens[:, i]
        (vlm.ts textLogits: the head runs over the text span only)."""
        hidden = self.decode(self.encode_images(pixels), tokens)
        return self.logits(hidden[:, self.n_img - 1 : self.n_img - 1 + tokens.shape[1]])


def patchify(images, patch):
    """uint8 images [N, S, S, 3] -> [N, (S/p)^2, p*p*3] in [-1, 1], raster order of patches,
    each patch flattened row by row with RGB innermost (vlm.ts patchify)."""
    n, s, _, ch = images.shape
    g = s // patch
    x = images.float() / 255.0 * 2.0 - 1.0
    x = x.view(n, g, patch, g, patch, ch).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(n, g * g, patch * patch * ch).contiguous()


def parameter_shapes(model):
    """{visurf parameter name: shape}: nn.Module names without the '.weight' suffix."""
    return {name.removesuffix(".weight"): list(p.shape) for name, p in model.named_parameters()}


# ----------------------------------------------------------------------------------- the work


def autocast(dtype):
    """bf16 = autocast around the forward pass (matmuls in bf16, f32 master weights)."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16")


def random_tokens(shape, gen):
    """Byte tokens 32..121, as model-bench.ts draws them (32 + below(90))."""
    return torch.randint(32, 122, shape, generator=gen)


def random_prompts(n, length, gen):
    return torch.cat((torch.full((n, 1), BOS), random_tokens((n, length - 1), gen)), dim=1)


def random_images(n, size, gen):
    return torch.randint(0, 256, (n, size, size, 3), generator=gen, dtype=torch.uint8)


def clipped_surrogate(logp, old_logp, advantages, clip=0.2):
    """PPO clipped surrogate, aggregated seq-mean-token-mean (policy-loss.ts defaults):
    l_t = max(-A rho_t, -A clip(rho_t, 1 - clip, 1 + clip)), rho_t = exp(logp_t - old_t) with
    the log-ratio clamped to +-20. Every response has the same length, so the aggregation is
    the plain mean."""
    ratio = torch.exp((logp - old_logp).clamp(-20.0, 20.0))
    a = advantages[:, None]
    loss = torch.maximum(-a * ratio, -a * ratio.clamp(1.0 - clip, 1.0 + clip))
    return loss.mean(dim=-1).mean()


def make_optimizer(model):
    """AdamW lr 1e-5 with weight decay 0.01 on matrices only (visurf's default: vectors, i.e. the
    norm gains, get none); betas and eps at their defaults in both."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-5,
    )


def loaded_blas():
    """The BLAS library this process mapped. Debian's torch has no BLAS of its own (its build says
    BLAS_INFO=generic): f32 matmuls go through libblas.so.3, which is netlib's unoptimised
    reference BLAS (single-threaded, a few GFLOP/s) unless OpenBLAS, BLIS or MKL provide it —
    `apt-get install python3-torch` brings libopenblas0 as a Recommends, a no-recommends install
    does not. bf16 matmuls go through oneDNN either way."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if line.split()[-1].startswith("/")}
    return sorted(p for p in paths if "blas" in os.path.basename(p).lower() and ".so" in p)


def is_reference_blas(libs):
    # netlib's libblas3 lives in .../blas/; the alternatives (openblas-pthread/, blis-openmp/...)
    # each have a directory of their own
    return any("/blas/libblas.so" in lib for lib in libs)


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux; MiB with one decimal like visurf's peakRssMb().
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_train_step(dtype, steps, work):
    c = BENCH_CONFIG
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    model = VisionLanguageModel(c)
    opt = make_optimizer(model)
    params = list(model.parameters())
    prompts, group = work["prompts"], work["group"]
    b = prompts * group
    p_len, r_len = c["prompt_tokens"], c["response_tokens"]
    # Every sequence encodes its own copy of its prompt's image (visurf does too: no sharing).
    images = random_images(prompts, c["image_size"], gen).repeat_interleave(group, dim=0)
    pixels = patchify(images, c["patch"])
    prompt_tokens = random_prompts(prompts, p_len, gen).repeat_interleave(group, dim=0)
    responses = random_tokens((b, r_len), gen)
    tokens = torch.cat((prompt_tokens, responses), dim=1)
    advantages = torch.randn(b, generator=gen)

    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        with autocast(dtype):
            logits = model.text_logits(pixels, tokens)  # [B, P + R, vocab]
        # Log-softmax over every text position (visurf's tokenLogprobs does the same work),
        # then the response tokens' log-probs.
        logp_all = torch.log_softmax(logits.float(), dim=-1)
        logp = logp_all[:, p_len:].gather(-1, responses[..., None]).squeeze(-1)  # [B, R]
        old_logp = logp.detach() + 0.01 * torch.randn(logp.shape, generator=gen)
        loss = clipped_surrogate(logp, old_logp, advantages)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        s = time.perf_counter() - t0
        if i > 0:  # the first step is the warm-up
            times.append(s)
    step = statistics.median(times)
    return {
        "name": "train_step",
        "dtype": dtype,
        "tokens_per_s": round(b * (image_tokens(c) + p_len + r_len) / step),
        "step_seconds": [round(t, 3) for t in times],
        "params": sum(p.numel() for p in model.parameters()),
        "peak_rss_mb": peak_rss_mb(),
    }


class KvCache:
    """Per-layer keys and values [B, heads, capacity, head_dim], allocated once per generation
    in the dtype the projections produce (bf16 under autocast), then written in place."""

    def __init__(self, layers, capacity):
        self.capacity = capacity
        self.k = [None] * layers
        self.v = [None] * layers

    def store(self, layer, start, k, v):
        if self.k[layer] is None:
            b, h, _, d = k.shape
            self.k[layer] = k.new_empty((b, h, self.capacity, d))
            self.v[layer] = v.new_empty((b, h, self.capacity, d))
        end = start + k.shape[2]
        self.k[layer][:, :, start:end] = k
        self.v[layer][:, :, start:end] = v
        return self.k[layer][:, :, :end], self.v[layer][:, :, :end]


def sample(logits, temperature, gen):
    """One token per row from softmax(logits / temperature), and its log-prob (generate.ts
    returns both)."""
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    token = torch.multinomial(logp.exp(), 1, generator=gen)  # [B, 1]
    return token, logp.gather(-1, token)


@torch.inference_mode()
def generate(model, pixels, prompts, new_tokens, temperature, gen, dtype):
    """Prefill [image][prompt] for every sequence, then one decoder step per new token against
    the KV cache. All prompts have the same length here, so every sequence writes its next
    token at the same position (visurf's general code handles ragged prompts; with equal
    lengths the work is the same)."""
    b, p_len = prompts.shape
    cache = KvCache(len(model.blocks), model.n_img + p_len + new_tokens)
    with autocast(dtype):
        hidden = model.decode(model.encode_images(pixels), prompts, cache)
        logits = model.logits(hidden[:, -1])  # the last prompt token predicts the first reply
    pos = model.n_img + p_len  # where the next token goes
    out, logprobs = [], []
    for step in range(new_tokens):
        token, lp = sample(logits, temperature, gen)
        out.append(token)
        logprobs.append(lp)
        if step == new_tokens - 1:
            break  # the last sampled token needs no decoder step
        positions = torch.tensor([pos])
        with autocast(dtype):
            x = model.embed(token)  # [B, 1, W]
            for layer, blk in enumerate(model.blocks):
                q, k, v = blk.project_qkv(x, model.decoder_rope, positions)
                keys, values = cache.store(layer, pos, k, v)
                x = blk.finish(x, attend(q, keys, values, causal=False))
            logits = model.logits(x[:, 0])
        pos += 1
    return torch.cat(out, dim=1), torch.cat(logprobs, dim=1)


def bench_rollout(dtype, work):
    c = BENCH_CONFIG
    gen = torch.Generator().manual_seed(2)
    torch.manual_seed(0)
    model = VisionLanguageModel(c)
    model.eval()
    b, new_tokens = work["rollout_batch"], work["new_tokens"]
    pixels = patchify(random_images(b, c["image_size"], gen), c["patch"])
    prompts = random_prompts(b, c["prompt_tokens"], gen)

    def run():
        generate(model, pixels, prompts, new_tokens, 1.0, torch.Generator().manual_seed(3), dtype)

    run()  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    return {
        "name": "rollout",
        "dtype": dtype,
        "new_tokens_per_s": round(b * new_tokens / s),
        "seconds": round(s, 3),
        "run_seconds": [round(t, 3) for t in times],
        "params": sum(p.numel() for p in model.parameters()),
        "peak_rss_mb": peak_rss_mb(),
    }


# ------------------------------------------------------------------------------------- the CLI


def parse_list(raw, allowed, what):
    items = [s.strip() for s in raw.split(",") if s.strip()]
    for i in items:
        if i not in allowed:
            sys.exit(f"torch_bench: unknown {what} {i!r} (choose from {', '.join(allowed)})")
    return items


def run_child(args, name, dtype):
    """This process measures one (benchmark, dtype) and prints its JSON line."""
    torch.set_num_threads(args.threads)
    work = SMALL_WORK if args.small else FULL_WORK
    steps = args.steps if args.steps is not None else (1 if args.small else 3)
    if name == "train_step":
        row = bench_train_step(dtype, steps, work)
    else:
        row = bench_rollout(dtype, work)
    row.update(threads=args.threads, framework=f"torch {torch.__version__}",
               blas=" ".join(loaded_blas()))
    if args.small:
        row["small"] = True
    print(json.dumps(row), flush=True)


def main():
    ap = argparse.ArgumentParser(
        description="PyTorch reference of `visurf bench` (train_step, rollout) on BENCH.md's model"
    )
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--only", default=",".join(ALL_BENCHMARKS),
                    help="comma-separated subset of: train_step, rollout")
    ap.add_argument("--dtype", default=",".join(ALL_DTYPES),
                    help="comma-separated subset of: f32, bf16 (bf16 = autocast)")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--steps", type=int, default=None,
                    help="timed train steps after the warm-up (default 3; 1 with --small)")
    ap.add_argument("--small", action="store_true",
                    help="smoke test: 2 prompts x 2 sequences, 2 rollouts of 8 new tokens")
    ap.add_argument("--params", action="store_true",
                    help="print the parameter count and shapes as JSON and exit")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads < 1:
        sys.exit("torch_bench: --threads must be a positive integer")
    if args.steps is not None and args.steps < 1:
        sys.exit("torch_bench: --steps must be a positive integer")

    if args.params:
        model = VisionLanguageModel(BENCH_CONFIG)
        shapes = parameter_shapes(model)
        total = sum(math.prod(s) for s in shapes.values())
        print(json.dumps({"params": total, "shapes": shapes, "blas": loaded_blas(),
                          "reference_blas": is_reference_blas(loaded_blas())}))
        return

    names = parse_list(args.only, ALL_BENCHMARKS, "benchmark")
    dtypes = parse_list(args.dtype, ALL_DTYPES, "dtype")
    if args.child:
        for name in names:
            for dtype in dtypes:
                run_child(args, name, dtype)
        return

    if is_reference_blas(loaded_blas()):
        print("torch_bench: warning: f32 matmuls run on netlib's reference BLAS "
              f"({' '.join(loaded_blas())}); install libopenblas0 (what apt-get install "
              "python3-torch recommends) for PyTorch's usual f32 speed", file=sys.stderr)
    rows = []
    for name in names:
        for dtype in dtypes:
            if not args.json:
                print(f"torch_bench: {name} {dtype} ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "--only", name,
                   "--dtype", dtype, "--threads", str(args.threads)]
            if args.steps is not None:
                cmd += ["--steps", str(args.steps)]
            if args.small:
                cmd.append("--small")
            # torch.set_num_threads sets the OpenMP pool; an OpenBLAS behind libblas.so.3 has a
            # pool of its own that only reads its environment variable.
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
                       OPENBLAS_NUM_THREADS=str(args.threads))
            child = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
            if child.returncode != 0:
                sys.exit(f"torch_bench: {name} {dtype} failed (exit {child.returncode})")
            for line in filter(None, child.stdout.splitlines()):
                rows.append(json.loads(line))
                if args.json:
                    print(line, flush=True)
    if not args.json:
        print(f"torch {torch.__version__}, threads: {args.threads}"
              f"{', SMALL (smoke test)' if args.small else ''}")
        header = ("benchmark", "dtype", "figure", "unit", "peak RSS MB")
        table = [header] + [
            (r["name"], r["dtype"], str(r.get("tokens_per_s", r.get("new_tokens_per_s"))),
             "tokens/s" if "tokens_per_s" in r else "new tokens/s", str(r["peak_rss_mb"]))
            for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
