/* test_synth.c -- every architecture the engine runs, on small random-weight
 * models written with our GGUF writer, against llama.cpp's logits for the
 * same file and tokens (tests/data/synth/<arch>.logits, made by
 * tools/synth-goldens.sh with tools/llamacpp-logits.mjs).
 *
 * The models exercise what real files of each family have: llama (tied
 * output, GQA), llama3 (rope_freqs.weight frequency factors, base 500000),
 * qwen2 (q/k/v biases, NeoX rope), qwen3 (QK-norm, head dim != n_embd /
 * n_head), gemma2 (embedding scale, GeGLU, post norms, attention and final
 * soft-capping, sliding window on even layers), gemma3 (QK-norm, 5 local : 1
 * global layers with their own rope base), phi3 (fused qkv and gate|up).
 * Weights are F32 (one F16 and one Q8_0 matrix per model); the vocabulary is
 * stories260K's (512 tokens), copied from tests/models.  The prompt is longer
 * than the sliding window, so windowed attention matters.
 *
 * MULLAMA_SYNTH_OUT=DIR keeps the generated files in DIR (used by
 * tools/synth-goldens.sh and tests/cli/quantize.sh). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/gguf.h"
#include "mullama/kernels.h"
#include "mullama/model.h"
#include "mullama/types.h"
#include "test.h"

/* The prompt: tools/synth-goldens.sh has the same list. */
static const int32_t synth_prompt[] = {1,   45,  310, 77,  402, 12,  260, 199, 31,  488, 5,
                                       140, 367, 91,  222, 18,  455, 63,  301, 150, 9,   420,
                                       274, 88};
#define N_PROMPT (int)(sizeof(synth_prompt) / sizeof(synth_prompt[0]))

struct synth_spec {
        const char *name, *arch;
        int n_embd, n_head, n_head_kv, head_dim, n_ff, n_layer;
        float rope_base;
        int tied, biases, qk_norm, post_norms, fused, rope_freqs;
        int n_swa;
        float attn_softcap, final_softcap;
};

static const struct synth_spec specs[] = {
        {"llama", "llama", 256, 4, 2, 64, 512, 2, 10000, 1, 0, 0, 0, 0, 0, 0, 0, 0},
        {"llama3", "llama", 256, 4, 1, 64, 512, 2, 500000, 0, 0, 0, 0, 0, 1, 0, 0, 0},
        {"qwen2", "qwen2", 256, 4, 2, 64, 512, 2, 1000000, 0, 1, 0, 0, 0, 0, 0, 0, 0},
        {"qwen3", "qwen3", 256, 8, 2, 64, 512, 2, 1000000, 1, 0, 1, 0, 0, 0, 0, 0, 0},
        {"gemma2", "gemma2", 256, 4, 2, 64, 512, 2, 10000, 1, 0, 0, 1, 0, 0, 8, 2.0f, 3.0f},
        {"gemma3", "gemma3", 256, 4, 1, 64, 512, 6, 1000000, 1, 0, 1, 1, 0, 0, 8, 0, 0},
        {"phi3", "phi3", 256, 4, 4, 64, 512, 2, 10000, 0, 0, 0, 0, 1, 0, 0, 0, 0},
};
#define N_SPECS (int)(sizeof(specs) / sizeof(specs[0]))

/* ---- a deterministic generator ------------------------------------------- */

struct synth {
        struct gguf_writer *w;
        uint64_t rng;
        void *bufs[256];
        int n_bufs;
};

static float rnd(struct synth *s) /* uniform in [-1, 1) */
{
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 7;
        s->rng ^= s->rng << 17;
        return (float)((double)(s->rng >> 11) / 4503599627370496.0 - 1.0);
}

/* Add a tensor [ne0] (ne1 == 0) or [ne0, ne1] with values base + scale * u. */
static int add(struct synth *s, const char *name, int type, int64_t ne0, int64_t ne1,
               float base, float scale)
{
        int64_t ne[2] = {ne0, ne1 ? ne1 : 1}, n = ne0 * ne[1];
        float *f = malloc((size_t)n * sizeof(float));
        struct mu_err err = {0};
        size_t size = mu_row_size(type, ne0) * (size_t)ne[1];
        void *data = type == MU_TYPE_F32 ? (void *)f : malloc(size);

        for (int64_t i = 0; i < n; i++)
                f[i] = base + scale * rnd(s);
        if (type != MU_TYPE_F32) {
                for (int64_t r = 0; r < ne[1]; r++)
                        quant_quantize_row(type, f + r * ne0,
                                           (char *)data + r * mu_row_size(type, ne0), ne0);
                free(f);
        }
        s->bufs[s->n_bufs++] = data;
        return gguf_writer_add_tensor(s->w, name, type, ne1 ? 2 : 1, ne, data, size, &err);
}

static void key_u32(struct synth *s, const char *arch, const char *k, uint32_t v)
{
        char key[128];
        snprintf(key, sizeof(key), "%s.%s", arch, k);
        gguf_writer_set_u32(s->w, key, v);
}

static void key_f32(struct synth *s, const char *arch, const char *k, float v)
{
        char key[128];
        snprintf(key, sizeof(key), "%s.%s", arch, k);
        gguf_writer_set_f32(s->w, key, v);
}

static int synth_write(const struct synth_spec *sp, const char *vocab_path, const char *out,
                       struct mu_err *err)
{
        struct synth s = {0};
        struct gguf *voc = NULL;
        const char *a = sp->arch;
        int64_t E = sp->n_embd, hd = sp->head_dim, qd = sp->n_head * hd,
                kd = sp->n_head_kv * hd, F = sp->n_ff, V;
        float ws = 0.08f;
        char n[96];
        int rc;

        if ((rc = gguf_open(&voc, vocab_path, err)) < 0)
                return rc;
        s.w = gguf_writer_create();
        s.rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)strlen(sp->name) * 7919u ^
                (uint64_t)(unsigned char)sp->name[0] << 32 ^ (uint64_t)(unsigned char)sp->name[1] << 40;
        gguf_writer_set_str(s.w, "general.architecture", a);
        gguf_writer_set_str(s.w, "general.name", "random test model");
        key_u32(&s, a, "context_length", 2048);
        key_u32(&s, a, "embedding_length", (uint32_t)E);
        key_u32(&s, a, "block_count", (uint32_t)sp->n_layer);
        key_u32(&s, a, "feed_forward_length", (uint32_t)F);
        key_u32(&s, a, "attention.head_count", (uint32_t)sp->n_head);
        key_u32(&s, a, "attention.head_count_kv", (uint32_t)sp->n_head_kv);
        key_u32(&s, a, "attention.key_length", (uint32_t)hd);
        key_u32(&s, a, "attention.value_length", (uint32_t)hd);
        key_u32(&s, a, "rope.dimension_count", (uint32_t)hd);
        key_f32(&s, a, "rope.freq_base", sp->rope_base);
        key_f32(&s, a, "attention.layer_norm_rms_epsilon", 1e-6f);
        if (sp->n_swa)
                key_u32(&s, a, "attention.sliding_window", (uint32_t)sp->n_swa);
        if (sp->attn_softcap > 0)
                key_f32(&s, a, "attn_logit_softcapping", sp->attn_softcap);
        if (sp->final_softcap > 0)
                key_f32(&s, a, "final_logit_softcapping", sp->final_softcap);
        for (int64_t i = 0; i < gguf_n_kv(voc); i++)
                if (!strncmp(gguf_key(voc, i), "tokenizer.", 10))
                        gguf_writer_copy_kv(s.w, voc, i);
        V = gguf_tensor(voc, gguf_find_tensor(voc, "token_embd.weight"))->ne[1];

        rc = add(&s, "token_embd.weight", MU_TYPE_F32, E, V, 0, 0.5f);
        if (!rc)
                rc = add(&s, "output_norm.weight", MU_TYPE_F32, E, 0, 1, 0.2f);
        if (!rc && !sp->tied)
                rc = add(&s, "output.weight", MU_TYPE_F16, E, V, 0, ws);
        if (!rc && sp->rope_freqs) {
                /* llama3-style factors: 1 for high frequencies up to 8 for low */
                float fac[128];
                int64_t ne = hd / 2;
                for (int i = 0; i < ne; i++)
                        fac[i] = i < ne / 4 ? 1.0f : i < ne / 2 ? 1.0f + 7.0f * (i - ne / 4) / (ne / 4) : 8.0f;
                float *d = malloc((size_t)ne * sizeof(float));
                memcpy(d, fac, (size_t)ne * sizeof(float));
                s.bufs[s.n_bufs++] = d;
                rc = gguf_writer_add_tensor(s.w, "rope_freqs.weight", MU_TYPE_F32, 1, &ne, d,
                                            (size_t)ne * sizeof(float), err);
        }
        for (int il = 0; !rc && il < sp->n_layer; il++) {
#define T(suffix, type, ne0, ne1, base, scale)                                         \
        do {                                                                            \
                snprintf(n, sizeof(n), "blk.%d.%s", il, suffix);                        \
                if (!rc)                                                                \
                        rc = add(&s, n, type, ne0, ne1, base, scale);                   \
        } while (0)
                T("attn_norm.weight", MU_TYPE_F32, E, 0, 1, 0.2f);
                if (sp->fused) {
                        T("attn_qkv.weight", MU_TYPE_F32, E, qd + 2 * kd, 0, ws);
                } else {
                        T("attn_q.weight", MU_TYPE_F32, E, qd, 0, ws);
                        T("attn_k.weight", MU_TYPE_F32, E, kd, 0, ws);
                        T("attn_v.weight", il == 0 ? MU_TYPE_Q8_0 : MU_TYPE_F32, E, kd, 0, ws);
                }
                if (sp->biases) {
                        T("attn_q.bias", MU_TYPE_F32, qd, 0, 0, 0.3f);
                        T("attn_k.bias", MU_TYPE_F32, kd, 0, 0, 0.3f);
                        T("attn_v.bias", MU_TYPE_F32, kd, 0, 0, 0.3f);
                }
                if (sp->qk_norm) {
                        T("attn_q_norm.weight", MU_TYPE_F32, hd, 0, 1, 0.2f);
                        T("attn_k_norm.weight", MU_TYPE_F32, hd, 0, 1, 0.2f);
                }
                T("attn_output.weight", MU_TYPE_F32, qd, E, 0, ws);
                if (sp->post_norms)
                        T("post_attention_norm.weight", MU_TYPE_F32, E, 0, 1, 0.2f);
                T("ffn_norm.weight", MU_TYPE_F32, E, 0, 1, 0.2f);
                if (sp->fused) {
                        T("ffn_up.weight", MU_TYPE_F32, E, 2 * F, 0, ws);
                } else {
                        T("ffn_gate.weight", MU_TYPE_F32, E, F, 0, ws);
                        T("ffn_up.weight", MU_TYPE_F32, E, F, 0, ws);
                }
                T("ffn_down.weight", MU_TYPE_F32, F, E, 0, ws);
                if (sp->post_norms)
                        T("post_ffw_norm.weight", MU_TYPE_F32, E, 0, 1, 0.2f);
#undef T
        }
        if (rc)
                mu_fail(err, rc, "synth %s: cannot add a tensor", sp->name);
        else
                rc = gguf_writer_write(s.w, out, err);
        for (int i = 0; i < s.n_bufs; i++)
                free(s.bufs[i]);
        gguf_writer_free(s.w);
        gguf_close(voc);
        return rc;
}

/* ---- the tests ------------------------------------------------------------ */

static int read_golden(const char *name, float *out, int max, int *n_out)
{
        const char *p = test_data(name);
        FILE *f = p ? fopen(p, "r") : NULL;
        char line[4096];
        int n = 0, tok_ok = 0;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                if (line[0] == '#')
                        continue;
                if (!strncmp(line, "tokens ", 7)) {
                        int k = 0;
                        tok_ok = 1;
                        for (char *q = line + 7; *q && *q != '\n';) {
                                long v = strtol(q, &q, 10);
                                if (k >= N_PROMPT || v != synth_prompt[k])
                                        tok_ok = 0;
                                k++;
                                if (*q == ',')
                                        q++;
                        }
                        if (k != N_PROMPT)
                                tok_ok = 0;
                        continue;
                }
                if (n < max && sscanf(line, "%f", &out[n]) == 1)
                        n++;
        }
        fclose(f);
        *n_out = n;
        return tok_ok ? 0 : -2;
}

static void check_arch(const char *name)
{
        const struct synth_spec *sp = NULL;
        const char *vocab = test_model("stories260K.gguf");
        const char *keep = getenv("MULLAMA_SYNTH_OUT");
        char *dir = NULL, path[1024], golden[128];
        struct mu_err err = {0};
        struct model *m = NULL;
        struct session *s = NULL;
        struct model_params mp = model_default_params();
        struct session_params ssp = session_default_params();
        float want[512];
        int n_want = 0;

        for (int i = 0; i < N_SPECS; i++)
                if (!strcmp(specs[i].name, name))
                        sp = &specs[i];
        if (!vocab)
                TEST_SKIP("stories260K.gguf (the vocabulary) not in tests/models");
        if (keep) {
                snprintf(path, sizeof(path), "%s/synth-%s.gguf", keep, name);
        } else {
                dir = test_tmpdir();
                snprintf(path, sizeof(path), "%s/synth-%s.gguf", dir, name);
        }
        CHECK(sp && synth_write(sp, vocab, path, &err) == 0);
        CHECK_MSG(model_load(&m, path, &mp, &err) == 0, "model_load: %s", err.msg);
        snprintf(golden, sizeof(golden), "synth/%s.logits", name);
        int rg = read_golden(golden, want, 512, &n_want);
        CHECK_MSG(rg == 0 && n_want == 512, "%s: missing, wrong prompt or %d values (run "
                  "tools/synth-goldens.sh)", golden, n_want);
        ssp.n_ctx = 64;
        ssp.n_threads = 2;
        ssp.n_batch = 7; /* several batches, one partial */
        if (m)
                CHECK(session_create(&s, m, &ssp, &err) == 0);
        if (s && rg == 0 && n_want == 512) {
                CHECK(session_eval(s, synth_prompt, N_PROMPT, &err) == 0);
                const float *lg = session_logits(s);
                double maxd = 0, maxa = 0;
                int am = 0, aw = 0;
                for (int i = 0; i < 512; i++) {
                        maxd = fmax(maxd, fabs(lg[i] - want[i]));
                        maxa = fmax(maxa, fabs(want[i]));
                        if (lg[i] > lg[am])
                                am = i;
                        if (want[i] > want[aw])
                                aw = i;
                }
                if (getenv("MULLAMA_TEST_VERBOSE"))
                        fprintf(stderr, "  synth %s: max |logit - llama.cpp| %.2e (max |logit| "
                                "%.2f)\n", name, maxd, maxa);
                CHECK_MSG(maxd <= 2e-3 * fmax(1.0, maxa), "%s: max |logit - llama.cpp| = %g "
                          "(max |logit| %g)", name, maxd, maxa);
                CHECK_EQ_INT(am, aw);
        }
        session_free(s);
        model_free(m);
        free(dir);
}

TEST(synth_llama_matches_llamacpp) { check_arch("llama"); }
TEST(synth_llama3_matches_llamacpp) { check_arch("llama3"); }
TEST(synth_qwen2_matches_llamacpp) { check_arch("qwen2"); }
TEST(synth_qwen3_matches_llamacpp) { check_arch("qwen3"); }
TEST(synth_gemma2_matches_llamacpp) { check_arch("gemma2"); }
TEST(synth_gemma3_matches_llamacpp) { check_arch("gemma3"); }
TEST(synth_phi3_matches_llamacpp) { check_arch("phi3"); }

/* KV cache types on F32 weights (no activation rounding elsewhere): F16
 * keys/values change the logits far less than Q8_0, and Q8_0 stays within
 * its 8-bit rounding. */
TEST(synth_kv_cache_types_f32_f16_q8_0)
{
        const char *vocab = test_model("stories260K.gguf");
        char *dir, path[1024];
        struct mu_err err = {0};
        struct model *m = NULL;
        struct model_params mp = model_default_params();
        static const int kv[3] = {MU_TYPE_F32, MU_TYPE_F16, MU_TYPE_Q8_0};
        float lg[3][512];
        int ok = 1;

        if (!vocab)
                TEST_SKIP("stories260K.gguf (the vocabulary) not in tests/models");
        dir = test_tmpdir();
        snprintf(path, sizeof(path), "%s/synth-gemma3.gguf", dir);
        CHECK(synth_write(&specs[5], vocab, path, &err) == 0);
        CHECK(model_load(&m, path, &mp, &err) == 0);
        for (int k = 0; m && k < 3; k++) {
                struct session *s = NULL;
                struct session_params sp = session_default_params();
                sp.n_ctx = 64;
                sp.n_threads = 2;
                sp.kv_type = kv[k];
                CHECK(session_create(&s, m, &sp, &err) == 0);
                ok = ok && s && session_eval(s, synth_prompt, N_PROMPT, &err) == 0;
                if (ok)
                        memcpy(lg[k], session_logits(s), sizeof(lg[k]));
                session_free(s);
        }
        CHECK(ok);
        if (m && ok) {
                double d16 = 0, d8 = 0, mx = 0;
                for (int i = 0; i < 512; i++) {
                        d16 = fmax(d16, fabs(lg[1][i] - lg[0][i]));
                        d8 = fmax(d8, fabs(lg[2][i] - lg[0][i]));
                        mx = fmax(mx, fabs(lg[0][i]));
                }
                if (getenv("MULLAMA_TEST_VERBOSE"))
                        fprintf(stderr, "  max |logit - f32 kv|: f16 %.2e, q8_0 %.2e (max |logit| "
                                "%.1f)\n", d16, d8, mx);
                CHECK_MSG(d16 < 2e-3 * mx, "f16 kv: %g", d16);
                CHECK_MSG(d8 < 3e-2 * mx, "q8_0 kv: %g", d8);
                CHECK_MSG(d16 < d8, "f16 (%g) should be closer than q8_0 (%g)", d16, d8);
        }
        model_free(m);
        free(dir);
}
