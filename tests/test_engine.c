/* test_engine.c -- the transformer engine against reference outputs:
 *   - stories260K: logits after BOS vs a float64 numpy forward pass, and the
 *     greedy continuation vs llama2.c's run.c output (tests/models/README.md);
 *   - llama-2-tiny-random (F16): logits after BOS;
 *   - SmolLM2-135M Q4_1 and gemma-3-270m Q4_K_M: greedy continuations of the
 *     prompts in tests/data/engine/prompts vs llama.cpp (the JSONL files made
 *     by tests/data/engine/regen.sh).  A divergence passes only when it is
 *     listed in tests/data/engine/divergences.txt and our own top-2 logit gap
 *     there is < 1e-2 (a near tie that float rounding may flip);
 *   - invariances: batch size, thread count, truncate, context shift;
 *   - errors: context overflow, bad token, cancel, unsupported architecture. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/model.h"
#include "mullama/types.h"
#include "test.h"

static struct model *load(const char *path)
{
        struct mu_err err = {0};
        struct model *m = NULL;
        struct model_params mp = model_default_params();

        if (model_load(&m, path, &mp, &err) < 0)
                test_fail_at(__FILE__, __LINE__, "model_load: %s", err.msg);
        return m;
}

static struct session *open_session(struct model *m, int n_ctx, int n_threads, int n_batch,
                                    int kv_type)
{
        struct mu_err err = {0};
        struct session *s = NULL;
        struct session_params sp = session_default_params();

        sp.n_ctx = n_ctx;
        sp.n_threads = n_threads;
        sp.n_batch = n_batch;
        sp.kv_type = kv_type;
        if (session_create(&s, m, &sp, &err) < 0)
                test_fail_at(__FILE__, __LINE__, "session_create: %s", err.msg);
        return s;
}

static int argmax(const float *x, int n)
{
        int best = 0;
        for (int i = 1; i < n; i++)
                if (x[i] > x[best])
                        best = i;
        return best;
}

static float top2_gap(const float *x, int n)
{
        int a = argmax(x, n);
        float second = -INFINITY;
        for (int i = 0; i < n; i++)
                if (i != a && x[i] > second)
                        second = x[i];
        return x[a] - second;
}

/* Evaluate prompt, then greedily generate n tokens into out (the first from
 * the prompt's logits).  Returns the number generated, -1 on error.
 * gaps (optional) gets our top-2 gap at each step. */
static int greedy(struct session *s, const int32_t *prompt, int n_prompt, int n, int32_t *out,
                  float *gaps)
{
        struct mu_err err = {0};
        int nv = model_n_vocab(session_model(s));

        if (session_eval(s, prompt, n_prompt, &err) < 0) {
                test_fail_at(__FILE__, __LINE__, "session_eval: %s", err.msg);
                return -1;
        }
        for (int i = 0; i < n; i++) {
                const float *lg = session_logits(s);
                out[i] = argmax(lg, nv);
                if (gaps)
                        gaps[i] = top2_gap(lg, nv);
                if (i + 1 < n && session_eval(s, &out[i], 1, &err) < 0) {
                        test_fail_at(__FILE__, __LINE__, "session_eval: %s", err.msg);
                        return -1;
                }
        }
        return n;
}

static int read_floats(const char *path, float *out, int max)
{
        FILE *f = fopen(path, "r");
        int n = 0;

        if (!f)
                return -1;
        while (n < max && fscanf(f, "%f", &out[n]) == 1)
                n++;
        fclose(f);
        return n;
}

/* ---- stories260K --------------------------------------------------------- */

TEST(engine_stories260k_logits_pos0)
{
        NEED_MODEL(path, "stories260K.gguf");
        const char *ref = test_model("stories260K.logits_pos0.txt");
        float want[512];
        int32_t bos = 1;
        struct mu_err err = {0};

        CHECK(ref != NULL);
        if (!ref || read_floats(ref, want, 512) != 512)
                return;
        struct model *m = load(path);
        if (!m)
                return;
        CHECK_STR(model_arch_name(m), "llama");
        CHECK_EQ_INT(model_n_vocab(m), 512);
        CHECK_EQ_INT(model_n_params(m), 292800);
        struct session *s = open_session(m, 256, 1, 32, MU_TYPE_F32);
        if (s) {
                CHECK(session_eval(s, &bos, 1, &err) == 0);
                const float *lg = session_logits(s);
                double maxd = 0;
                for (int i = 0; i < 512; i++)
                        maxd = fmax(maxd, fabs(lg[i] - want[i]));
                CHECK_MSG(maxd <= 1e-4, "max |logit - ref| = %g", maxd);
                CHECK_EQ_INT(argmax(lg, 512), 403);
                CHECK_EQ_INT(session_n_past(s), 1);
        }
        session_free(s);
        model_free(m);
}

static int read_tokens(const char *path, int32_t *out, int max)
{
        FILE *f = fopen(path, "r");
        int n = 0;

        if (!f)
                return -1;
        while (n < max && fscanf(f, "%d", &out[n]) == 1)
                n++;
        fclose(f);
        return n;
}

static void stories_greedy(int kv_type, int n_threads, int n_check)
{
        const char *path = test_model("stories260K.gguf");
        const char *ref = test_model("stories260K.greedy200.tokens");
        int32_t want[201], got[200];

        if (!ref || read_tokens(ref, want, 201) != 201) {
                test_fail_at(__FILE__, __LINE__, "cannot read stories260K.greedy200.tokens");
                return;
        }
        struct model *m = load(path);
        if (!m)
                return;
        struct session *s = open_session(m, 512, n_threads, 32, kv_type);
        if (s && greedy(s, want, 1, 200, got, NULL) == 200) {
                int first_diff = -1;
                for (int i = 0; i < n_check && first_diff < 0; i++)
                        if (got[i] != want[i + 1])
                                first_diff = i;
                CHECK_MSG(first_diff < 0, "greedy token %d: got %d, want %d", first_diff,
                          first_diff >= 0 ? got[first_diff] : 0,
                          first_diff >= 0 ? want[first_diff + 1] : 0);
        }
        session_free(s);
        model_free(m);
}

TEST(engine_stories260k_greedy200_f32kv)
{
        NEED_MODEL(path, "stories260K.gguf");
        (void)path;
        stories_greedy(MU_TYPE_F32, 1, 200);
}

TEST(engine_stories260k_greedy200_f16kv_2threads)
{
        NEED_MODEL(path, "stories260K.gguf");
        (void)path;
        stories_greedy(MU_TYPE_F16, 2, 200);
}

/* ---- llama-2-tiny-random (F16 weights) ------------------------------------ */

TEST(engine_tiny_random_logits_pos0)
{
        NEED_MODEL(path, "llama-2-tiny-random.gguf");
        const char *ref = test_model("llama-2-tiny-random.logits_pos0.txt");
        static float want[32000];
        int32_t bos = 1;
        struct mu_err err = {0};

        CHECK(ref != NULL);
        if (!ref || read_floats(ref, want, 32000) != 32000)
                return;
        struct model *m = load(path);
        if (!m)
                return;
        struct session *s = open_session(m, 64, 1, 32, MU_TYPE_F16);
        if (s) {
                CHECK(session_eval(s, &bos, 1, &err) == 0);
                const float *lg = session_logits(s);
                double maxd = 0;
                for (int i = 0; i < 32000; i++)
                        maxd = fmax(maxd, fabs(lg[i] - want[i]));
                CHECK_MSG(maxd <= 1e-4, "max |logit - ref| = %g", maxd);
        }
        session_free(s);
        model_free(m);
}

/* ---- KV cache types -------------------------------------------------------- */

/* KV cache in F16 or Q8_0 (32-element blocks, one scale each) against F32 on
 * SmolLM2.  There the 8-bit activations of the Q4_1 matmuls dominate the
 * error (each cache type is 0.09-0.14 mean from a float64 forward pass) and
 * any change of the cache moves logits by ~0.1-0.4 chaotically; the greedy
 * continuation stays the same up to the first near tie (gap < 0.5).
 * test_synth.c checks the cache types against
 * each other tightly on F32 weights. */
TEST(engine_kv_q8_0_close_to_f16_and_f32)
{
        NEED_MODEL(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
        /* "Once upon a time, in a small village by the sea, there lived ..." */
        static const int32_t prompt[] = {6403, 1980, 253, 655, 28, 281, 253, 1165, 6560, 411,
                                         260, 3426, 28, 665, 4161, 354, 1573, 43663, 617};
        const int n = (int)(sizeof(prompt) / sizeof(prompt[0]));
        static const int kv[3] = {MU_TYPE_F32, MU_TYPE_F16, MU_TYPE_Q8_0};
        struct mu_err err = {0};
        float *lg[3] = {NULL, NULL, NULL};
        int32_t gen[3][8];
        float gap[3][8];
        struct model *m = load(path);
        int nv = m ? model_n_vocab(m) : 0;

        for (int k = 0; m && k < 3; k++) {
                struct session *s = open_session(m, 128, 2, 64, kv[k]);
                if (!s)
                        continue;
                CHECK(session_eval(s, prompt, n, &err) == 0);
                lg[k] = malloc((size_t)nv * sizeof(float));
                memcpy(lg[k], session_logits(s), (size_t)nv * sizeof(float));
                session_truncate(s, 0);
                CHECK(greedy(s, prompt, n, 8, gen[k], gap[k]) == 8);
                session_free(s);
        }
        if (lg[0] && lg[1] && lg[2]) {
                double d16 = 0, d8 = 0;
                for (int i = 0; i < nv; i++) {
                        d16 += fabs(lg[1][i] - lg[0][i]);
                        d8 += fabs(lg[2][i] - lg[0][i]);
                }
                d16 /= nv;
                d8 /= nv;
                if (getenv("MULLAMA_TEST_VERBOSE"))
                        fprintf(stderr, "  mean |logit - f32 kv|: f16 %.4f, q8_0 %.4f\n", d16, d8);
                CHECK_MSG(d16 < 0.6, "f16 kv: mean diff %g", d16);
                CHECK_MSG(d8 < 0.6, "q8_0 kv: mean diff %g", d8);
                CHECK_EQ_INT(argmax(lg[2], nv), argmax(lg[0], nv));
                /* the same tokens up to the first near tie of the f32 run (top-2
                 * gap under the cache noise: measured 0.15 at step 2 once the
                 * AMX gemm changed the rounding) */
                int same = 0;
                while (same < 8 && gap[0][same] >= 0.5f)
                        same++;
                CHECK_MSG(same >= 2, "f32 kv: near tie already at step %d", same);
                CHECK(!memcmp(gen[1], gen[0], sizeof(int32_t) * (size_t)same));
                CHECK(!memcmp(gen[2], gen[0], sizeof(int32_t) * (size_t)same));
        }
        for (int k = 0; k < 3; k++)
                free(lg[k]);
        model_free(m);
}

TEST(engine_kv_q8_0_needs_block_multiple_head_dims)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct model *m = load(path);
        struct session *s = NULL;
        struct session_params sp = session_default_params();
        struct mu_err err = {0};

        sp.kv_type = MU_TYPE_Q8_0;
        sp.n_ctx = 64;
        if (m) {
                CHECK(session_create(&s, m, &sp, &err) < 0);
                CHECK(s == NULL);
                CHECK_MSG(strstr(err.msg, "q8_0") != NULL, "error: %s", err.msg);
        }
        model_free(m);
}

/* ---- context: overflow, truncate, shift ------------------------------------ */

TEST(engine_context_overflow_is_erange)
{
        NEED_MODEL(path, "stories260K.gguf");
        int32_t toks[40];
        struct mu_err err = {0};
        struct model *m = load(path);
        struct session *s = m ? open_session(m, 32, 1, 8, MU_TYPE_F32) : NULL;

        for (int i = 0; i < 40; i++)
                toks[i] = 1 + (i * 37) % 500;
        if (s) {
                CHECK_EQ_INT(session_eval(s, toks, 40, &err), MU_ERANGE);
                CHECK_EQ_INT(session_n_past(s), 0);
                CHECK(session_eval(s, toks, 32, &err) == 0);
                CHECK_EQ_INT(session_eval(s, toks, 1, &err), MU_ERANGE);
                CHECK_EQ_INT(session_n_past(s), 32);
                int32_t bad = 512;
                session_truncate(s, 0);
                CHECK_EQ_INT(session_eval(s, &bad, 1, &err), MU_EINVAL);
        }
        session_free(s);
        model_free(m);
}

/* After session_shift(keep, discard), continuing must give what a fresh
 * session gives for the kept tokens followed by the rest, when the cached
 * keys are re-rotated to their new positions.  That equality holds exactly
 * only for a one-layer model (deeper layers' keys also saw the discarded
 * tokens): llama-2-tiny-random has one layer.  The first n_keep tokens stay. */
TEST(engine_shift_keeps_first_tokens_and_rerotates)
{
        NEED_MODEL(path, "llama-2-tiny-random.gguf");
        int32_t toks[48], kept[48];
        struct mu_err err = {0};
        struct model *m = load(path);
        const int n_keep = 4, n_discard = 20, n = 40;
        int nv = m ? model_n_vocab(m) : 0;

        CHECK(!m || model_n_layer(m) == 1);
        for (int i = 0; i < 48; i++)
                toks[i] = i == 0 ? 1 : 3 + (i * 7919) % 31000;
        struct session *a = m ? open_session(m, 48, 1, 16, MU_TYPE_F32) : NULL;
        struct session *b = m ? open_session(m, 48, 1, 16, MU_TYPE_F32) : NULL;
        struct session *c = m ? open_session(m, 48, 1, 16, MU_TYPE_F32) : NULL;
        if (a && b && c) {
                CHECK(session_eval(a, toks, n, &err) == 0);
                CHECK(session_shift(a, n_keep, n_discard) == 0);
                CHECK_EQ_INT(session_n_past(a), n - n_discard);
                CHECK(session_eval(a, toks + n, 1, &err) == 0);
                int k = 0;
                for (int i = 0; i < n_keep; i++)
                        kept[k++] = toks[i];
                for (int i = n_keep + n_discard; i <= n; i++)
                        kept[k++] = toks[i];
                CHECK(session_eval(b, kept, k, &err) == 0);
                /* control: dropping the first tokens instead gives other logits */
                CHECK(session_eval(c, kept + 1, k - 1, &err) == 0);
                double maxd = 0, ctl = 0;
                for (int i = 0; i < nv; i++) {
                        maxd = fmax(maxd, fabs(session_logits(a)[i] - session_logits(b)[i]));
                        ctl = fmax(ctl, fabs(session_logits(c)[i] - session_logits(b)[i]));
                }
                CHECK_MSG(maxd < 1e-5, "after shift: max |logit diff| = %g", maxd);
                CHECK_MSG(ctl > 1e-3, "control differs by only %g", ctl);
                CHECK_EQ_INT(session_shift(a, 30, 30), MU_EINVAL);
        }
        session_free(a);
        session_free(b);
        session_free(c);
        model_free(m);
}

/* ---- errors naming what is unsupported ------------------------------------- */

static char *write_variant(const char *src, const char *arch, const char *tensor, int type,
                           char *dir)
{
        struct gguf *g = NULL;
        struct mu_err err = {0};
        struct gguf_writer *w;
        static char out[1024];
        void *junk = NULL;

        if (gguf_open(&g, src, &err) < 0)
                return NULL;
        w = gguf_writer_create();
        for (int64_t i = 0; i < gguf_n_kv(g); i++)
                gguf_writer_copy_kv(w, g, i);
        if (arch)
                gguf_writer_set_str(w, "general.architecture", arch);
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                if (tensor && !strcmp(t->name, tensor)) {
                        size_t sz = mu_row_size(type, t->ne[0]) * (size_t)t->ne[1];
                        junk = calloc(1, sz);
                        gguf_writer_add_tensor(w, t->name, type, t->n_dims, t->ne, junk, sz, &err);
                } else {
                        gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                               t->size, &err);
                }
        }
        snprintf(out, sizeof(out), "%s/variant.gguf", dir);
        int rc = gguf_writer_write(w, out, &err);
        gguf_writer_free(w);
        gguf_close(g);
        free(junk);
        return rc < 0 ? NULL : out;
}

TEST(engine_unsupported_arch_and_type_are_named)
{
        NEED_MODEL(path, "llama-2-tiny-random.gguf");
        char *dir = test_tmpdir();
        struct model *m = NULL;
        struct model_params mp = model_default_params();
        struct mu_err err = {0};
        char *v = write_variant(path, "mamba", NULL, 0, dir);

        CHECK(v != NULL);
        if (v) {
                CHECK_EQ_INT(model_load(&m, v, &mp, &err), MU_EUNSUPPORTED);
                CHECK(m == NULL);
                CHECK_MSG(strstr(err.msg, "'mamba'") != NULL, "error: %s", err.msg);
        }
        /* I8: a type the engine has no kernels for */
        v = write_variant(path, NULL, "blk.0.ffn_up.weight", MU_TYPE_I8, dir);
        CHECK(v != NULL);
        if (v) {
                memset(&err, 0, sizeof(err));
                CHECK_EQ_INT(model_load(&m, v, &mp, &err), MU_EUNSUPPORTED);
                CHECK(m == NULL);
                CHECK_MSG(strstr(err.msg, "blk.0.ffn_up.weight") && strstr(err.msg, "I8"),
                          "error: %s", err.msg);
        }
        model_free(m);
        free(dir);
}

/* session_loglik() against token-by-token evaluation with a float64
 * log-softmax of session_logits(), across batch boundaries. */
TEST(engine_loglik_matches_stepwise_logits)
{
        NEED_MODEL(path, "stories260K.gguf");
        int32_t toks[40];
        double lp[40], want[40];
        struct mu_err err = {0};
        struct model *m = load(path);
        struct session *a = m ? open_session(m, 64, 1, 16, MU_TYPE_F32) : NULL;
        struct session *b = m ? open_session(m, 64, 1, 16, MU_TYPE_F32) : NULL;

        for (int i = 0; i < 40; i++)
                toks[i] = i == 0 ? 1 : 3 + (i * 53) % 500;
        if (a && b) {
                CHECK(session_loglik(a, toks, 40, lp, &err) == 0);
                CHECK_EQ_INT(session_n_past(a), 40);
                for (int i = 0; i < 39; i++) {
                        CHECK(session_eval(b, &toks[i], 1, &err) == 0);
                        const float *lg = session_logits(b);
                        double mx = lg[0], sum = 0;
                        for (int v = 1; v < 512; v++)
                                mx = fmax(mx, lg[v]);
                        for (int v = 0; v < 512; v++)
                                sum += exp(lg[v] - mx);
                        want[i] = lg[toks[i + 1]] - mx - log(sum);
                }
                double maxd = 0;
                for (int i = 0; i < 39; i++)
                        maxd = fmax(maxd, fabs(lp[i] - want[i]));
                CHECK_MSG(maxd < 1e-4, "max |loglik - stepwise| = %g", maxd);
                /* the last token's logits are left like session_eval's */
                CHECK(session_eval(b, &toks[39], 1, &err) == 0);
                CHECK_EQ_INT(argmax(session_logits(a), 512), argmax(session_logits(b), 512));
                CHECK_NEAR(session_logits(a)[7], session_logits(b)[7], 1e-4);
                CHECK_EQ_INT(session_loglik(a, toks, 40, lp, &err), MU_ERANGE);
        }
        session_free(a);
        session_free(b);
        model_free(m);
}

/* op_silu_mul's AVX-512 path against the scalar reference, bit for bit:
 * ordinary values, the expf_ggml cut-offs (|n| > 192), overflow of the
 * exponent scaling (n > 127), subnormal results, infinities, ragged n. */
TEST(engine_silu_mul_simd_equals_scalar)
{
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("fma")) {
                TEST_SKIP("no AVX-512 on this CPU: op_silu_mul is the scalar loop");
        }
        enum { N = 4096 + 13 };
        static float g[N], u[N], y0[N], y1[N];
        uint32_t s = 12345;
        for (int i = 0; i < N; i++) {
                s = s * 1664525u + 1013904223u;
                float r = (float)(s >> 8) / 16777216.0f; /* [0, 1) */
                switch (i % 8) {
                case 0: g[i] = (r - 0.5f) * 20; break;
                case 1: g[i] = (r - 0.5f) * 300; break;   /* n around +-127..192..216 */
                case 2: g[i] = -87.0f - r * 50; break;    /* large exp: n > 127 */
                case 3: g[i] = 80.0f + r * 60; break;     /* tiny exp, subnormal */
                case 4: g[i] = (r - 0.5f) * 1e-3f; break;
                case 5: g[i] = i % 16 == 5 ? INFINITY : -INFINITY; break;
                default: g[i] = (r - 0.5f) * 8; break;
                }
                u[i] = (float)((s >> 4) % 1000) / 250.0f - 2.0f;
        }
        const int ns[] = {N, 16, 31, 4096};
        for (int k = 0; k < 4; k++) {
                memset(y0, 0, sizeof(y0));
                memset(y1, 0, sizeof(y1));
                op_silu_mul_ref(y0, g, u, ns[k]);
                op_silu_mul(y1, g, u, ns[k]);
                int bad = 0, first = -1;
                for (int i = 0; i < ns[k]; i++)
                        if (memcmp(&y0[i], &y1[i], 4) && !(isnan(y0[i]) && isnan(y1[i]))) {
                                bad++;
                                if (first < 0)
                                        first = i;
                        }
                CHECK_MSG(!bad, "n=%d: %d outputs differ, first at %d: g %a: %a vs %a", ns[k], bad, first,
                          first >= 0 ? g[first] : 0.0f, first >= 0 ? y0[first] : 0.0f, first >= 0 ? y1[first] : 0.0f);
        }
}
