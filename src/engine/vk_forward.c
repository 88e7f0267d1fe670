/* vk_forward.c -- the transformer blocks that run on a Vulkan device.
 *
 * Which blocks: the LAST n (and, when every block is offloaded, the output
 * norm + projection too), as llama.cpp does.  The CPU computes the token
 * embeddings and the first blocks, then the activations cross to the device
 * once per batch; they come back once (as the hidden state for the CPU's
 * output layer, or as the logits when the output layer is on the device).
 * Offloading the first blocks instead would make the activations cross
 * twice whenever the output layer stays on the CPU.
 *
 * Weights: one device buffer per block (its tensors at 256-byte aligned
 * offsets), uploaded once from the GGUF mmap through staging buffers.  The
 * session keeps K/V per offloaded block on the device (fp16, or f32 for an
 * f32 cache), activation buffers sized for a chunk of VK_CHUNK tokens, and
 * recorded command buffers keyed by chunk shape (reused across tokens: a
 * decode step is one submit and one wait).
 *
 * Numerics are the CPU engine's on its scalar kernel table, bit for bit:
 * activations are quantized as the scalar from_float does, matmuls sum in
 * the scalar vec_dots' order (Q4_K's vec_dot4 for the prompt tokens the CPU
 * gives it), the K/V cache holds the same fp16 values, attention rounds as
 * attn_f16.c, RoPE uses the CPU's own cos/sin table and GELU its fp16
 * lookup table, exp is glibc's or ggml's as the CPU uses them, and every
 * division, square root and FMA is correctly rounded (shaders/common.glsl).
 * Not bit-exact: Q2_K, Q3_K and Q5_K matmuls (float sums), soft-capping's
 * tanh, and glibc's expf where its double result sits within ~2^-48 of a
 * float midpoint (1 input in 65536 in tests/test_vulkan.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "mullama/vulkan.h"

#ifdef MU_HAVE_VULKAN
#include "kernels/vulkan_impl.h"

#define VK_CHUNK 32
#define VK_NGRAPH 4
#define VK_ALIGN 256

struct vk_tensor {
        struct vk_buf *b;
        uint32_t off;  /* bytes */
        int type, present;
        uint32_t ne0, ne1, row_bytes;
};

struct vk_layer {
        struct vk_buf buf;
        struct vk_tensor attn_norm, attn_post_norm, wq, wk, wv, wqkv, wo, bq, bk, bv, bqkv,
                q_norm, k_norm, ffn_norm, ffn_post_norm, ffn_gate, ffn_up, ffn_down;
};

struct vk_model {
        struct mu_vk *c;
        int first, n_off, output;
        struct vk_layer *layers;  /* [n_layer - first] */
        struct vk_buf out_buf, gelu;
        struct vk_tensor output_norm, out;
};

struct vk_session {
        struct vk_buf *kc, *vc;  /* [n_off] */
        struct vk_buf x, xn, xq, xs, q, k, v, att, tmp, gate, up, qkv, logits, scores, cs,
                prm, io;
        int kv_f16, n_ctx, cs_swa;
        struct vk_graph g[VK_NGRAPH];
        uint64_t tick;
        /* recording state: the last quantized activations */
        struct vk_buf *q_src;
        uint32_t q_off;
        int q_pipe, q_n;
};

/* ---- model: choose, lay out and upload ---------------------------------- */

static size_t align_up(size_t v) { return (v + VK_ALIGN - 1) & ~(size_t)(VK_ALIGN - 1); }

#define LAYER_TENSORS(X) X(attn_norm) X(attn_post_norm) X(wq) X(wk) X(wv) X(wqkv) X(wo) \
        X(bq) X(bk) X(bv) X(bqkv) X(q_norm) X(k_norm) X(ffn_norm) X(ffn_post_norm)   \
        X(ffn_gate) X(ffn_up) X(ffn_down)

static size_t layer_bytes(const struct layer *l)
{
        size_t n = 0;
#define X(f) if (l->f.data) n += align_up(l->f.size);
        LAYER_TENSORS(X)
#undef X
        return n;
}

static int tensor_ok(const struct mu_tensor *t)
{
        if (!t->data)
                return 1;
        if (t->ne[1] > 1 && vk_mm_pipe(t->type) < 0)
                return 0;
        return 1;
}

static int place(struct mu_vk *c, struct vk_buf *b, struct vk_tensor *vt,
                 const struct mu_tensor *t, size_t *off, struct mu_err *err)
{
        int rc;

        memset(vt, 0, sizeof(*vt));
        if (!t->data)
                return 0;
        if ((rc = vk_upload(c, b, *off, t->data, t->size, err)) < 0)
                return rc;
        vt->b = b;
        vt->off = (uint32_t)*off;
        vt->type = t->type;
        vt->present = 1;
        vt->ne0 = (uint32_t)t->ne[0];
        vt->ne1 = (uint32_t)t->ne[1];
        vt->row_bytes = (uint32_t)mu_row_size(t->type, t->ne[0]);
        *off += align_up(t->size);
        return 0;
}

static int upload_layer(struct mu_vk *c, struct vk_layer *vl, const struct layer *l,
                        struct mu_err *err)
{
        size_t off = 0;
        int rc;

        if ((rc = vk_buf_create(c, &vl->buf, layer_bytes(l), 0, err)) < 0)
                return rc;
#define X(f) if ((rc = place(c, &vl->buf, &vl->f, &l->f, &off, err)) < 0) return rc;
        LAYER_TENSORS(X)
#undef X
        return 0;
}

static uint64_t kv_layer_bytes(const struct model *m, int n_ctx)
{
        return kv_cache_bytes(m, n_ctx, MU_TYPE_F16) / (uint64_t)m->hp.n_layer;
}

static void vk_model_release(struct vk_model *vm, int n_layer)
{
        if (!vm)
                return;
        if (vm->c) {
                for (int i = 0; vm->layers && i < n_layer - vm->first; i++)
                        vk_buf_free(vm->c, &vm->layers[i].buf);
                vk_buf_free(vm->c, &vm->out_buf);
                vk_buf_free(vm->c, &vm->gelu);
        }
        free(vm->layers);
        mu_vk_free(vm->c);
        free(vm);
}

int vk_model_init(struct model *m, int n_gpu, struct mu_err *err)
{
        const struct model_hparams *hp = &m->hp;
        const int L = hp->n_layer;
        struct vk_model *vm;
        struct mu_err e2 = {0};
        int rc, want_out;

        m->gpu_first = L;
        if (n_gpu == 0)
                return 0;
        if (n_gpu < 0 || n_gpu > L)
                n_gpu = L;
        want_out = n_gpu == L;
        for (int il = 0; il < L; il++) {
                const struct layer *l = &m->layers[il];
                int ok = 1;
#define X(f) ok &= tensor_ok(&l->f);
                LAYER_TENSORS(X)
#undef X
                if (!ok || hp->head_dim_k > 256 || hp->head_dim_v > 256 || hp->head_dim_k % 2 ||
                    hp->head_dim_v % 2) {
                        MU_LOG_INFO("vulkan: block %d has a tensor type or shape the GPU "
                                    "kernels do not run; running on the CPU", il);
                        return 0;
                }
        }
        if (want_out && !tensor_ok(&m->output))
                want_out = 0;
        vm = mu_xcalloc(1, sizeof(*vm));
        if ((rc = mu_vk_init(&vm->c, &e2)) < 0) {
                MU_LOG_INFO("%s; running on the CPU", e2.msg);
                free(vm);
                return 0;
        }
        /* budget: the device heap (or MULLAMA_VULKAN_MEM bytes, for tests),
         * less a margin for the session's KV cache and scratch */
        uint64_t budget = vm->c->info.mem_bytes / 10 * 9;
        const char *lim = getenv("MULLAMA_VULKAN_MEM");
        if (lim && *lim) {
                char *end;
                budget = strtoull(lim, &end, 10);
                budget <<= *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
                           : *end == 'G' || *end == 'g' ? 30 : 0;
        }
        int ctx_guess = hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
        uint64_t used = (uint64_t)VK_CHUNK * hp->n_head * ctx_guess * 4 +
                        (uint64_t)VK_CHUNK * 16 * (hp->n_embd + 3 * hp->n_ff) + (16u << 20);
        uint64_t out_bytes = align_up(m->output.size) + align_up(m->output_norm.size) +
                             (uint64_t)hp->n_vocab * 4;
        if (want_out && used + out_bytes > budget)
                want_out = 0;
        if (want_out)
                used += out_bytes;
        int fit = 0;
        for (int il = L - 1; il >= L - n_gpu; il--) {
                uint64_t lb = layer_bytes(&m->layers[il]) + kv_layer_bytes(m, ctx_guess);
                if (used + lb > budget)
                        break;
                used += lb;
                fit++;
        }
        if (fit < n_gpu)
                MU_LOG_INFO("vulkan: %s has room for %d of the %d requested blocks; offloading %d",
                            vm->c->info.name, fit, n_gpu, fit);
        if (fit == 0) {
                vk_model_release(vm, L);
                return 0;
        }
        if (fit < L)
                want_out = 0;
        vm->first = L - fit;
        vm->n_off = fit;
        vm->output = want_out;
        vm->layers = mu_xcalloc((size_t)fit, sizeof(*vm->layers));
        for (int il = vm->first; il < L; il++)
                if ((rc = upload_layer(vm->c, &vm->layers[il - vm->first], &m->layers[il], err)) < 0)
                        goto fail;
        if (want_out) {
                size_t off = 0;
                if ((rc = vk_buf_create(vm->c, &vm->out_buf, align_up(m->output.size) +
                                        align_up(m->output_norm.size), 0, err)) < 0 ||
                    (rc = place(vm->c, &vm->out_buf, &vm->output_norm, &m->output_norm, &off,
                                err)) < 0 ||
                    (rc = place(vm->c, &vm->out_buf, &vm->out, &m->output, &off, err)) < 0)
                        goto fail;
        }
        if (m->arch == ARCH_GEMMA2 || m->arch == ARCH_GEMMA3) {
                float *t = mu_xmalloc(65536 * sizeof(float));
                for (int i = 0; i < 65536; i++)
                        t[i] = mu_fp16_to_fp32(mu_fp32_to_fp16(op_gelu(mu_fp16_to_fp32((uint16_t)i))));
                rc = vk_buf_create(vm->c, &vm->gelu, 65536 * sizeof(float), 0, err);
                if (rc == 0)
                        rc = vk_upload(vm->c, &vm->gelu, 0, t, 65536 * sizeof(float), err);
                free(t);
                if (rc < 0)
                        goto fail;
        }
        m->vk = vm;
        m->gpu_first = vm->first;
        MU_LOG_INFO("vulkan: %s: offloaded %d/%d blocks%s, %.1f MiB of device memory",
                    vm->c->info.name, fit, L, want_out ? " and the output layer" : "",
                    (double)mu_vk_mem_used(vm->c) / (1 << 20));
        return 0;
fail:
        if (rc == MU_ENOMEM) {
                /* the estimate was wrong: run on the CPU rather than fail */
                MU_LOG_INFO("vulkan: out of device memory while uploading; running on the CPU");
                vk_model_release(vm, L);
                m->gpu_first = L;
                return 0;
        }
        mu_err_prefix(err, "vulkan");
        vk_model_release(vm, L);
        m->gpu_first = L;
        return rc;
}

void vk_model_free(struct model *m)
{
        if (m->vk)
                vk_model_release(m->vk, m->hp.n_layer);
        m->vk = NULL;
}

int model_gpu_layers(const struct model *m) { return m->vk ? m->vk->n_off : 0; }
int model_gpu_output(const struct model *m) { return m->vk ? m->vk->output : 0; }
uint64_t model_gpu_mem(const struct model *m) { return m->vk ? mu_vk_mem_used(m->vk->c) : 0; }
const char *model_gpu_name(const struct model *m) { return m->vk ? m->vk->c->info.name : NULL; }

/* ---- session -------------------------------------------------------------- */

static void rope_table(float *t, int n_ctx, const struct model_hparams *hp, float base,
                       const float *factors)
{
        struct rope_params rp = {hp->n_rot, hp->rope_neox, base, hp->rope_freq_scale,
                                 hp->rope_attn_factor, factors};
        for (int p = 0; p < n_ctx; p++)
                op_rope_cache(t + (size_t)p * hp->n_rot, (float)p, &rp);
}

int vk_session_init(struct session *s, struct mu_err *err)
{
        struct model *m = s->m;
        struct vk_model *vm = m->vk;
        const struct model_hparams *hp = &m->hp;
        struct vk_session *vs;
        struct mu_vk *c;
        int rc = 0;

        if (!vm)
                return 0;
        c = vm->c;
        vs = mu_xcalloc(1, sizeof(*vs));
        s->vks = vs;
        vs->n_ctx = s->kv.n_ctx;
        vs->kv_f16 = s->kv.type != MU_TYPE_F32;
        const size_t B = VK_CHUNK, E = (size_t)hp->n_embd, F = (size_t)hp->n_ff,
                     qd = (size_t)hp->n_head * hp->head_dim_k,
                     kd = (size_t)hp->n_head_kv * hp->head_dim_k,
                     vd = (size_t)hp->n_head_kv * hp->head_dim_v,
                     od = (size_t)hp->n_head * hp->head_dim_v, f4 = sizeof(float);
        size_t maxin = E > od ? E : od;
        if (F > maxin)
                maxin = F;
        size_t es = vs->kv_f16 ? 2 : 4;
        vs->kc = mu_xcalloc((size_t)vm->n_off, sizeof(*vs->kc));
        vs->vc = mu_xcalloc((size_t)vm->n_off, sizeof(*vs->vc));
        for (int i = 0; i < vm->n_off && rc == 0; i++) {
                if ((rc = vk_buf_create(c, &vs->kc[i], kd * es * (size_t)vs->n_ctx, 0, err)) == 0)
                        rc = vk_buf_create(c, &vs->vc[i], vd * es * (size_t)vs->n_ctx, 0, err);
        }
        size_t io = B * E > (size_t)hp->n_vocab ? B * E : (size_t)hp->n_vocab;
        int swa_base = 0;
        for (int il = vm->first; il < hp->n_layer; il++)
                swa_base |= m->layers[il].rope_base != hp->rope_freq_base;
        size_t tab = (size_t)vs->n_ctx * hp->n_rot;
        if (rc == 0)
                rc = vk_buf_create(c, &vs->x, B * E * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->xn, B * E * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->xq, B * maxin * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->xs, B * maxin / 32 * 2 * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->q, B * qd * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->k, B * kd * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->v, B * vd * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->att, B * od * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->tmp, B * E * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->gate, B * 2 * F * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->up, B * F * f4, 0, err);
        if (rc == 0 && m->fused_qkv)
                rc = vk_buf_create(c, &vs->qkv, B * (qd + kd + vd) * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->logits, (size_t)hp->n_vocab * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->scores, B * hp->n_head * (size_t)vs->n_ctx * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->cs, tab * (swa_base ? 2 : 1) * f4, 0, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->prm, 256, 1, err);
        if (rc == 0)
                rc = vk_buf_create(c, &vs->io, io * f4, 1, err);
        if (rc == 0) {
                float *t = mu_xmalloc(tab * f4 * (swa_base ? 2 : 1));
                const float *fac = m->layers[vm->first].rope_factors;
                rope_table(t, vs->n_ctx, hp, hp->rope_freq_base, fac);
                if (swa_base)
                        rope_table(t + tab, vs->n_ctx, hp, hp->rope_freq_base_swa, fac);
                vs->cs_swa = swa_base ? (int)tab : 0;
                rc = vk_upload(c, &vs->cs, 0, t, tab * f4 * (swa_base ? 2 : 1), err);
                free(t);
        }
        for (int i = 0; i < VK_NGRAPH; i++)
                vs->g[i].key = -1;
        if (rc < 0) {
                mu_err_prefix(err, "vulkan session");
                vk_session_free(s);
        }
        return rc;
}

void vk_session_free(struct session *s)
{
        struct vk_session *vs = s->vks;
        struct mu_vk *c;

        if (!vs)
                return;
        c = s->m->vk->c;
        pthread_mutex_lock(&c->lock);  /* the queue is shared with other sessions */
        vkQueueWaitIdle(c->queue);
        pthread_mutex_unlock(&c->lock);
        for (int i = 0; i < VK_NGRAPH; i++)
                vk_graph_free(c, &vs->g[i]);
        for (int i = 0; i < s->m->vk->n_off; i++) {
                vk_buf_free(c, &vs->kc[i]);
                vk_buf_free(c, &vs->vc[i]);
        }
        free(vs->kc);
        free(vs->vc);
        struct vk_buf *bs[] = {&vs->x, &vs->xn, &vs->xq, &vs->xs, &vs->q, &vs->k, &vs->v,
                               &vs->att, &vs->tmp, &vs->gate, &vs->up, &vs->qkv, &vs->logits,
                               &vs->scores, &vs->cs, &vs->prm, &vs->io};
        for (size_t i = 0; i < sizeof(bs) / sizeof(bs[0]); i++)
                vk_buf_free(c, bs[i]);
        free(vs);
        s->vks = NULL;
}

/* ---- recording ------------------------------------------------------------ */

struct rec {
        struct mu_vk *c;
        struct vk_graph *g;
        struct vk_session *vs;
};

static void op(struct rec *r, enum vk_pipe p, struct vk_buf *b0, struct vk_buf *b1,
               struct vk_buf *b2, struct vk_buf *b3, struct vk_buf *b4, struct vk_buf *b5,
               const void *pc, uint32_t pcs, uint32_t gx, uint32_t gy)
{
        struct vk_buf *bufs[VK_NBIND] = {b0, b1, b2, b3, b4, b5};

        if (p < VKP_Q8_0 || p > VKP_Q8_K)
                r->vs->q_src = NULL;  /* any other op may overwrite the source */
        vk_op(r->c, r->g, p, bufs, pc, pcs, gx, gy);
}

#define OP(r, p, b0, b1, b2, b3, b4, b5, pc, gx, gy) \
        op(r, p, b0, b1, b2, b3, b4, b5, &(pc), sizeof(pc), gx, gy)

static uint32_t groups(size_t n) { return (uint32_t)((n + 63) / 64); }

/* y[t * ystride + yoff + r] = w . x[t] for n tokens (offsets in floats) */
static void rec_mm(struct rec *r, const struct vk_tensor *w, struct vk_buf *x, uint32_t xoff,
                   int n, struct vk_buf *y, uint32_t yoff, uint32_t ystride)
{
        struct vk_session *vs = r->vs;
        int qp = vk_quant_pipe(w->type);
        struct vk_buf *src = x;

        if (qp >= 0) {
                if (!(vs->q_src == x && vs->q_off == xoff && vs->q_pipe == qp && vs->q_n == n)) {
                        uint32_t qk = qp == VKP_Q8_K ? 256 : 32;
                        struct { uint32_t n, xoff, qoff, soff; } pc = {w->ne0 * (uint32_t)n, xoff,
                                                                      0, 0};
                        OP(r, (enum vk_pipe)qp, x, &vs->xq, &vs->xs, NULL, NULL, NULL, pc,
                           groups(pc.n / qk), 1);
                        vs->q_src = x;
                        vs->q_off = xoff;
                        vs->q_pipe = qp;
                        vs->q_n = n;
                }
                src = &vs->xq;
                xoff = 0;
        }
        /* ntok4: the tokens the CPU's prompt matmul gives a vec_dot4 (groups
         * of 4 from the first; mul_mat.comp rounds those as it does) */
        struct { uint32_t ncols, nrows, ntok, woff, row_bytes, xoff, yoff, ystride, xsoff, ntok4; } pc =
                {w->ne0, w->ne1, (uint32_t)n, w->off, w->row_bytes, xoff, yoff, ystride, 0,
                 n > 1 ? (uint32_t)n & ~3u : 0};
        struct vk_buf *bufs[VK_NBIND] = {w->b, src, y, &vs->xs, NULL, NULL};
        vk_op(r->c, r->g, (enum vk_pipe)vk_mm_pipe(w->type), bufs, &pc, sizeof(pc),
              groups(w->ne1), (uint32_t)(n + 7) / 8);
}

static void rec_norm(struct rec *r, struct vk_buf *x, uint32_t xoff, uint32_t xstride,
                     struct vk_buf *y, uint32_t yoff, uint32_t ystride, const struct vk_tensor *w,
                     uint32_t len, uint32_t rows, float eps)
{
        struct { uint32_t n, xoff, xstride, yoff, ystride, woff, has_w; float eps; } pc =
                {len, xoff, xstride, yoff, ystride, w ? w->off / 4 : 0, w != NULL, eps};
        OP(r, VKP_RMSNORM, x, y, w ? w->b : NULL, NULL, NULL, NULL, pc, rows, 1);
}

static void rec_add(struct rec *r, struct vk_buf *y, uint32_t yoff, struct vk_buf *x,
                    uint32_t xoff, uint32_t n, uint32_t xlen)
{
        struct { uint32_t n, yoff, xoff, xlen; } pc = {n, yoff, xoff, xlen};
        OP(r, VKP_ADD, y, x, NULL, NULL, NULL, NULL, pc, groups(n), 1);
}

static void rec_layer(struct rec *r, const struct model *m, int il, int n)
{
        const struct model_hparams *hp = &m->hp;
        struct vk_model *vm = m->vk;
        struct vk_session *vs = r->vs;
        const struct vk_layer *l = &vm->layers[il - vm->first];
        const uint32_t E = (uint32_t)hp->n_embd, hdk = (uint32_t)hp->head_dim_k,
                       qd = (uint32_t)hp->n_head * hdk, kd = (uint32_t)hp->n_head_kv * hdk,
                       vd = (uint32_t)(hp->n_head_kv * hp->head_dim_v), F = (uint32_t)hp->n_ff,
                       nn = (uint32_t)n;
        const float eps = hp->norm_eps;
        const int li = il - vm->first;

        rec_norm(r, &vs->x, 0, E, &vs->xn, 0, E, &l->attn_norm, E, nn, eps);
        if (m->fused_qkv) {
                uint32_t d = qd + kd + vd;
                rec_mm(r, &l->wqkv, &vs->xn, 0, n, &vs->qkv, 0, d);
                if (l->bqkv.present)
                        rec_add(r, &vs->qkv, 0, l->bqkv.b, l->bqkv.off / 4, nn * d, d);
                struct { uint32_t n, ntok, soff, sstride, doff, dstride; } c1 = {qd, nn, 0, d, 0, qd},
                        c2 = {kd, nn, qd, d, 0, kd}, c3 = {vd, nn, qd + kd, d, 0, vd};
                OP(r, VKP_COPY, &vs->qkv, &vs->q, NULL, NULL, NULL, NULL, c1, groups(qd * nn), 1);
                OP(r, VKP_COPY, &vs->qkv, &vs->k, NULL, NULL, NULL, NULL, c2, groups(kd * nn), 1);
                OP(r, VKP_COPY, &vs->qkv, &vs->v, NULL, NULL, NULL, NULL, c3, groups(vd * nn), 1);
        } else {
                rec_mm(r, &l->wq, &vs->xn, 0, n, &vs->q, 0, qd);
                rec_mm(r, &l->wk, &vs->xn, 0, n, &vs->k, 0, kd);
                rec_mm(r, &l->wv, &vs->xn, 0, n, &vs->v, 0, vd);
                if (l->bq.present)
                        rec_add(r, &vs->q, 0, l->bq.b, l->bq.off / 4, nn * qd, qd);
                if (l->bk.present)
                        rec_add(r, &vs->k, 0, l->bk.b, l->bk.off / 4, nn * kd, kd);
                if (l->bv.present)
                        rec_add(r, &vs->v, 0, l->bv.b, l->bv.off / 4, nn * vd, vd);
        }
        if (l->q_norm.present) {
                rec_norm(r, &vs->q, 0, hdk, &vs->q, 0, hdk, &l->q_norm, hdk,
                         nn * (uint32_t)hp->n_head, eps);
                rec_norm(r, &vs->k, 0, hdk, &vs->k, 0, hdk, &l->k_norm, hdk,
                         nn * (uint32_t)hp->n_head_kv, eps);
        }
        uint32_t csoff = m->layers[il].rope_base != hp->rope_freq_base ? (uint32_t)vs->cs_swa : 0;
        struct { uint32_t ntok, nhead, hd, nrot, neox, xoff, csoff; } rq =
                {nn, (uint32_t)hp->n_head, hdk, (uint32_t)hp->n_rot, (uint32_t)hp->rope_neox, 0, csoff},
                rk = {nn, (uint32_t)hp->n_head_kv, hdk, (uint32_t)hp->n_rot, (uint32_t)hp->rope_neox, 0,
                      csoff};
        OP(r, VKP_ROPE, &vs->q, &vs->cs, &vs->prm, NULL, NULL, NULL, rq,
           groups(nn * hp->n_head * hp->n_rot / 2), 1);
        OP(r, VKP_ROPE, &vs->k, &vs->cs, &vs->prm, NULL, NULL, NULL, rk,
           groups(nn * hp->n_head_kv * hp->n_rot / 2), 1);
        struct { uint32_t ntok, dim, xoff, f16; } sk = {nn, kd, 0, (uint32_t)vs->kv_f16},
                                                sv = {nn, vd, 0, (uint32_t)vs->kv_f16};
        OP(r, VKP_KV_STORE, &vs->k, &vs->kc[li], &vs->prm, NULL, NULL, NULL, sk,
           groups(nn * kd), 1);
        OP(r, VKP_KV_STORE, &vs->v, &vs->vc[li], &vs->prm, NULL, NULL, NULL, sv,
           groups(nn * vd), 1);
        /* the CPU's attn_head: its f16 path (attn_f16.c) for an fp16 cache
         * and these head sizes, scaling q first for the archs whose
         * llama.cpp graph does (then the score scale is 1) */
        const int f16m = vs->kv_f16 && attn_f16_path(MU_TYPE_F16, hdk, hp->head_dim_v);
        const int q_scaled = attn_q_scaled(m->arch);
        const float cap = hp->attn_softcap, sc1 = f16m && q_scaled ? 1.0f : hp->attn_scale;
        struct {
                uint32_t nhead, group, hdk, hdv, kdim, vdim, f16, n_swa, sstride, mode;
                float qmul, sscale, cap;
        } ap = {(uint32_t)hp->n_head, (uint32_t)(hp->n_head / hp->n_head_kv), hdk,
                (uint32_t)hp->head_dim_v, kd, vd, (uint32_t)vs->kv_f16,
                m->layers[il].is_swa ? (uint32_t)hp->n_swa : 0, (uint32_t)vs->n_ctx,
                (uint32_t)f16m, f16m && q_scaled ? hp->attn_scale : 1.0f,
                f16m && cap > 0 ? sc1 / cap : sc1, cap};
        OP(r, VKP_ATTN, &vs->q, &vs->kc[li], &vs->vc[li], &vs->prm, &vs->att, &vs->scores, ap,
           nn * (uint32_t)hp->n_head, 1);
        rec_mm(r, &l->wo, &vs->att, 0, n, &vs->tmp, 0, E);
        if (l->attn_post_norm.present)
                rec_norm(r, &vs->tmp, 0, E, &vs->tmp, 0, E, &l->attn_post_norm, E, nn, eps);
        rec_add(r, &vs->x, 0, &vs->tmp, 0, nn * E, nn * E);

        rec_norm(r, &vs->x, 0, E, &vs->xn, 0, E, &l->ffn_norm, E, nn, eps);
        struct { uint32_t n, ntok, goff, gstride, uoff, ustride, yoff, ystride, gelu; } gp;
        if (m->fused_up) {
                rec_mm(r, &l->ffn_up, &vs->xn, 0, n, &vs->gate, 0, 2 * F);
                gp = (__typeof__(gp)){F, nn, 0, 2 * F, F, 2 * F, 0, F, 0};
                OP(r, VKP_GLU, &vs->gate, &vs->gate, &vs->up, vm->gelu.buf ? &vm->gelu : NULL,
                   NULL, NULL, gp, groups(F * nn), 1);
        } else {
                rec_mm(r, &l->ffn_gate, &vs->xn, 0, n, &vs->gate, 0, F);
                rec_mm(r, &l->ffn_up, &vs->xn, 0, n, &vs->up, 0, F);
                int gelu = m->arch == ARCH_GEMMA2 || m->arch == ARCH_GEMMA3;
                gp = (__typeof__(gp)){F, nn, 0, F, 0, F, 0, F, (uint32_t)gelu};
                OP(r, VKP_GLU, &vs->gate, &vs->up, &vs->up, gelu ? &vm->gelu : NULL, NULL, NULL,
                   gp, groups(F * nn), 1);
        }
        rec_mm(r, &l->ffn_down, &vs->up, 0, n, &vs->tmp, 0, E);
        if (l->ffn_post_norm.present)
                rec_norm(r, &vs->tmp, 0, E, &vs->tmp, 0, E, &l->ffn_post_norm, E, nn, eps);
        rec_add(r, &vs->x, 0, &vs->tmp, 0, nn * E, nn * E);
}

static int record(struct session *s, struct vk_graph *g, int n, int logits, struct mu_err *err)
{
        struct model *m = s->m;
        struct vk_model *vm = m->vk;
        const struct model_hparams *hp = &m->hp;
        const uint32_t E = (uint32_t)hp->n_embd;
        struct rec r = {vm->c, g, s->vks};
        int rc;

        if ((rc = vk_graph_begin(vm->c, g, 40 * vm->n_off + 16, err)) < 0)
                return rc;
        s->vks->q_src = NULL;
        vk_copy(g, &s->vks->io, 0, &s->vks->x, 0, (size_t)n * E * sizeof(float));
        for (int il = vm->first; il < hp->n_layer; il++)
                rec_layer(&r, m, il, n);
        if (logits) {
                rec_norm(&r, &s->vks->x, (uint32_t)(n - 1) * E, E, &s->vks->xn, 0, E,
                         &vm->output_norm, E, 1, hp->norm_eps);
                rec_mm(&r, &vm->out, &s->vks->xn, 0, 1, &s->vks->logits, 0, (uint32_t)hp->n_vocab);
                if (hp->final_softcap > 0) {
                        struct { uint32_t n, xoff; float cap; } pc = {(uint32_t)hp->n_vocab, 0,
                                                                      hp->final_softcap};
                        OP(&r, VKP_SOFTCAP, &s->vks->logits, NULL, NULL, NULL, NULL, NULL, pc,
                           groups((size_t)hp->n_vocab), 1);
                }
                vk_copy(g, &s->vks->logits, 0, &s->vks->io, 0, (size_t)hp->n_vocab * sizeof(float));
        } else {
                vk_copy(g, &s->vks->x, 0, &s->vks->io, 0, (size_t)n * E * sizeof(float));
        }
        if ((rc = vk_graph_end(g, err)) < 0)
                return rc;
        g->key = n * 2 + logits;
        return 0;
}

/* The recorded graph for this shape, recording it (over the least recently
 * used one) when there is none. */
static int graph_for(struct session *s, int n, int logits, struct vk_graph **out,
                     struct mu_err *err)
{
        struct vk_session *vs = s->vks;
        int key = n * 2 + logits, lru = 0;

        for (int i = 0; i < VK_NGRAPH; i++) {
                if (vs->g[i].key == key) {
                        vs->g[i].used = ++vs->tick;
                        *out = &vs->g[i];
                        return 0;
                }
                if (vs->g[i].used < vs->g[lru].used)
                        lru = i;
        }
        vs->g[lru].used = ++vs->tick;
        *out = &vs->g[lru];
        return record(s, &vs->g[lru], n, logits, err);
}

int vk_forward(struct session *s, int n, int p0, int want_logits, int *did_logits,
               struct mu_err *err)
{
        struct vk_model *vm = s->m->vk;
        struct vk_session *vs = s->vks;
        const size_t E = (size_t)s->m->hp.n_embd;
        int rc;

        *did_logits = 0;
        for (int i = 0; i < n; i += VK_CHUNK) {
                int nb = n - i < VK_CHUNK ? n - i : VK_CHUNK;
                int logits = want_logits && vm->output && i + nb == n;
                struct vk_graph *g;

                if (s->cancel && *s->cancel)
                        return mu_fail(err, MU_ECANCELED, "evaluation canceled");
                if ((rc = graph_for(s, nb, logits, &g, err)) < 0)
                        return rc;
                ((uint32_t *)vs->prm.map)[0] = (uint32_t)(p0 + i);
                memcpy(vs->io.map, s->x + (size_t)i * E, (size_t)nb * E * sizeof(float));
                if ((rc = vk_graph_run(vm->c, g, err)) < 0)
                        return rc;
                if (logits) {
                        memcpy(s->logits, vs->io.map, (size_t)s->m->hp.n_vocab * sizeof(float));
                        *did_logits = 1;
                } else {
                        memcpy(s->x + (size_t)i * E, vs->io.map, (size_t)nb * E * sizeof(float));
                }
        }
        return 0;
}

/* Context shift on the device's K/V: move rows [src, src + n) to dst and
 * re-rotate the moved keys by -n_discard, on the host with the CPU path's
 * own code (a rare operation: a round trip is fine). */
int vk_session_shift(struct session *s, int n_keep, int n_discard, int n_past,
                     struct mu_err *err)
{
        struct vk_model *vm = s->m->vk;
        struct vk_session *vs = s->vks;
        const struct model_hparams *hp = &s->m->hp;
        int src = n_keep + n_discard, n = n_past - src, rc = 0;
        int type = vs->kv_f16 ? MU_TYPE_F16 : MU_TYPE_F32;
        size_t krow = mu_row_size(type, (int64_t)hp->n_head_kv * hp->head_dim_k),
               vrow = mu_row_size(type, (int64_t)hp->n_head_kv * hp->head_dim_v);
        size_t kd = (size_t)hp->n_head_kv * hp->head_dim_k;
        uint8_t *buf = mu_xmalloc((size_t)n_past * (krow > vrow ? krow : vrow));
        float *row = mu_xmalloc(kd * sizeof(float)), *cs = mu_xmalloc((size_t)hp->n_rot * sizeof(float));

        if (!vs)
                goto out;
        for (int li = 0; li < vm->n_off && rc == 0; li++) {
                const struct layer *l = &s->m->layers[vm->first + li];
                struct rope_params rp = {hp->n_rot, hp->rope_neox, l->rope_base,
                                         hp->rope_freq_scale, 1.0f, l->rope_factors};
                op_rope_cache(cs, (float)-n_discard, &rp);
                if ((rc = vk_download(vm->c, &vs->kc[li], 0, buf, (size_t)n_past * krow, err)) < 0)
                        break;
                memmove(buf + (size_t)n_keep * krow, buf + (size_t)src * krow, (size_t)n * krow);
                for (int p = n_keep; p < n_keep + n; p++) {
                        uint8_t *k = buf + (size_t)p * krow;
                        quant_dequantize_row(type, k, row, (int64_t)kd);
                        for (int h = 0; h < hp->n_head_kv; h++)
                                op_rope_apply(row + (size_t)h * hp->head_dim_k, cs, hp->n_rot,
                                              hp->rope_neox);
                        quant_quantize_row(type, row, k, (int64_t)kd);
                }
                if ((rc = vk_upload(vm->c, &vs->kc[li], 0, buf, (size_t)(n_keep + n) * krow, err)) < 0 ||
                    (rc = vk_download(vm->c, &vs->vc[li], 0, buf, (size_t)n_past * vrow, err)) < 0)
                        break;
                memmove(buf + (size_t)n_keep * vrow, buf + (size_t)src * vrow, (size_t)n * vrow);
                rc = vk_upload(vm->c, &vs->vc[li], 0, buf, (size_t)(n_keep + n) * vrow, err);
        }
out:
        free(buf);
        free(row);
        free(cs);
        return rc;
}

#else /* !MU_HAVE_VULKAN */

int vk_model_init(struct model *m, int n_gpu, struct mu_err *err)
{
        (void)err;
        m->gpu_first = m->hp.n_layer;
        if (n_gpu != 0)
                MU_LOG_INFO("built without Vulkan; running on the CPU");
        return 0;
}
void vk_model_free(struct model *m) { (void)m; }
int vk_session_init(struct session *s, struct mu_err *err) { (void)s; (void)err; return 0; }
void vk_session_free(struct session *s) { (void)s; }
int vk_forward(struct session *s, int n, int p0, int want_logits, int *did_logits,
               struct mu_err *err)
{
        (void)s; (void)n; (void)p0; (void)want_logits; (void)err;
        *did_logits = 0;
        return 0;
}
int vk_session_shift(struct session *s, int n_keep, int n_discard, int n_past,
                     struct mu_err *err)
{
        (void)s; (void)n_keep; (void)n_discard; (void)n_past; (void)err;
        return 0;
}
int model_gpu_layers(const struct model *m) { (void)m; return 0; }
int model_gpu_output(const struct model *m) { (void)m; return 0; }
uint64_t model_gpu_mem(const struct model *m) { (void)m; return 0; }
const char *model_gpu_name(const struct model *m) { (void)m; return NULL; }

#endif
