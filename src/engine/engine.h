/* engine.h -- what the engine's files share: struct model (hparams + tensor
 * views), struct kv_cache, struct session, and the scalar ops.  Not a public
 * contract (include/mullama/model.h is). */
#ifndef MULLAMA_ENGINE_H
#define MULLAMA_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/kernels.h"
#include "mullama/model.h"
#include "mullama/types.h"

enum model_arch {
        ARCH_LLAMA,
        ARCH_QWEN2,
        ARCH_QWEN3,
        ARCH_GEMMA2,
        ARCH_GEMMA3,
        ARCH_PHI3,
};

/* A present tensor has data != NULL. */
struct layer {
        struct mu_tensor attn_norm, attn_post_norm;
        struct mu_tensor wq, wk, wv, wqkv, wo;
        struct mu_tensor bq, bk, bv, bqkv;  /* optional biases (F32) */
        struct mu_tensor q_norm, k_norm;    /* [head_dim] */
        struct mu_tensor ffn_norm, ffn_post_norm;
        struct mu_tensor ffn_gate, ffn_up, ffn_down;  /* phi3: ffn_up is gate|up */
        const float *rope_factors;          /* [n_rot/2] or NULL */
        int is_swa;
        float rope_base;
};

struct model {
        struct gguf *g;
        enum model_arch arch;
        const char *arch_name;
        struct model_hparams hp;
        struct mu_tensor tok_embd, output_norm, output;
        struct layer *layers;
        uint64_t size_bytes, n_params;
        int fused_qkv, fused_up;
        struct vk_model *vk;  /* vk_forward.c; NULL: everything on the CPU */
        int gpu_first;        /* first block on the device (n_layer: none) */
};

/* ---- kv_cache.c ---------------------------------------------------------- */

/* Per layer, K and V rows of n_head_kv * head_dim elements in type, one row
 * per position [0, n_ctx). */
struct kv_cache {
        int type;
        int n_ctx, n_layer;
        size_t k_row, v_row;  /* bytes per row */
        int k_dim, v_dim;     /* elements per row */
        uint8_t **k, **v;     /* [n_layer] -> n_ctx rows */
};

int kv_cache_init(struct kv_cache *c, const struct model *m, int n_ctx, int type,
                  struct mu_err *err);
void kv_cache_release(struct kv_cache *c);
size_t kv_cache_bytes(const struct model *m, int n_ctx, int type);
/* Store rows for n positions starting at pos (x is [n][dim] floats). */
void kv_cache_store(struct kv_cache *c, int il, int pos, int n, const float *k,
                    const float *v);
static inline const void *kv_cache_k(const struct kv_cache *c, int il, int pos)
{
        return c->k[il] + (size_t)pos * c->k_row;
}
static inline const void *kv_cache_v(const struct kv_cache *c, int il, int pos)
{
        return c->v[il] + (size_t)pos * c->v_row;
}
/* Move rows [src, src + n) to dst in every layer (dst < src). */
void kv_cache_move(struct kv_cache *c, int dst, int src, int n);

/* ---- ops.c --------------------------------------------------------------- */

/* y = x / rms(x) * w (w may be NULL: no weight), n elements. */
void op_rmsnorm(float *y, const float *x, const float *w, int n, float eps);
/* RoPE on one head vector x[head_dim] at position pos: rotates the first
 * n_rot elements.  factors: per-pair frequency divisors or NULL. */
struct rope_params {
        int n_rot;
        int neox;
        float base;
        float freq_scale;
        float attn_factor;
        const float *factors;
};
/* cs[n_rot] = (cos, sin) pairs for position pos; then apply to each head. */
void op_rope_cache(float *cs, float pos, const struct rope_params *rp);
void op_rope_apply(float *x, const float *cs, int n_rot, int neox);
void op_silu_mul(float *y, const float *g, const float *u, int n);
void op_silu_mul_ref(float *y, const float *g, const float *u, int n);
void op_gelu_mul(float *y, const float *g, const float *u, int n);
void op_gelu_mul_ref(float *y, const float *g, const float *u, int n); /* the scalar reference */
float op_gelu(float x);
void op_add(float *y, const float *x, int n);
void op_softcap(float *x, int n, float cap);

/* ---- forward.c ----------------------------------------------------------- */

struct session {
        struct model *m;
        struct session_params p;
        struct mu_pool *pool;
        struct matmul_ws *ws;
        struct kv_cache kv;
        int n_past;
        volatile int *cancel;
        const struct cpu_kernels *k;
        /* scratch, sized for n_batch tokens, carved from one block */
        float *scratch;
        float *x, *xn, *q, *kx, *vx, *qkv, *att, *tmp, *gate, *up, *logits;
        int qkv_dim;
        /* attention: per thread */
        float *att_acc;      /* [nth][head_dim_v] */
        float *att_vrow;     /* [nth][head_dim_v] */
        float *att_qf;       /* [nth][head_dim_k] */
        float *rope_cs;      /* [n_rot] */
        void *att_q;         /* [nth][q row in the K vec_dot type] */
        size_t att_q_stride;
        struct vk_session *vks;  /* device K/V and buffers when m->vk */
};

/* First block this session runs on the device (n_layer: none). */
static inline int session_first_gpu(const struct session *s)
{
        return s->vks ? s->m->gpu_first : s->m->hp.n_layer;
}

/* Evaluate n <= n_batch tokens at n_past (n_past is not advanced);
 * want_logits: compute the logits of the last one. */
int forward_batch(struct session *s, const int32_t *tokens, int n, int want_logits,
                  struct mu_err *err);
/* After forward_batch(): the logits of row t of that batch into s->logits. */
void forward_logits_row(struct session *s, int t);

/* Attention of one query head h at position pos of layer il over the
 * session's KV cache (sliding window, soft-cap; over an F16 cache with
 * llama.cpp's f16 roundings, attn_f16.c): q is the head's query, out its
 * hdv outputs.  The one rule for a single query, so a token decoded alone
 * (forward.c) and in a decode group (forward_multi.c) gets the same bits.
 * sc: per-thread scratch of hdv, hdv, hdk floats and a quantized-q row. */
struct attn_scratch {
        float *acc, *vrow, *qf;
        void *qx;
};
/* attn_head's two choices, which the Vulkan attention (vk_forward.c)
 * follows: llama.cpp's f16 path for an F16 cache and these head sizes, and
 * q scaled in f32 before it for the archs whose llama.cpp graph does that
 * (ggml_scale; the others scale inside attention). */
static inline int attn_f16_path(int kv_type, int hdk, int hdv)
{
        return kv_type == MU_TYPE_F16 && hdk % 64 == 0 && hdv % 16 == 0;
}
static inline int attn_q_scaled(enum model_arch ar)
{
        return ar == ARCH_GEMMA2 || ar == ARCH_GEMMA3 || ar == ARCH_PHI3;
}
void attn_head(const struct session *s, int il, int h, int pos, const float *q, float *out,
               struct attn_scratch *sc);

/* ---- vk_forward.c: blocks [gpu_first, n_layer) on a Vulkan device ------- */

struct vk_model;
struct vk_session;
/* n_gpu: blocks to offload (< 0: all + the output layer).  No device, or a
 * model the kernels cannot run: one info line, m->vk stays NULL, returns 0. */
int vk_model_init(struct model *m, int n_gpu, struct mu_err *err);
void vk_model_free(struct model *m);
int vk_session_init(struct session *s, struct mu_err *err);
void vk_session_free(struct session *s);
/* Run the offloaded blocks on s->x (n tokens at p0); *did_logits: the
 * device also computed s->logits. */
int vk_forward(struct session *s, int n, int p0, int want_logits, int *did_logits,
               struct mu_err *err);
int vk_session_shift(struct session *s, int n_keep, int n_discard, int n_past,
                     struct mu_err *err);

#endif
