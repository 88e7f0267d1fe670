/* model.c -- model_load(): hyperparameters from the GGUF's `<arch>.*` keys
 * (llama.cpp's defaults when a key is absent) and zero-copy tensor views into
 * the file's mmap, each checked for presence, shape and a runnable type.
 * See include/mullama/model.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "mullama/gguf.h"
#include "mullama/kernels.h"

struct arch_info {
        const char *name;
        enum model_arch arch;
};

static const struct arch_info arch_table[] = {
        {"llama", ARCH_LLAMA}, {"mistral", ARCH_LLAMA}, {"qwen2", ARCH_QWEN2},
        {"qwen3", ARCH_QWEN3}, {"gemma2", ARCH_GEMMA2}, {"gemma3", ARCH_GEMMA3},
        {"phi3", ARCH_PHI3},
};

struct model_params model_default_params(void)
{
        struct model_params p = {0, 1};
        return p;
}

/* ---- keys --------------------------------------------------------------- */

static int key_i(const struct gguf *g, const char *arch, const char *suffix, int *out,
                 int required, struct mu_err *err)
{
        char key[128];
        int64_t v;
        int rc;

        snprintf(key, sizeof(key), "%s.%s", arch, suffix);
        rc = gguf_get_i64(g, key, &v);
        if (rc == MU_ENOTFOUND) {
                if (required)
                        return mu_fail(err, MU_EFORMAT, "missing key '%s'", key);
                return 0;
        }
        if (rc < 0)
                return mu_fail(err, MU_EFORMAT, "key '%s' is not an integer", key);
        if (v < 0 || v > (1 << 30))
                return mu_fail(err, MU_EFORMAT, "key '%s' = %lld out of range", key,
                               (long long)v);
        *out = (int)v;
        return 0;
}

/* head_count may be an array (per layer) in some files: take element 0. */
static int key_i_or_arr(const struct gguf *g, const char *arch, const char *suffix,
                        int *out, int required, struct mu_err *err)
{
        char key[128];
        struct gguf_arr a;

        snprintf(key, sizeof(key), "%s.%s", arch, suffix);
        if (gguf_get_arr(g, key, &a) == 0) {
                if (a.n == 0 || a.type == GGUF_TYPE_STRING)
                        return mu_fail(err, MU_EFORMAT, "key '%s' is an empty array", key);
                int64_t v0 = gguf_arr_i64(&a, 0);
                for (uint64_t i = 1; i < a.n; i++)
                        if (gguf_arr_i64(&a, i) != v0)
                                return mu_fail(err, MU_EUNSUPPORTED,
                                               "per-layer '%s' values differ", key);
                if (v0 < 0 || v0 > (1 << 30))
                        return mu_fail(err, MU_EFORMAT, "key '%s' out of range", key);
                *out = (int)v0;
                return 0;
        }
        return key_i(g, arch, suffix, out, required, err);
}

static void key_f(const struct gguf *g, const char *arch, const char *suffix, float *out)
{
        char key[128];
        double v;

        snprintf(key, sizeof(key), "%s.%s", arch, suffix);
        if (gguf_get_f64(g, key, &v) == 0)
                *out = (float)v;
}

static int read_hparams(struct model *m, struct mu_err *err)
{
        const struct gguf *g = m->g;
        const char *a = m->arch_name;
        struct model_hparams *hp = &m->hp;
        int rc;

        memset(hp, 0, sizeof(*hp));
        if ((rc = key_i(g, a, "embedding_length", &hp->n_embd, 1, err)) < 0 ||
            (rc = key_i(g, a, "block_count", &hp->n_layer, 1, err)) < 0 ||
            (rc = key_i_or_arr(g, a, "feed_forward_length", &hp->n_ff, 1, err)) < 0 ||
            (rc = key_i_or_arr(g, a, "attention.head_count", &hp->n_head, 1, err)) < 0)
                return rc;
        hp->n_ctx_train = 2048;
        hp->n_head_kv = hp->n_head;
        if ((rc = key_i(g, a, "context_length", &hp->n_ctx_train, 0, err)) < 0 ||
            (rc = key_i_or_arr(g, a, "attention.head_count_kv", &hp->n_head_kv, 0, err)) < 0)
                return rc;
        if (hp->n_embd <= 0 || hp->n_layer <= 0 || hp->n_head <= 0 || hp->n_head_kv <= 0 ||
            hp->n_ff <= 0 || hp->n_layer > 4096)
                return mu_fail(err, MU_EFORMAT, "bad hyperparameters (n_embd %d, n_layer %d, "
                               "n_head %d, n_head_kv %d, n_ff %d)", hp->n_embd, hp->n_layer,
                               hp->n_head, hp->n_head_kv, hp->n_ff);
        if (hp->n_head % hp->n_head_kv != 0)
                return mu_fail(err, MU_EFORMAT, "head_count %d is not a multiple of "
                               "head_count_kv %d", hp->n_head, hp->n_head_kv);
        hp->head_dim_k = hp->n_embd / hp->n_head;
        hp->head_dim_v = hp->head_dim_k;
        if ((rc = key_i(g, a, "attention.key_length", &hp->head_dim_k, 0, err)) < 0 ||
            (rc = key_i(g, a, "attention.value_length", &hp->head_dim_v, 0, err)) < 0)
                return rc;
        hp->n_rot = hp->head_dim_k;
        if ((rc = key_i(g, a, "rope.dimension_count", &hp->n_rot, 0, err)) < 0)
                return rc;
        if (hp->head_dim_k <= 0 || hp->head_dim_v <= 0 || hp->n_rot <= 0 ||
            hp->n_rot > hp->head_dim_k || hp->n_rot % 2)
                return mu_fail(err, MU_EFORMAT, "bad head dims (key %d, value %d, rope %d)",
                               hp->head_dim_k, hp->head_dim_v, hp->n_rot);
        hp->rope_freq_base = 10000.0f;
        hp->rope_freq_scale = 1.0f;
        hp->rope_attn_factor = 1.0f;
        hp->norm_eps = 1e-5f;
        key_f(g, a, "rope.freq_base", &hp->rope_freq_base);
        hp->rope_freq_base_swa = hp->rope_freq_base;
        key_f(g, a, "attention.layer_norm_rms_epsilon", &hp->norm_eps);
        {
                char key[128];
                const char *st;
                float factor = 0;

                snprintf(key, sizeof(key), "%s.rope.scaling.type", a);
                st = gguf_get_str(g, key);
                key_f(g, a, "rope.scaling.factor", &factor);
                if (factor == 0)
                        key_f(g, a, "rope.scale_linear", &factor);
                if (st && strcmp(st, "none") != 0 && strcmp(st, "linear") != 0 &&
                    strcmp(st, "longrope") != 0 && !(strcmp(st, "yarn") == 0 && factor <= 1))
                        return mu_fail(err, MU_EUNSUPPORTED, "rope scaling type '%s'", st);
                if (factor > 0 && (!st || strcmp(st, "linear") == 0))
                        hp->rope_freq_scale = 1.0f / factor;
                key_f(g, a, "rope.scaling.attn_factor", &hp->rope_attn_factor);
        }
        hp->rope_neox = m->arch != ARCH_LLAMA;
        hp->attn_scale = 1.0f / sqrtf((float)hp->head_dim_k);
        hp->embd_scale = 1.0f;
        if (m->arch == ARCH_GEMMA2 || m->arch == ARCH_GEMMA3) {
                hp->embd_scale = sqrtf((float)hp->n_embd);
                hp->norm_eps = 1e-6f;
                key_f(g, a, "attention.layer_norm_rms_epsilon", &hp->norm_eps);
                if (m->arch == ARCH_GEMMA2)
                        hp->n_swa = 4096; /* llama.cpp's default for gemma2 */
                if ((rc = key_i(g, a, "attention.sliding_window", &hp->n_swa, 0, err)) < 0)
                        return rc;
                if (m->arch == ARCH_GEMMA2) {
                        hp->attn_softcap = 50.0f;
                        hp->final_softcap = 30.0f;
                        key_f(g, a, "attn_logit_softcapping", &hp->attn_softcap);
                } else {
                        hp->rope_freq_base_swa = 10000.0f;
                        key_f(g, a, "rope.freq_base_swa", &hp->rope_freq_base_swa);
                }
                key_f(g, a, "final_logit_softcapping", &hp->final_softcap);
                /* gemma_pytorch: query_pre_attn_scalar is n_embd / n_head for
                 * the 27B models, the head dim otherwise (llama.cpp). */
                int big = (m->arch == ARCH_GEMMA2 && hp->n_layer == 46) ||
                          (m->arch == ARCH_GEMMA3 && hp->n_layer == 62);
                hp->attn_scale = 1.0f / sqrtf(big ? (float)(hp->n_embd / hp->n_head)
                                                  : (float)hp->head_dim_k);
        }
        return 0;
}

/* ---- tensors ------------------------------------------------------------ */

/* Bind name to t.  ne1 == 0: a 1-D tensor of ne0.  Missing: error unless
 * optional. */
static int bind(struct model *m, struct mu_tensor *t, const char *name, int64_t ne0,
                int64_t ne1, int optional, struct mu_err *err)
{
        int64_t i = gguf_find_tensor(m->g, name);

        memset(t, 0, sizeof(*t));
        if (i < 0) {
                if (optional)
                        return 0;
                return mu_fail(err, MU_EFORMAT, "missing tensor '%s'", name);
        }
        gguf_tensor_view(m->g, i, t);
        int64_t want1 = ne1 ? ne1 : 1;
        if (t->ne[0] != ne0 || t->ne[1] != want1 || t->ne[2] != 1 || t->ne[3] != 1)
                return mu_fail(err, MU_EFORMAT,
                               "tensor '%s' has shape [%lld, %lld, %lld], expected [%lld, %lld]",
                               name, (long long)t->ne[0], (long long)t->ne[1],
                               (long long)t->ne[2], (long long)ne0, (long long)want1);
        if (ne1 == 0 && t->type != MU_TYPE_F32)
                return mu_fail(err, MU_EUNSUPPORTED, "tensor '%s' has type %s, expected F32",
                               name, mu_type_name(t->type));
        if (ne1 == 0 && (uintptr_t)t->data % sizeof(float))
                return mu_fail(err, MU_EFORMAT, "tensor '%s' is misaligned", name);
        if (ne1 != 0 && !quant_supported(t->type))
                return mu_fail(err, MU_EUNSUPPORTED, "tensor '%s' has type %s, which this "
                               "engine cannot run", name, mu_type_name(t->type));
        return 0;
}

static int bind_layer(struct model *m, int il, struct mu_err *err)
{
        const struct model_hparams *hp = &m->hp;
        struct layer *l = &m->layers[il];
        int64_t e = hp->n_embd, qd = (int64_t)hp->n_head * hp->head_dim_k,
                kd = (int64_t)hp->n_head_kv * hp->head_dim_k,
                vd = (int64_t)hp->n_head_kv * hp->head_dim_v, od = (int64_t)hp->n_head * hp->head_dim_v;
        int gemma = m->arch == ARCH_GEMMA2 || m->arch == ARCH_GEMMA3;
        char n[96];
        int rc = 0;

#define B(field, suffix, ne0, ne1, opt)                                        \
        do {                                                                   \
                snprintf(n, sizeof(n), "blk.%d.%s", il, suffix);               \
                if ((rc = bind(m, &l->field, n, ne0, ne1, opt, err)) < 0)      \
                        return rc;                                             \
        } while (0)

        B(attn_norm, "attn_norm.weight", e, 0, 0);
        if (m->arch == ARCH_PHI3 && gguf_find_tensor(m->g, "blk.0.attn_qkv.weight") >= 0) {
                m->fused_qkv = 1;
                B(wqkv, "attn_qkv.weight", e, qd + kd + vd, 0);
        } else {
                B(wq, "attn_q.weight", e, qd, 0);
                B(wk, "attn_k.weight", e, kd, 0);
                B(wv, "attn_v.weight", e, vd, 0);
                B(bq, "attn_q.bias", qd, 0, m->arch != ARCH_QWEN2);
                B(bk, "attn_k.bias", kd, 0, m->arch != ARCH_QWEN2);
                B(bv, "attn_v.bias", vd, 0, m->arch != ARCH_QWEN2);
        }
        B(wo, "attn_output.weight", od, e, 0);
        if (m->arch == ARCH_QWEN3 || m->arch == ARCH_GEMMA3) {
                B(q_norm, "attn_q_norm.weight", hp->head_dim_k, 0, 0);
                B(k_norm, "attn_k_norm.weight", hp->head_dim_k, 0, 0);
        }
        if (gemma) {
                B(attn_post_norm, "post_attention_norm.weight", e, 0, 0);
                B(ffn_post_norm, "post_ffw_norm.weight", e, 0, 0);
        }
        B(ffn_norm, "ffn_norm.weight", e, 0, 0);
        if (m->arch == ARCH_PHI3) {
                m->fused_up = 1;
                B(ffn_up, "ffn_up.weight", e, 2 * (int64_t)hp->n_ff, 0);
        } else {
                B(ffn_gate, "ffn_gate.weight", e, hp->n_ff, 0);
                B(ffn_up, "ffn_up.weight", e, hp->n_ff, 0);
        }
        B(ffn_down, "ffn_down.weight", hp->n_ff, e, 0);
#undef B

        /* sliding window: gemma3 5 local : 1 global, gemma2 alternate (even
         * layers local); a sliding_window_pattern key overrides the period. */
        l->rope_base = hp->rope_freq_base;
        if (hp->n_swa > 0 && gemma) {
                int period = m->arch == ARCH_GEMMA3 ? 6 : 2;
                char key[128];
                struct gguf_arr arr;
                int64_t v;

                snprintf(key, sizeof(key), "%s.attention.sliding_window_pattern", m->arch_name);
                if (gguf_get_arr(m->g, key, &arr) == 0 && arr.type != GGUF_TYPE_STRING &&
                    (uint64_t)il < arr.n) {
                        l->is_swa = gguf_arr_i64(&arr, (uint64_t)il) != 0;
                } else {
                        if (gguf_get_i64(m->g, key, &v) == 0 && v >= 0 && v < 1000)
                                period = (int)v;
                        l->is_swa = period == 0 || il % period < period - 1;
                }
                if (l->is_swa && m->arch == ARCH_GEMMA3)
                        l->rope_base = hp->rope_freq_base_swa;
        }
        return 0;
}

/* rope frequency factors: llama3's rope_freqs.weight, phi3's long/short. */
static int bind_rope_factors(struct model *m, struct mu_err *err)
{
        const struct model_hparams *hp = &m->hp;
        struct mu_tensor t;
        const char *names[] = {"rope_freqs.weight", NULL, NULL};
        int rc;

        if (m->arch == ARCH_PHI3) {
                /* llama.cpp picks the long factors only when the context
                 * exceeds the original one; sessions default to <= 4096 */
                names[1] = "rope_factors_short.weight";
        }
        for (int i = 0; names[i]; i++) {
                if ((rc = bind(m, &t, names[i], hp->n_rot / 2, 0, 1, err)) < 0)
                        return rc;
                if (t.data) {
                        for (int il = 0; il < hp->n_layer; il++)
                                m->layers[il].rope_factors = t.data;
                        return 0;
                }
        }
        return 0;
}

int model_load(struct model **out, const char *path, const struct model_params *p,
               struct mu_err *err)
{
        struct model *m;
        const char *a;
        int rc;

        *out = NULL;
        m = mu_xcalloc(1, sizeof(*m));
        if ((rc = gguf_open(&m->g, path, err)) < 0) {
                free(m);
                return rc;
        }
        a = gguf_get_str(m->g, "general.architecture");
        if (!a) {
                rc = mu_fail(err, MU_EFORMAT, "missing key 'general.architecture'");
                goto fail;
        }
        rc = MU_EUNSUPPORTED;
        for (size_t i = 0; i < sizeof(arch_table) / sizeof(arch_table[0]); i++) {
                if (strcmp(a, arch_table[i].name) == 0) {
                        m->arch = arch_table[i].arch;
                        m->arch_name = arch_table[i].name;
                        rc = 0;
                }
        }
        if (rc < 0) {
                mu_fail(err, rc, "unsupported architecture '%s'", a);
                goto fail;
        }
        if ((rc = read_hparams(m, err)) < 0)
                goto fail;
        /* vocab size: token_embd rows */
        {
                int64_t i = gguf_find_tensor(m->g, "token_embd.weight");
                if (i < 0) {
                        rc = mu_fail(err, MU_EFORMAT, "missing tensor 'token_embd.weight'");
                        goto fail;
                }
                const struct gguf_tensor_info *ti = gguf_tensor(m->g, i);
                if (ti->ne[1] <= 0 || ti->ne[1] > (1 << 24)) {
                        rc = mu_fail(err, MU_EFORMAT, "bad vocabulary size %lld",
                                     (long long)ti->ne[1]);
                        goto fail;
                }
                m->hp.n_vocab = (int)ti->ne[1];
        }
        if ((rc = bind(m, &m->tok_embd, "token_embd.weight", m->hp.n_embd, m->hp.n_vocab, 0,
                       err)) < 0 ||
            (rc = bind(m, &m->output_norm, "output_norm.weight", m->hp.n_embd, 0, 0, err)) < 0 ||
            (rc = bind(m, &m->output, "output.weight", m->hp.n_embd, m->hp.n_vocab, 1, err)) < 0)
                goto fail;
        if (!m->output.data)
                m->output = m->tok_embd;  /* tied embeddings */
        m->layers = mu_xcalloc((size_t)m->hp.n_layer, sizeof(*m->layers));
        for (int il = 0; il < m->hp.n_layer; il++)
                if ((rc = bind_layer(m, il, err)) < 0)
                        goto fail;
        if ((rc = bind_rope_factors(m, err)) < 0)
                goto fail;
        m->gpu_first = m->hp.n_layer;
        if (p && p->n_gpu_layers != 0 && (rc = vk_model_init(m, p->n_gpu_layers, err)) < 0)
                goto fail;
        for (int64_t i = 0; i < gguf_n_tensors(m->g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(m->g, i);
                m->size_bytes += t->size;
                m->n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        }
        *out = m;
        return 0;
fail:
        mu_err_prefix(err, "%s", path);
        model_free(m);
        return rc;
}

void model_free(struct model *m)
{
        if (!m)
                return;
        vk_model_free(m);
        gguf_close(m->g);
        free(m->layers);
        free(m);
}

const struct model_hparams *model_hparams(const struct model *m) { return &m->hp; }
const struct gguf *model_gguf(const struct model *m) { return m->g; }
const char *model_arch_name(const struct model *m) { return m->arch_name; }
int model_n_vocab(const struct model *m) { return m->hp.n_vocab; }
int model_n_ctx_train(const struct model *m) { return m->hp.n_ctx_train; }
int model_n_layer(const struct model *m) { return m->hp.n_layer; }
int model_n_embd(const struct model *m) { return m->hp.n_embd; }
uint64_t model_size_bytes(const struct model *m) { return m->size_bytes; }
uint64_t model_n_params(const struct model *m) { return m->n_params; }

int model_layer_is_swa(const struct model *m, int il)
{
        return il >= 0 && il < m->hp.n_layer && m->layers[il].is_swa;
}
