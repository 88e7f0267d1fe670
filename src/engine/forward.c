/* forward.c -- one forward pass over a batch of n tokens at positions
 * [n_past, n_past + n): embeddings, then per layer
 *   pre-norm -> Q/K/V projections (+ biases, + per-head QK-norm) -> RoPE ->
 *   store K/V in the cache -> causal attention over the cache (online
 *   softmax, sliding window on local layers) -> output projection
 *   (-> post-norm) -> residual -> pre-norm -> gated FFN (SiLU or GELU)
 *   (-> post-norm) -> residual,
 * then the final norm and the output projection for the last token only.
 * Every weight is used by one matmul() per batch.  Attention is split over
 * (token, head) pairs on the pool, taken from a shared counter (over an F16
 * cache with llama.cpp's f16 roundings, attn_f16.c; batches of 64 tokens and
 * more go to attn_batch.c, f32 like llama.cpp's tiled path); each pair is
 * computed by one thread in a fixed order, so results do not depend on the
 * thread count, and in batches under 64 tokens a token's result does not
 * depend on the batch it came in (keys and values are read back from the
 * cache in both cases). */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/attn_batch.h"
#include "engine/attn_f16.h"
#include "engine/engine.h"
#include "mullama/pool.h"

static void mm(struct session *s, const struct mu_tensor *w, const float *x, int n, float *y)
{
        matmul(s->pool, s->ws, w, x, n, y);
}

static void add_bias(float *y, const struct mu_tensor *b, int n_tok, int dim)
{
        if (!b->data)
                return;
        for (int t = 0; t < n_tok; t++)
                op_add(y + (size_t)t * dim, b->data, dim);
}

/* ---- per-token element-wise steps, split over the pool for batches ------
 *
 * Norms, RoPE, the gated activation and the residual add of a prompt batch
 * are split by tokens over the threads (a token's values do not depend on
 * the split), so the second thread does not idle through them. */

enum { ROWS_NORM, ROWS_ADD, ROWS_SILU, ROWS_GELU, ROWS_ROPE };

struct rows_job {
        struct session *s;
        int op, n, dim;
        float *y;
        const float *x, *w;
        float eps;
        int p0;
        const struct rope_params *rp;
};

static void rows_range(struct rows_job *j, int t0, int t1)
{
        const size_t d = (size_t)j->dim;

        switch (j->op) {
        case ROWS_NORM:
                for (int t = t0; t < t1; t++)
                        op_rmsnorm(j->y + t * d, j->x + t * d, j->w, j->dim, j->eps);
                break;
        case ROWS_ADD:
                op_add(j->y + t0 * d, j->x + t0 * d, (int)((size_t)(t1 - t0) * d));
                break;
        case ROWS_SILU: /* y = silu(x) * y, per row: a row's last partial group of 16 is done apart */
                for (int t = t0; t < t1; t++)
                        op_silu_mul(j->y + t * d, j->x + t * d, j->y + t * d, j->dim);
                break;
        case ROWS_GELU:
                op_gelu_mul(j->y + t0 * d, j->x + t0 * d, j->y + t0 * d, (int)((size_t)(t1 - t0) * d));
                break;
        case ROWS_ROPE: {
                const struct model_hparams *hp = &j->s->m->hp;
                const int hdk = hp->head_dim_k, qd = hp->n_head * hdk, kd = hp->n_head_kv * hdk;
                float cs[1024];
                for (int t = t0; t < t1; t++) {
                        op_rope_cache(cs, (float)(j->p0 + t), j->rp);
                        for (int h = 0; h < hp->n_head; h++)
                                op_rope_apply(j->s->q + (size_t)t * qd + (size_t)h * hdk, cs, hp->n_rot,
                                              hp->rope_neox);
                        for (int h = 0; h < hp->n_head_kv; h++)
                                op_rope_apply(j->s->kx + (size_t)t * kd + (size_t)h * hdk, cs, hp->n_rot,
                                              hp->rope_neox);
                }
                break;
        }
        default:
                break;
        }
}

static void rows_task(void *arg, int ith, int nth)
{
        struct rows_job *j = arg;

        rows_range(j, (int)((int64_t)j->n * ith / nth), (int)((int64_t)j->n * (ith + 1) / nth));
}

static void rows_run(struct rows_job *j)
{
        if (j->n >= 8 && mu_pool_size(j->s->pool) > 1)
                mu_pool_run(j->s->pool, rows_task, j);
        else
                rows_range(j, 0, j->n);
}

static void norm_rows(struct session *s, float *y, const float *x, const struct mu_tensor *w, int n_tok,
                        int dim, float eps)
{
        struct rows_job j = {.s = s, .op = ROWS_NORM, .n = n_tok, .dim = dim, .y = y, .x = x, .w = w->data,
                             .eps = eps};
        rows_run(&j);
}

static void rows_op(struct session *s, int op, float *y, const float *x, int n_tok, int dim)
{
        struct rows_job j = {.s = s, .op = op, .n = n_tok, .dim = dim, .y = y, .x = x};
        rows_run(&j);
}


/* ---- attention ----------------------------------------------------------- */

struct att_job {
        struct session *s;
        int il, n_tok, p0;
        int per;           /* query heads per task (att_task) */
        int tg;            /* tokens per task (att_task_rows) */
        _Atomic int next;  /* next task */
};

/* The first position a query at pos sees in layer il: 0, or the start of
 * its sliding window */
static int attn_lo(const struct session *s, int il, int pos)
{
        const int swa = s->m->layers[il].is_swa ? s->m->hp.n_swa : 0;

        return swa > 0 && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
}

/* KV head kvh of layer il's F16 cache as attn_f16.c reads it; the KQ scale
 * is 1 where the architecture scales q before attention (attn_q_scaled:
 * the caller passes the scale as qmul) */
static struct attn_f16_row f16_row(const struct session *s, int il, int kvh)
{
        const struct model_hparams *hp = &s->m->hp;
        const struct kv_cache *kv = &s->kv;
        struct attn_f16_row r = {
                (const char *)kv_cache_k(kv, il, 0) + (size_t)kvh * hp->head_dim_k * 2,
                (const char *)kv_cache_v(kv, il, 0) + (size_t)kvh * hp->head_dim_v * 2,
                kv->k_row, kv->v_row, hp->head_dim_k, hp->head_dim_v,
                attn_q_scaled(s->m->arch) ? 1.0f : hp->attn_scale, hp->attn_softcap};

        return r;
}

/* attn_head's F16-cache path (llama.cpp's roundings, attn_f16.c) for the
 * query heads h .. h + nh - 1, all of one KV head */
static void attn_heads_f16(const struct session *s, int il, int h, int nh, int pos, const float *q,
                           float *out, struct attn_scratch *sc)
{
        const struct model_hparams *hp = &s->m->hp;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v;
        /* q scaled before attention or inside it: the f16 rounding of q
         * differs; llama.cpp scales q in f32 first for these */
        const float qmul = attn_q_scaled(s->m->arch) ? hp->attn_scale : 1.0f;
        struct attn_f16_row r = f16_row(s, il, h / (hp->n_head / hp->n_head_kv));

        attn_f16_heads(&r, q, (size_t)hdk, qmul, nh, attn_lo(s, il, pos), pos, sc->qx,
                       (uint16_t *)sc->acc, sc->qf, out, (size_t)hdv, attn_f16_isa(s->k->name));
}

void attn_head(const struct session *s, int il, int h, int pos, const float *q, float *out,
               struct attn_scratch *sc)
{
        const struct model_hparams *hp = &s->m->hp;
        const struct kv_cache *kv = &s->kv;
        const struct quant_fns *kf = &s->k->q[kv->type];
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v;
        const int kvh = h / (hp->n_head / hp->n_head_kv);
        const int lo = attn_lo(s, il, pos);
        const float scale = hp->attn_scale, cap = hp->attn_softcap;
        float *acc = sc->acc, *vrow = sc->vrow, *qf = sc->qf;
        void *qx = sc->qx;
        const void *qdot = qf;

        if (attn_f16_path(kv->type, hdk, hdv)) {
                attn_heads_f16(s, il, h, 1, pos, q, out, sc);
                return;
        }
        size_t koff = mu_row_size(kv->type, (int64_t)kvh * hdk);
        size_t voff = mu_row_size(kv->type, (int64_t)kvh * hdv);
        float m = -INFINITY, l = 0;

        for (int i = 0; i < hdk; i++)
                qf[i] = q[i] * scale;
        if (kf->vec_dot_type != MU_TYPE_F32) {
                s->k->q[kf->vec_dot_type].from_float(qf, qx, hdk);
                qdot = qx;
        }
        for (int i = 0; i < hdv; i++)
                acc[i] = 0;
        for (int p = lo; p <= pos; p++) {
                float sv;

                kf->vec_dot(hdk, &sv, (const char *)kv_cache_k(kv, il, p) + koff, qdot);
                if (cap > 0)
                        sv = tanhf(sv / cap) * cap;
                if (sv > m) {
                        float r = expf(m - sv);
                        for (int i = 0; i < hdv; i++)
                                acc[i] *= r;
                        l *= r;
                        m = sv;
                }
                float w = expf(sv - m);
                l += w;
                kf->to_float((const char *)kv_cache_v(kv, il, p) + voff, vrow, hdv);
                for (int i = 0; i < hdv; i++)
                        acc[i] += w * vrow[i];
        }
        float inv = 1.0f / l;
        for (int i = 0; i < hdv; i++)
                out[i] = acc[i] * inv;
}

/* Heads h0 .. h0 + nh - 1 at position pos, all of one KV head: over an F16
 * cache in one call (the AVX-512 variant goes through K and V once for
 * them; each head's bits are attn_head's), else one by one. */
static void attn_heads(const struct session *s, int il, int h0, int nh, int pos, const float *q,
                       float *out, struct attn_scratch *sc)
{
        const struct model_hparams *hp = &s->m->hp;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v;

        if (attn_f16_path(s->kv.type, hdk, hdv)) {
                attn_heads_f16(s, il, h0, nh, pos, q, out, sc);
                return;
        }
        for (int i = 0; i < nh; i++)
                attn_head(s, il, h0 + i, pos, q + (size_t)i * hdk, out + (size_t)i * hdv, sc);
}

/* tasks: (token, KV head, chunk of its query heads); chunks of att_job.per
 * heads, fewer than the group when the groups alone would leave threads idle */
static void att_task(void *arg, int ith, int nth)
{
        struct att_job *j = arg;
        struct session *s = j->s;
        const struct model_hparams *hp = &s->m->hp;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v, nh = hp->n_head, nkv = hp->n_head_kv;
        const int grp = nh / nkv, per = j->per, nch = (grp + per - 1) / per;
        struct attn_scratch sc = {s->att_acc + (size_t)ith * hdv, s->att_vrow + (size_t)ith * hdv,
                                  s->att_qf + (size_t)ith * hdk,
                                  (char *)s->att_q + (size_t)ith * s->att_q_stride};

        (void)nth;
        for (int task; (task = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->n_tok * nkv * nch;) {
                int t = task / (nkv * nch), c = task % (nkv * nch);
                int h = c / nch * grp + c % nch * per, n = grp - c % nch * per < per ? grp - c % nch * per : per;
                attn_heads(s, j->il, h, n, j->p0 + t, s->q + (size_t)t * nh * hdk + (size_t)h * hdk,
                           s->att + (size_t)t * nh * hdv + (size_t)h * hdv, &sc);
        }
}

/* Rows of one pass of attn_f16_rows (its AVX-512 variant takes 32 at a time) */
#define ATT_ROWS 32

/* att_task for a batch over an F16 cache: tasks of (group of att_job.tg
 * tokens, KV head, chunk of att_job.per query heads), each one call of
 * attn_f16_rows, which walks the shared positions once for all the task's
 * rows (token t: positions lo..p0 + t, lo its own in a sliding window)
 * instead of once per token; every row keeps attn_heads_f16's bits. */
static void att_task_rows(void *arg, int ith, int nth)
{
        struct att_job *j = arg;
        struct session *s = j->s;
        const struct model_hparams *hp = &s->m->hp;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v, nh = hp->n_head, nkv = hp->n_head_kv;
        const int grp = nh / nkv, per = j->per, nch = (grp + per - 1) / per, tg = j->tg;
        const int ntg = (j->n_tok + tg - 1) / tg;
        const float qmul = attn_q_scaled(s->m->arch) ? hp->attn_scale : 1.0f;
        struct attn_f16_q rows[ATT_ROWS];

        (void)nth;
        for (int task; (task = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < ntg * nkv * nch;) {
                const int t0 = task / (nkv * nch) * tg, c = task % (nkv * nch), kvh = c / nch;
                const int h = kvh * grp + c % nch * per;
                const int nt = j->n_tok - t0 < tg ? j->n_tok - t0 : tg;
                const int nq = grp - c % nch * per < per ? grp - c % nch * per : per;
                struct attn_f16_row r = f16_row(s, j->il, kvh);
                int n = 0;

                for (int t = t0; t < t0 + nt; t++) {
                        const int pos = j->p0 + t, lo = attn_lo(s, j->il, pos);
                        for (int i = 0; i < nq; i++, n++)
                                rows[n] = (struct attn_f16_q){
                                        s->q + (size_t)t * nh * hdk + (size_t)(h + i) * hdk,
                                        s->att + (size_t)t * nh * hdv + (size_t)(h + i) * hdv, lo, pos};
                }
                attn_f16_rows(&r, rows, n, qmul, (uint16_t *)s->att_q + (size_t)ith * s->att_q_stride / 2,
                              (uint16_t *)(s->att_acc + (size_t)ith * hdv),
                              s->att_qf + (size_t)ith * hdk, attn_f16_isa(s->k->name));
        }
}

/* ---- one layer ----------------------------------------------------------- */

static void layer_forward(struct session *s, int il, int n, int p0)
{
        struct model *m = s->m;
        const struct model_hparams *hp = &m->hp;
        const struct layer *l = &m->layers[il];
        const int E = hp->n_embd, hdk = hp->head_dim_k;
        const int qd = hp->n_head * hdk, kd = hp->n_head_kv * hdk,
                  vd = hp->n_head_kv * hp->head_dim_v;
        const int nff = hp->n_ff;
        const float eps = hp->norm_eps;

        /* attention */
        norm_rows(s, s->xn, s->x, &l->attn_norm, n, E, eps);
        if (m->fused_qkv) {
                int d = qd + kd + vd;
                mm(s, &l->wqkv, s->xn, n, s->qkv);
                add_bias(s->qkv, &l->bqkv, n, d);
                for (int t = 0; t < n; t++) {
                        const float *r = s->qkv + (size_t)t * d;
                        memcpy(s->q + (size_t)t * qd, r, (size_t)qd * sizeof(float));
                        memcpy(s->kx + (size_t)t * kd, r + qd, (size_t)kd * sizeof(float));
                        memcpy(s->vx + (size_t)t * vd, r + qd + kd, (size_t)vd * sizeof(float));
                }
        } else {
                const struct mu_tensor *w[3] = {&l->wq, &l->wk, &l->wv};
                float *y[3] = {s->q, s->kx, s->vx};
                matmul_multi(s->pool, s->ws, 3, w, s->xn, n, y);
                add_bias(s->q, &l->bq, n, qd);
                add_bias(s->kx, &l->bk, n, kd);
                add_bias(s->vx, &l->bv, n, vd);
        }
        if (l->q_norm.data) {
                for (int i = 0; i < n * hp->n_head; i++)
                        op_rmsnorm(s->q + (size_t)i * hdk, s->q + (size_t)i * hdk,
                                   l->q_norm.data, hdk, eps);
                for (int i = 0; i < n * hp->n_head_kv; i++)
                        op_rmsnorm(s->kx + (size_t)i * hdk, s->kx + (size_t)i * hdk,
                                   l->k_norm.data, hdk, eps);
        }
        struct rope_params rp = {hp->n_rot, hp->rope_neox, l->rope_base, hp->rope_freq_scale,
                                 hp->rope_attn_factor, l->rope_factors};
        if (hp->n_rot <= 1024) {
                struct rows_job rj = {.s = s, .op = ROWS_ROPE, .n = n, .p0 = p0, .rp = &rp};
                rows_run(&rj);
        } else {
                for (int t = 0; t < n; t++) {
                        op_rope_cache(s->rope_cs, (float)(p0 + t), &rp);
                        for (int h = 0; h < hp->n_head; h++)
                                op_rope_apply(s->q + (size_t)t * qd + (size_t)h * hdk, s->rope_cs,
                                              hp->n_rot, hp->rope_neox);
                        for (int h = 0; h < hp->n_head_kv; h++)
                                op_rope_apply(s->kx + (size_t)t * kd + (size_t)h * hdk, s->rope_cs,
                                              hp->n_rot, hp->rope_neox);
                }
        }
        kv_cache_store(&s->kv, il, p0, n, s->kx, s->vx);

        const int grp = hp->n_head / hp->n_head_kv, nth = mu_pool_size(s->pool);
        struct att_job aj = {s, il, n, p0, grp, 1, 0};
        /* several tokens per task over an F16 cache: as many as fill one pass
         * of attn_f16_rows; fewer (then fewer heads) while there would be
         * under two tasks per thread, so the dynamic split can balance */
        const int rows = n > 1 && attn_f16_path(s->kv.type, hdk, hp->head_dim_v);
        if (rows) {
                aj.tg = grp < ATT_ROWS ? ATT_ROWS / grp : 1;
                aj.tg = aj.tg < n ? aj.tg : n;
                aj.per = grp < ATT_ROWS ? grp : ATT_ROWS;
        }
        for (;;) {
                const int tasks = (n + aj.tg - 1) / aj.tg * hp->n_head_kv * ((grp + aj.per - 1) / aj.per);
                if (tasks >= 2 * nth)
                        break;
                if (aj.tg > 1)
                        aj.tg = (aj.tg + 1) / 2;
                else if (aj.per > 1)
                        aj.per = (aj.per + 1) / 2;
                else
                        break;
        }
        mu_pool_fn fn = rows ? att_task_rows : att_task;
        if (attn_batch(s, il, n, p0) == 0)
                ; /* prompt batches: tiled (attn_batch.c) */
        else if (nth > 1)
                mu_pool_run_dyn(s->pool, fn, &aj);
        else
                fn(&aj, 0, 1);

        mm(s, &l->wo, s->att, n, s->tmp);
        if (l->attn_post_norm.data)
                norm_rows(s, s->tmp, s->tmp, &l->attn_post_norm, n, E, eps);
        rows_op(s, ROWS_ADD, s->x, s->tmp, n, E);

        /* feed-forward */
        norm_rows(s, s->xn, s->x, &l->ffn_norm, n, E, eps);
        if (m->fused_up) {
                mm(s, &l->ffn_up, s->xn, n, s->gate);  /* [n][2 * nff]: gate | up */
                for (int t = 0; t < n; t++) {
                        const float *g = s->gate + (size_t)t * 2 * nff;
                        op_silu_mul(s->up + (size_t)t * nff, g, g + nff, nff);
                }
        } else {
                const struct mu_tensor *w[2] = {&l->ffn_gate, &l->ffn_up};
                float *y[2] = {s->gate, s->up};
                matmul_multi(s->pool, s->ws, 2, w, s->xn, n, y);
                rows_op(s, m->arch == ARCH_GEMMA2 || m->arch == ARCH_GEMMA3 ? ROWS_GELU : ROWS_SILU, s->up,
                        s->gate, n, nff);
        }
        mm(s, &l->ffn_down, s->up, n, s->tmp);
        if (l->ffn_post_norm.data)
                norm_rows(s, s->tmp, s->tmp, &l->ffn_post_norm, n, E, eps);
        rows_op(s, ROWS_ADD, s->x, s->tmp, n, E);
}

int forward_batch(struct session *s, const int32_t *tokens, int n, int want_logits,
                  struct mu_err *err)
{
        struct model *m = s->m;
        const struct model_hparams *hp = &m->hp;
        const int E = hp->n_embd;
        const size_t erow = mu_row_size(m->tok_embd.type, E);
        const int p0 = s->n_past;

        for (int t = 0; t < n; t++) {
                float *x = s->x + (size_t)t * E;
                quant_dequantize_row(m->tok_embd.type,
                                     (const char *)m->tok_embd.data + (size_t)tokens[t] * erow, x, E);
                if (hp->embd_scale != 1.0f)
                        for (int i = 0; i < E; i++)
                                x[i] *= hp->embd_scale;
        }
        for (int il = 0; il < session_first_gpu(s); il++) {
                if (s->cancel && *s->cancel)
                        return mu_fail(err, MU_ECANCELED, "evaluation canceled");
                layer_forward(s, il, n, p0);
        }
        if (s->vks) {  /* the last blocks (and maybe the output) on the device */
                int done = 0, rc = vk_forward(s, n, p0, want_logits, &done, err);
                if (rc < 0 || done)
                        return rc;
        }
        if (want_logits)
                forward_logits_row(s, n - 1);
        return 0;
}

void forward_logits_row(struct session *s, int t)
{
        struct model *m = s->m;
        const struct model_hparams *hp = &m->hp;
        const int E = hp->n_embd;

        op_rmsnorm(s->xn, s->x + (size_t)t * E, m->output_norm.data, E, hp->norm_eps);
        mm(s, &m->output, s->xn, 1, s->logits);
        if (hp->final_softcap > 0)
                op_softcap(s->logits, hp->n_vocab, hp->final_softcap);
}
