/* session.c -- session lifetime, scratch sizing, batched evaluation,
 * truncation and context shift.  See include/mullama/model.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "mullama/pool.h"

struct session_params session_default_params(void)
{
        struct session_params p = {0, 0, 512, MU_TYPE_F16};
        return p;
}

/* Scratch floats for a batch of n tokens (excluding per-thread attention). */
static size_t scratch_floats(const struct model *m, int n)
{
        const struct model_hparams *hp = &m->hp;
        size_t E = (size_t)hp->n_embd, qd = (size_t)hp->n_head * hp->head_dim_k,
               kd = (size_t)hp->n_head_kv * hp->head_dim_k,
               vd = (size_t)hp->n_head_kv * hp->head_dim_v,
               od = (size_t)hp->n_head * hp->head_dim_v, ff = (size_t)hp->n_ff;
        size_t per = 3 * E + qd + kd + vd + od + 3 * ff;

        if (m->fused_qkv)
                per += qd + kd + vd;
        return per * (size_t)n + (size_t)hp->n_vocab + (size_t)hp->n_rot;
}

void model_memory_estimate(const struct model *m, int n_ctx, int kv_type, int n_batch,
                           struct model_memory *out)
{
        if (n_ctx <= 0)
                n_ctx = m->hp.n_ctx_train < 4096 ? m->hp.n_ctx_train : 4096;
        if (n_batch <= 0)
                n_batch = 512;
        if (n_batch > n_ctx)
                n_batch = n_ctx;
        out->n_ctx = n_ctx;
        out->weights = (size_t)m->size_bytes;
        out->kv_cache = kv_cache_bytes(m, n_ctx, kv_type);
        /* activations quantized for matmul: at most ~1.1 bytes per float */
        out->scratch = scratch_floats(m, n_batch) * sizeof(float) +
                       (size_t)n_batch * (size_t)(m->hp.n_ff > m->hp.n_embd ? 2 * m->hp.n_ff
                                                                            : 2 * m->hp.n_embd);
        out->total = out->weights + out->kv_cache + out->scratch;
}

size_t model_estimate_memory(const struct model *m, int n_ctx, int kv_type, int n_batch)
{
        struct model_memory mm;

        model_memory_estimate(m, n_ctx, kv_type, n_batch, &mm);
        return mm.total;
}

static float *carve(float **p, size_t n)
{
        float *r = *p;
        *p += n;
        return r;
}

int session_create(struct session **out, struct model *m, const struct session_params *pp,
                   struct mu_err *err)
{
        struct session_params p = pp ? *pp : session_default_params();
        const struct model_hparams *hp = &m->hp;
        struct session *s;
        int rc, nth;

        *out = NULL;
        if (p.n_ctx <= 0)
                p.n_ctx = hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
        if (p.n_batch <= 0)
                p.n_batch = 512;
        if (p.n_batch > p.n_ctx)
                p.n_batch = p.n_ctx;
        if (p.n_ctx > (1 << 24))
                return mu_fail(err, MU_EINVAL, "context size %d is too large", p.n_ctx);
        s = mu_xcalloc(1, sizeof(*s));
        s->m = m;
        s->k = cpu_kernels_get();
        if ((rc = kv_cache_init(&s->kv, m, p.n_ctx, p.kv_type, err)) < 0) {
                free(s);
                return rc;
        }
        s->pool = mu_pool_create(p.n_threads);
        p.n_threads = mu_pool_size(s->pool);
        s->p = p;
        s->ws = matmul_ws_create();
        nth = p.n_threads;

        size_t E = (size_t)hp->n_embd, qd = (size_t)hp->n_head * hp->head_dim_k,
               kd = (size_t)hp->n_head_kv * hp->head_dim_k,
               vd = (size_t)hp->n_head_kv * hp->head_dim_v,
               od = (size_t)hp->n_head * hp->head_dim_v, ff = (size_t)hp->n_ff,
               B = (size_t)p.n_batch;
        float *f = s->scratch = mu_xmalloc(scratch_floats(m, p.n_batch) * sizeof(float));
        s->x = carve(&f, B * E);
        s->xn = carve(&f, B * E);
        s->tmp = carve(&f, B * E);
        s->q = carve(&f, B * qd);
        s->kx = carve(&f, B * kd);
        s->vx = carve(&f, B * vd);
        s->att = carve(&f, B * od);
        s->gate = carve(&f, B * 2 * ff);
        s->up = carve(&f, B * ff);
        s->qkv = m->fused_qkv ? carve(&f, B * (qd + kd + vd)) : NULL;
        s->logits = carve(&f, (size_t)hp->n_vocab);
        s->rope_cs = carve(&f, (size_t)hp->n_rot);
        memset(s->logits, 0, (size_t)hp->n_vocab * sizeof(float));

        s->att_acc = mu_xmalloc((size_t)nth * (size_t)hp->head_dim_v * sizeof(float));
        s->att_vrow = mu_xmalloc((size_t)nth * (size_t)hp->head_dim_v * sizeof(float));
        s->att_qf = mu_xmalloc((size_t)nth * (size_t)hp->head_dim_k * sizeof(float));
        int vdt = s->k->q[p.kv_type].vec_dot_type;
        s->att_q_stride = (mu_row_size(vdt, hp->head_dim_k) + 63) & ~(size_t)63;
        s->att_q = mu_xmalloc((size_t)nth * s->att_q_stride);
        if ((rc = vk_session_init(s, err)) == MU_ENOMEM) {
                /* no room for this context's K/V on the device: this
                 * session runs every block on the CPU */
                MU_LOG_INFO("%s; this session runs on the CPU",
                            err ? err->msg : "vulkan: out of device memory");
        } else if (rc < 0) {
                session_free(s);
                return rc;
        }
        /* the device holds the K/V of its blocks: drop the CPU rows */
        for (int il = session_first_gpu(s); il < hp->n_layer; il++) {
                free(s->kv.k[il]);
                free(s->kv.v[il]);
                s->kv.k[il] = s->kv.v[il] = NULL;
        }
        *out = s;
        return 0;
}

void session_free(struct session *s)
{
        if (!s)
                return;
        vk_session_free(s);
        kv_cache_release(&s->kv);
        mu_pool_free(s->pool);
        matmul_ws_free(s->ws);
        free(s->scratch);
        free(s->att_acc);
        free(s->att_vrow);
        free(s->att_qf);
        free(s->att_q);
        free(s);
}

int session_eval(struct session *s, const int32_t *tokens, int n, struct mu_err *err)
{
        int rc;

        if (n <= 0)
                return mu_fail(err, MU_EINVAL, "no tokens to evaluate");
        if (n > s->kv.n_ctx - s->n_past)
                return mu_fail(err, MU_ERANGE, "context full: %d tokens past + %d new exceed "
                               "the context size %d", s->n_past, n, s->kv.n_ctx);
        for (int i = 0; i < n; i++)
                if (tokens[i] < 0 || tokens[i] >= s->m->hp.n_vocab)
                        return mu_fail(err, MU_EINVAL, "token id %d is outside the vocabulary "
                                       "(%d tokens)", tokens[i], s->m->hp.n_vocab);
        for (int i = 0; i < n; i += s->p.n_batch) {
                int nb = n - i < s->p.n_batch ? n - i : s->p.n_batch;
                if ((rc = forward_batch(s, tokens + i, nb, i + nb == n, err)) < 0)
                        return rc;
                s->n_past += nb;
        }
        return 0;
}

/* log softmax(logits)[id] in double precision */
static double log_prob(const float *lg, int nv, int32_t id)
{
        double mx = lg[0], sum = 0;

        for (int i = 1; i < nv; i++)
                if (lg[i] > mx)
                        mx = lg[i];
        for (int i = 0; i < nv; i++)
                sum += exp((double)lg[i] - mx);
        return (double)lg[id] - mx - log(sum);
}

int session_loglik(struct session *s, const int32_t *tokens, int n, double *lp,
                   struct mu_err *err)
{
        const int nv = s->m->hp.n_vocab;
        int rc;

        if (n <= 0)
                return mu_fail(err, MU_EINVAL, "no tokens to evaluate");
        if (n > s->kv.n_ctx - s->n_past)
                return mu_fail(err, MU_ERANGE, "context full: %d tokens past + %d new exceed "
                               "the context size %d", s->n_past, n, s->kv.n_ctx);
        for (int i = 0; i < n; i++)
                if (tokens[i] < 0 || tokens[i] >= nv)
                        return mu_fail(err, MU_EINVAL, "token id %d is outside the vocabulary "
                                       "(%d tokens)", tokens[i], nv);
        for (int i = 0; i < n; i += s->p.n_batch) {
                int nb = n - i < s->p.n_batch ? n - i : s->p.n_batch;
                if ((rc = forward_batch(s, tokens + i, nb, 0, err)) < 0)
                        return rc;
                for (int t = 0; t < nb && i + t + 1 < n; t++) {
                        forward_logits_row(s, t);
                        lp[i + t] = log_prob(s->logits, nv, tokens[i + t + 1]);
                }
                s->n_past += nb;
        }
        forward_logits_row(s, (n - 1) % s->p.n_batch);
        return 0;
}

const float *session_logits(const struct session *s) { return s->logits; }
int session_n_past(const struct session *s) { return s->n_past; }
int session_n_ctx(const struct session *s) { return s->kv.n_ctx; }
const struct model *session_model(const struct session *s) { return s->m; }
void session_set_cancel(struct session *s, volatile int *flag) { s->cancel = flag; }

void session_truncate(struct session *s, int n_past)
{
        if (n_past < 0)
                n_past = 0;
        if (n_past < s->n_past)
                s->n_past = n_past;
}

/* Rotate the cached keys of positions [p0, p0 + n) by delta positions. */
static void rope_shift(struct session *s, int p0, int n, int delta)
{
        const struct model *m = s->m;
        const struct model_hparams *hp = &m->hp;
        struct kv_cache *kv = &s->kv;
        float *row = s->kx;  /* scratch: at least one K row */
        float *cs = s->rope_cs;

        for (int il = 0; il < session_first_gpu(s); il++) {
                const struct layer *l = &m->layers[il];
                struct rope_params rp = {hp->n_rot, hp->rope_neox, l->rope_base,
                                         hp->rope_freq_scale, 1.0f, l->rope_factors};
                op_rope_cache(cs, (float)delta, &rp);
                for (int p = p0; p < p0 + n; p++) {
                        uint8_t *k = kv->k[il] + (size_t)p * kv->k_row;
                        quant_dequantize_row(kv->type, k, row, kv->k_dim);
                        for (int h = 0; h < hp->n_head_kv; h++)
                                op_rope_apply(row + (size_t)h * hp->head_dim_k, cs, hp->n_rot,
                                              hp->rope_neox);
                        quant_quantize_row(kv->type, row, k, kv->k_dim);
                }
        }
}

int session_shift(struct session *s, int n_keep, int n_discard)
{
        if (n_keep < 0 || n_discard <= 0 || n_keep + n_discard > s->n_past)
                return MU_EINVAL;
        int src = n_keep + n_discard, n = s->n_past - src;
        kv_cache_move(&s->kv, n_keep, src, n);
        rope_shift(s, n_keep, n, -n_discard);
        if (s->vks && vk_session_shift(s, n_keep, n_discard, s->n_past, NULL) < 0)
                return MU_EIO;
        s->n_past -= n_discard;
        return 0;
}
