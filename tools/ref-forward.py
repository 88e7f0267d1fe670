"""ref-forward.py MODEL.gguf TOKENS -- float64 reference forward pass (numpy) over the
dequantized weights of a llama or gemma3 GGUF; prints the logits after the last of
TOKENS (comma-separated ids), one "id:logit" per line.  Independent of both engines:
used to judge which of mullama and llama.cpp is closer to the exact result.
Needs Debian's python3-numpy and gguf-py (the anchors' build/llama.cpp-src/gguf-py)."""
import sys, os, numpy as np
sys.path.insert(0, "/work/anchors/build/llama.cpp-src/gguf-py")
import gguf
from gguf.quants import dequantize
r = gguf.GGUFReader(sys.argv[1])
toks = [int(x) for x in sys.argv[2].split(",")]
arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
def kv(k, d=None):
    f = r.fields.get(arch + "." + k)
    return d if f is None else f.parts[-1][0].item()
T = {t.name: t for t in r.tensors}
def W(n):
    t = T[n]
    a = dequantize(t.data, t.tensor_type).astype(np.float64)
    return a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim == 1 and len(t.shape) > 1 else a
E = kv("embedding_length"); L = kv("block_count"); H = kv("attention.head_count"); HK = kv("attention.head_count_kv", H)
gemma = arch in ("gemma3",)
eps = kv("attention.layer_norm_rms_epsilon", 1e-6 if gemma else 1e-5); base = kv("rope.freq_base", 10000.0)
hd = kv("attention.key_length", E // H)
n_swa = kv("attention.sliding_window", 0) if gemma else 0
emb = W("token_embd.weight").reshape(-1, E)
out = W("output.weight").reshape(-1, E) if "output.weight" in T else emb
x = emb[toks] * (np.sqrt(E) if gemma else 1.0)
n = len(toks)
def rms(v, w): return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * w
pos = np.arange(n)[:, None]
def rope(q, b):  # q: [n, h, hd]; llama: pairs (2i, 2i+1); gemma (NeoX): (i, i + hd/2)
    inv = b ** (-np.arange(0, hd, 2) / hd)
    ang = pos * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    o = np.empty_like(q)
    if gemma:
        a, bb = q[..., : hd // 2], q[..., hd // 2 :]
        o[..., : hd // 2] = a * c - bb * s; o[..., hd // 2 :] = a * s + bb * c
    else:
        a, bb = q[..., 0::2], q[..., 1::2]
        o[..., 0::2] = a * c - bb * s; o[..., 1::2] = a * s + bb * c
    return o
def gelu(v): return 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))
for il in range(L):
    p = f"blk.{il}."
    swa = gemma and n_swa > 0 and il % 6 < 5
    h = rms(x, W(p + "attn_norm.weight"))
    q = (h @ W(p + "attn_q.weight").reshape(-1, E).T).reshape(n, H, hd)
    k = (h @ W(p + "attn_k.weight").reshape(-1, E).T).reshape(n, HK, hd)
    v = (h @ W(p + "attn_v.weight").reshape(-1, E).T).reshape(n, HK, hd)
    if gemma:
        q = rms(q, W(p + "attn_q_norm.weight")); k = rms(k, W(p + "attn_k_norm.weight"))
    b = 10000.0 if swa else base
    q, k = rope(q, b), rope(k, b)
    mask = np.triu(np.full((n, n), -np.inf), 1)
    if swa:
        mask = mask + np.tril(np.full((n, n), -np.inf), -n_swa)
    o = np.zeros((n, H, hd))
    for hh in range(H):
        kh = hh // (H // HK)
        s = q[:, hh, :] @ k[:, kh, :].T / np.sqrt(hd) + mask
        s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
        o[:, hh, :] = s @ v[:, kh, :]
    a = o.reshape(n, H * hd) @ W(p + "attn_output.weight").reshape(E, -1).T
    if gemma: a = rms(a, W(p + "post_attention_norm.weight"))
    x = x + a
    h = rms(x, W(p + "ffn_norm.weight"))
    g = h @ W(p + "ffn_gate.weight").reshape(-1, E).T
    u = h @ W(p + "ffn_up.weight").reshape(-1, E).T
    a = (gelu(g) if gemma else g / (1 + np.exp(-g))) * u
    a = a @ W(p + "ffn_down.weight").reshape(E, -1).T
    if gemma: a = rms(a, W(p + "post_ffw_norm.weight"))
    x = x + a
h = rms(x[-1], W("output_norm.weight"))
lg = out @ h
for i, v in enumerate(lg): print(f"{i}:{v:.6f}")
