/* model.h -- the transformer engine: a model (weights + hyperparameters, read
 * only, shareable between sessions) and a session (KV cache, scratch, thread
 * pool; one per conversation or request).
 *
 * Model: model_load() opens a GGUF, reads the architecture's hyperparameters
 * (`<arch>.*` keys, llama.cpp's defaults for absent ones) and binds every
 * tensor as a zero-copy view into the file's mmap.  An unsupported
 * architecture, a missing tensor, a wrong shape or a tensor type the CPU
 * kernels cannot run is an error naming it.  Architectures: llama (Llama 2/3,
 * TinyLlama, Mistral, SmolLM2), qwen2, qwen3, gemma2, gemma3, phi3.
 * The model owns its struct gguf; everything it returns is borrowed until
 * model_free().  A model is read-only after loading: sessions on several
 * threads may share it.
 *
 * Session: session_eval() appends tokens at position n_past, processing them
 * in batches of n_batch (one matmul per weight per batch, causal attention
 * over the KV cache), and leaves the logits of the last token in
 * session_logits().  No allocation happens per token: every buffer is sized
 * at session_create().  Results do not depend on the thread count and, up to
 * float rounding, not on the batch size.
 *
 * Cancellation: session_set_cancel() gives a flag (e.g. &mu_interrupted)
 * checked between layers; when it becomes non-zero, session_eval() stops and
 * returns MU_ECANCELED.  The tokens of the interrupted batch are then not in
 * the cache (n_past is what it was before that batch). */
#ifndef MULLAMA_MODEL_H
#define MULLAMA_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/mullama.h"

struct gguf;
struct model;
struct session;

/* ---- model -------------------------------------------------------------- */

struct model_params {
        int n_gpu_layers;  /* blocks to offload to a Vulkan device: the last n;
                            * >= n_layer or < 0: all of them and the output
                            * layer; 0: CPU only (no Vulkan instance) */
        int use_mmap;      /* 1 (default): weights stay in the file's mmap */
};

struct model_params model_default_params(void);

/* Load path; on failure *out is NULL and err says why. */
int model_load(struct model **out, const char *path, const struct model_params *p,
               struct mu_err *err);
void model_free(struct model *m);  /* NULL is a no-op */

/* Hyperparameters as the engine uses them (defaults filled in). */
struct model_hparams {
        int n_vocab;
        int n_ctx_train;
        int n_embd;
        int n_layer;
        int n_head;
        int n_head_kv;
        int n_ff;
        int head_dim_k;        /* key_length */
        int head_dim_v;        /* value_length */
        int n_rot;             /* rope dimension count */
        int rope_neox;         /* 1: NeoX pairs (i, i + n_rot/2); 0: (2i, 2i+1) */
        float rope_freq_base;
        float rope_freq_base_swa;  /* local layers (gemma) */
        float rope_freq_scale;     /* 1 / rope.scaling.factor for linear scaling */
        float rope_attn_factor;    /* multiplies sin/cos (longrope); 1 */
        float norm_eps;
        float attn_scale;          /* applied to q.k */
        float attn_softcap;        /* 0: none */
        float final_softcap;       /* 0: none */
        float embd_scale;          /* applied to the token embedding; 1 or sqrt(n_embd) */
        int n_swa;                 /* sliding window (0: none) */
};

const struct model_hparams *model_hparams(const struct model *m);
const struct gguf *model_gguf(const struct model *m);
const char *model_arch_name(const struct model *m);  /* "llama", "gemma3", ... */
int model_n_vocab(const struct model *m);
int model_n_ctx_train(const struct model *m);
int model_n_layer(const struct model *m);
int model_n_embd(const struct model *m);
/* Is layer il a sliding-window layer? */
int model_layer_is_swa(const struct model *m, int il);
uint64_t model_size_bytes(const struct model *m);  /* bytes of tensor data */
uint64_t model_n_params(const struct model *m);    /* elements over all tensors */
/* Offload actually done (what fit): blocks, the output layer (0/1), device
 * memory allocated (weights, and KV/scratch of live sessions), device name
 * (NULL when nothing is offloaded). */
int model_gpu_layers(const struct model *m);
int model_gpu_output(const struct model *m);
uint64_t model_gpu_mem(const struct model *m);
const char *model_gpu_name(const struct model *m);

/* Bytes a session would use: weights + KV cache (n_ctx positions in kv_type)
 * + scratch for n_batch tokens.  For callers to print before loading. */
size_t model_estimate_memory(const struct model *m, int n_ctx, int kv_type, int n_batch);
/* The same, itemised (n_ctx and n_batch as a session would resolve them). */
struct model_memory {
        int n_ctx;
        size_t weights, kv_cache, scratch, total;
};
void model_memory_estimate(const struct model *m, int n_ctx, int kv_type, int n_batch,
                           struct model_memory *out);

/* ---- session ------------------------------------------------------------ */

struct session_params {
        int n_ctx;      /* 0: min(n_ctx_train, 4096) */
        int n_threads;  /* <= 0: physical cores */
        int n_batch;    /* tokens per forward pass in prompt eval (default 512) */
        int kv_type;    /* MU_TYPE_F16 (default), MU_TYPE_Q8_0 or MU_TYPE_F32 */
};

struct session_params session_default_params(void);

/* The session borrows m until session_free(). */
int session_create(struct session **out, struct model *m, const struct session_params *p,
                   struct mu_err *err);
void session_free(struct session *s);  /* NULL is a no-op */

/* Append n tokens at n_past and compute the logits of the last one.
 * MU_ERANGE when n_past + n would exceed n_ctx (nothing is evaluated),
 * MU_EINVAL for a token id outside the vocabulary, MU_ECANCELED (see above). */
int session_eval(struct session *s, const int32_t *tokens, int n, struct mu_err *err);

/* Like session_eval(), and also score the text: lp[i] = log p(tokens[i + 1] |
 * everything before it) for i < n - 1 (natural log, float64 softmax over the
 * full vocabulary).  Costs one output projection per token.  The logits of
 * the last token are left in session_logits().  For perplexity. */
int session_loglik(struct session *s, const int32_t *tokens, int n, double *lp,
                   struct mu_err *err);

/* Logits (n_vocab floats) after the last session_eval(); borrowed. */
const float *session_logits(const struct session *s);
int session_n_past(const struct session *s);
int session_n_ctx(const struct session *s);
const struct model *session_model(const struct session *s);

/* Forget positions >= n_past (clamped to [0, n_past]). */
void session_truncate(struct session *s, int n_past);
/* Context shift: drop n_discard positions after the first n_keep and move the
 * rest down, re-rotating the cached keys so generation can continue.
 * MU_EINVAL when the range is outside [0, n_past). */
int session_shift(struct session *s, int n_keep, int n_discard);

/* A flag checked between layers; NULL disables.  Borrowed. */
void session_set_cancel(struct session *s, volatile int *flag);

/* Embedding of tokens[0..n): final hidden states after the output norm,
 * mean-pooled and L2-normalized, into out[n_embd].  Clears the KV cache
 * first (embed.c). */
int session_embed(struct session *s, const int32_t *tokens, int n, float *out,
                  struct mu_err *err);

/* ---- decoding several sessions together (decode_group.c) ----------------
 * A decode group evaluates one token of each of several sessions of one
 * model in one forward pass, so each weight matrix is read once per step for
 * all of them (forward_multi.c; rows are split into passes of the sizes
 * that pay, see decode_group.c).  It has its own thread pool (n_threads, <= 0:
 * physical cores) and scratch for max_seqs rows.  Logits agree with
 * session_eval() one token at a time up to float rounding (the multi-row
 * matmul path), like a prompt batch against token-by-token evaluation.
 * Models with blocks on a Vulkan device are refused (MU_EUNSUPPORTED). */
struct decode_group;
int decode_group_create(struct decode_group **out, struct model *m, int max_seqs,
                        int n_threads, struct mu_err *err);
void decode_group_free(struct decode_group *g);  /* NULL is a no-op */
/* One step from one thread: toks[i] into distinct sessions ss[i] (like
 * session_eval(ss[i], &toks[i], 1)).  rcs[i] / errs[i] (either may be NULL)
 * get each session's result; returns the first failure or 0. */
int decode_group_eval_multi(struct decode_group *g, struct session *const *ss,
                            const int32_t *toks, int n, int *rcs, struct mu_err *errs);
/* From the sessions' own threads: join before the first decode_group_eval()
 * of a generation and leave after the last (always).  decode_group_eval()
 * blocks until every joined session has handed in a token, then one thread
 * runs the step for all and each returns its own result. */
void decode_group_join(struct decode_group *g);
void decode_group_leave(struct decode_group *g);
int decode_group_eval(struct decode_group *g, struct session *s, int32_t tok,
                      struct mu_err *err);
/* Steps run (decode_group_eval_multi() calls and rendezvous rounds) and
 * tokens evaluated in them so far: tokens / steps is the mean batch. */
void decode_group_stats(struct decode_group *g, uint64_t *steps, uint64_t *tokens);

#endif
