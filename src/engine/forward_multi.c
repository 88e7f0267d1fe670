/* forward_multi.c -- one forward pass over n tokens that belong to n
 * different sessions of one model: the decode step of n server slots.
 *
 * The layer is forward.c's, row t standing for session ss[t]: every weight
 * matrix is used by one matmul() over the n rows (so it is streamed from
 * memory once per step, not once per slot), while RoPE takes each row's own
 * position (ss[t]->n_past), K/V go to each session's own cache and
 * attention reads each session's own cache.  The attention of one (row,
 * head) pair is computed as forward.c's decode path computes it, in the same
 * order; the matmuls over n rows take the multi-row path, which may round
 * differently from the one-row path (as a prompt batch does), so logits
 * agree with one-at-a-time decoding to float rounding, not bit for bit. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/forward_multi.h"
#include "mullama/pool.h"

static float *carve(float **p, size_t n)
{
        float *r = *p;
        *p += n;
        return r;
}

int multi_ws_init(struct multi_ws *w, struct model *m, int max, int n_threads,
                  struct mu_err *err)
{
        const struct model_hparams *hp = &m->hp;
        size_t E = (size_t)hp->n_embd, qd = (size_t)hp->n_head * hp->head_dim_k,
               kd = (size_t)hp->n_head_kv * hp->head_dim_k,
               vd = (size_t)hp->n_head_kv * hp->head_dim_v,
               od = (size_t)hp->n_head * hp->head_dim_v, ff = (size_t)hp->n_ff,
               nv = (size_t)hp->n_vocab, B;
        size_t per = 3 * E + qd + kd + vd + od + 3 * ff + nv;
        int nth;

        memset(w, 0, sizeof(*w));
        if (max < 1 || max > 1024)
                return mu_fail(err, MU_EINVAL, "decode group of %d sequences", max);
        B = (size_t)max;
        if (m->fused_qkv)
                per += qd + kd + vd;
        w->m = m;
        w->max = max;
        w->k = cpu_kernels_get();
        w->pool = mu_pool_create(n_threads);
        w->ws = matmul_ws_create();
        nth = mu_pool_size(w->pool);
        float *f = w->scratch = mu_xmalloc((per * B + (size_t)hp->n_rot) * sizeof(float));
        w->x = carve(&f, B * E);
        w->xn = carve(&f, B * E);
        w->tmp = carve(&f, B * E);
        w->q = carve(&f, B * qd);
        w->kx = carve(&f, B * kd);
        w->vx = carve(&f, B * vd);
        w->att = carve(&f, B * od);
        w->gate = carve(&f, B * 2 * ff);
        w->up = carve(&f, B * ff);
        w->logits = carve(&f, B * nv);
        w->qkv = m->fused_qkv ? carve(&f, B * (qd + kd + vd)) : NULL;
        w->rope_cs = carve(&f, (size_t)hp->n_rot);
        w->att_acc = mu_xmalloc((size_t)nth * (size_t)hp->head_dim_v * sizeof(float));
        w->att_vrow = mu_xmalloc((size_t)nth * (size_t)hp->head_dim_v * sizeof(float));
        w->att_qf = mu_xmalloc((size_t)nth * (size_t)hp->head_dim_k * sizeof(float));
        /* room for the query in any K type's vec_dot type (F32 is the widest) */
        w->att_q_stride = ((size_t)hp->head_dim_k * sizeof(float) + 64 + 63) & ~(size_t)63;
        w->att_q = mu_xmalloc((size_t)nth * w->att_q_stride);
        return 0;
}

void multi_ws_release(struct multi_ws *w)
{
        mu_pool_free(w->pool);
        matmul_ws_free(w->ws);
        free(w->scratch);
        free(w->att_acc);
        free(w->att_vrow);
        free(w->att_qf);
        free(w->att_q);
        memset(w, 0, sizeof(*w));
}

static void mm(struct multi_ws *w, const struct mu_tensor *t, const float *x, int n, float *y)
{
        matmul(w->pool, w->ws, t, x, n, y);
}

static void add_bias(float *y, const struct mu_tensor *b, int n, int dim)
{
        if (!b->data)
                return;
        for (int t = 0; t < n; t++)
                op_add(y + (size_t)t * dim, b->data, dim);
}

static void norm_rows(float *y, const float *x, const struct mu_tensor *wt, int n, int dim,
                      float eps)
{
        for (int t = 0; t < n; t++)
                op_rmsnorm(y + (size_t)t * dim, x + (size_t)t * dim, wt->data, dim, eps);
}

/* ---- attention: row t against session ss[t]'s cache ---------------------- */

struct mat_job {
        struct multi_ws *w;
        struct session *const *ss;
        int il, n;
        _Atomic int next;  /* next (row, head) task */
};

static void mat_task(void *arg, int ith, int nth)
{
        struct mat_job *j = arg;
        struct multi_ws *w = j->w;
        const struct model_hparams *hp = &w->m->hp;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v, nh = hp->n_head;
        struct attn_scratch sc = {w->att_acc + (size_t)ith * hdv, w->att_vrow + (size_t)ith * hdv,
                                  w->att_qf + (size_t)ith * hdk,
                                  (char *)w->att_q + (size_t)ith * w->att_q_stride};

        (void)nth;
        for (int task; (task = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->n * nh;) {
                int t = task / nh, h = task % nh;
                const struct session *s = j->ss[t];
                attn_head(s, j->il, h, s->n_past, w->q + (size_t)t * nh * hdk + (size_t)h * hdk,
                          w->att + (size_t)t * nh * hdv + (size_t)h * hdv, &sc);
        }
}

/* ---- one layer ----------------------------------------------------------- */

static void layer_multi(struct multi_ws *w, struct session *const *ss, int n, int il)
{
        struct model *m = w->m;
        const struct model_hparams *hp = &m->hp;
        const struct layer *l = &m->layers[il];
        const int E = hp->n_embd, hdk = hp->head_dim_k;
        const int qd = hp->n_head * hdk, kd = hp->n_head_kv * hdk,
                  vd = hp->n_head_kv * hp->head_dim_v;
        const int nff = hp->n_ff;
        const float eps = hp->norm_eps;

        norm_rows(w->xn, w->x, &l->attn_norm, n, E, eps);
        if (m->fused_qkv) {
                int d = qd + kd + vd;
                mm(w, &l->wqkv, w->xn, n, w->qkv);
                add_bias(w->qkv, &l->bqkv, n, d);
                for (int t = 0; t < n; t++) {
                        const float *r = w->qkv + (size_t)t * d;
                        memcpy(w->q + (size_t)t * qd, r, (size_t)qd * sizeof(float));
                        memcpy(w->kx + (size_t)t * kd, r + qd, (size_t)kd * sizeof(float));
                        memcpy(w->vx + (size_t)t * vd, r + qd + kd, (size_t)vd * sizeof(float));
                }
        } else {
                const struct mu_tensor *wt[3] = {&l->wq, &l->wk, &l->wv};
                float *y[3] = {w->q, w->kx, w->vx};
                matmul_multi(w->pool, w->ws, 3, wt, w->xn, n, y);
                add_bias(w->q, &l->bq, n, qd);
                add_bias(w->kx, &l->bk, n, kd);
                add_bias(w->vx, &l->bv, n, vd);
        }
        if (l->q_norm.data) {
                for (int i = 0; i < n * hp->n_head; i++)
                        op_rmsnorm(w->q + (size_t)i * hdk, w->q + (size_t)i * hdk,
                                   l->q_norm.data, hdk, eps);
                for (int i = 0; i < n * hp->n_head_kv; i++)
                        op_rmsnorm(w->kx + (size_t)i * hdk, w->kx + (size_t)i * hdk,
                                   l->k_norm.data, hdk, eps);
        }
        struct rope_params rp = {hp->n_rot, hp->rope_neox, l->rope_base, hp->rope_freq_scale,
                                 hp->rope_attn_factor, l->rope_factors};
        for (int t = 0; t < n; t++) {
                op_rope_cache(w->rope_cs, (float)ss[t]->n_past, &rp);
                for (int h = 0; h < hp->n_head; h++)
                        op_rope_apply(w->q + (size_t)t * qd + (size_t)h * hdk, w->rope_cs,
                                      hp->n_rot, hp->rope_neox);
                for (int h = 0; h < hp->n_head_kv; h++)
                        op_rope_apply(w->kx + (size_t)t * kd + (size_t)h * hdk, w->rope_cs,
                                      hp->n_rot, hp->rope_neox);
                kv_cache_store(&ss[t]->kv, il, ss[t]->n_past, 1, w->kx + (size_t)t * kd,
                               w->vx + (size_t)t * vd);
        }

        struct mat_job aj = {w, ss, il, n, 0};
        if (mu_pool_size(w->pool) > 1)
                mu_pool_run_dyn(w->pool, mat_task, &aj);
        else
                mat_task(&aj, 0, 1);

        mm(w, &l->wo, w->att, n, w->tmp);
        if (l->attn_post_norm.data)
                norm_rows(w->tmp, w->tmp, &l->attn_post_norm, n, E, eps);
        op_add(w->x, w->tmp, n * E);

        norm_rows(w->xn, w->x, &l->ffn_norm, n, E, eps);
        if (m->fused_up) {
                mm(w, &l->ffn_up, w->xn, n, w->gate);  /* [n][2 * nff]: gate | up */
                for (int t = 0; t < n; t++) {
                        const float *g = w->gate + (size_t)t * 2 * nff;
                        op_silu_mul(w->up + (size_t)t * nff, g, g + nff, nff);
                }
        } else {
                const struct mu_tensor *wt[2] = {&l->ffn_gate, &l->ffn_up};
                float *y[2] = {w->gate, w->up};
                matmul_multi(w->pool, w->ws, 2, wt, w->xn, n, y);
                if (m->arch == ARCH_GEMMA2 || m->arch == ARCH_GEMMA3)
                        op_gelu_mul(w->up, w->gate, w->up, n * nff);
                else /* per row, as forward.c: a row's last partial group of 16 apart */
                        for (int t = 0; t < n; t++)
                                op_silu_mul(w->up + (size_t)t * nff, w->gate + (size_t)t * nff,
                                            w->up + (size_t)t * nff, nff);
        }
        mm(w, &l->ffn_down, w->up, n, w->tmp);
        if (l->ffn_post_norm.data)
                norm_rows(w->tmp, w->tmp, &l->ffn_post_norm, n, E, eps);
        op_add(w->x, w->tmp, n * E);
}

void forward_multi(struct multi_ws *w, struct session *const *ss, const int32_t *toks, int n)
{
        struct model *m = w->m;
        const struct model_hparams *hp = &m->hp;
        const int E = hp->n_embd, nv = hp->n_vocab;
        const size_t erow = mu_row_size(m->tok_embd.type, E);

        for (int t = 0; t < n; t++) {
                float *x = w->x + (size_t)t * E;
                quant_dequantize_row(m->tok_embd.type,
                                     (const char *)m->tok_embd.data + (size_t)toks[t] * erow, x, E);
                if (hp->embd_scale != 1.0f)
                        for (int i = 0; i < E; i++)
                                x[i] *= hp->embd_scale;
        }
        for (int il = 0; il < hp->n_layer; il++)
                layer_multi(w, ss, n, il);
        norm_rows(w->xn, w->x, &m->output_norm, n, E, hp->norm_eps);
        mm(w, &m->output, w->xn, n, w->logits);
        for (int t = 0; t < n; t++) {
                float *lg = w->logits + (size_t)t * nv;
                if (hp->final_softcap > 0)
                        op_softcap(lg, nv, hp->final_softcap);
                memcpy(ss[t]->logits, lg, (size_t)nv * sizeof(float));
                ss[t]->n_past++;
        }
}
