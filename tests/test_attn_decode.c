/* test_attn_decode.c -- one-token attention split over key ranges
 * (src/engine/attn_decode.c) against forward.c's per-(token, head) loop,
 * which the scalar table selects (MULLAMA_CPU=scalar: no attn_decode), on
 * the float-weight test models: 300 tokens one at a time, so the last steps
 * span two key ranges of 256; last-token logits within float noise.  And
 * its result does not depend on the thread count (same bits on 1 and 2). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/kernels.h"
#include "mullama/model.h"
#include "test.h"

#define N_TOK 300

/* logits (n_vocab floats, malloc'd) after N_TOK tokens one by one */
static float *decode_logits(struct model *m, const int32_t *toks, int n_threads, int kv_type)
{
        struct session_params sp = session_default_params();
        struct session *s = NULL;
        struct mu_err err = {0};
        float *out = NULL;
        int nv = model_n_vocab(m);

        sp.n_ctx = 512;
        sp.n_threads = n_threads;
        sp.n_batch = 64;
        sp.kv_type = kv_type;
        if (session_create(&s, m, &sp, &err) < 0) {
                test_fail_at(__FILE__, __LINE__, "session_create: %s", err.msg);
                return NULL;
        }
        for (int i = 0; i < N_TOK; i++)
                if (session_eval(s, &toks[i], 1, &err) < 0) {
                        test_fail_at(__FILE__, __LINE__, "session_eval: %s", err.msg);
                        session_free(s);
                        return NULL;
                }
        out = malloc((size_t)nv * sizeof(float));
        memcpy(out, session_logits(s), (size_t)nv * sizeof(float));
        session_free(s);
        return out;
}

static void decode_vs_pairs(const char *name, int kv_type)
{
        const char *path = test_model(name);
        const char *orig = cpu_kernels_get()->name;
        struct model_params mp = model_default_params();
        struct mu_err err = {0};
        struct model *m = NULL;
        int32_t toks[N_TOK];

        if (!path) {
                test_skip("model not in tests/models (run make models)");
                return;
        }
        if (!strcmp(orig, "scalar")) {
                test_skip("attn_decode needs a SIMD table");
                return;
        }
        if (model_load(&m, path, &mp, &err) < 0) {
                test_fail_at(__FILE__, __LINE__, "model_load: %s", err.msg);
                return;
        }
        int nv = model_n_vocab(m);
        for (int i = 0; i < N_TOK; i++)
                toks[i] = 2 + (int32_t)((i * 7919u + 13) % (unsigned)(nv > 5000 ? 5000 : nv - 2));
        float *a = decode_logits(m, toks, 2, kv_type);
        float *a1 = decode_logits(m, toks, 1, kv_type);
        CHECK(cpu_kernels_force("scalar") == 0);
        float *b = decode_logits(m, toks, 2, kv_type);
        cpu_kernels_force(orig);
        if (a && a1 && b) {
                double dmax = 0, lo = INFINITY, hi = -INFINITY;
                for (int i = 0; i < nv; i++) {
                        dmax = fmax(dmax, fabs(a[i] - b[i]));
                        lo = fmin(lo, b[i]);
                        hi = fmax(hi, b[i]);
                }
                CHECK_MSG(dmax <= 1e-4 * (hi - lo), "%s: max logit diff %g, range %.2f", name, dmax, hi - lo);
                CHECK_MSG(!memcmp(a, a1, (size_t)nv * sizeof(float)), "%s: 1 and 2 threads differ", name);
        }
        free(a);
        free(a1);
        free(b);
        model_free(m);
}

TEST(attn_decode_vs_pairs_stories260k_f32kv)
{
        decode_vs_pairs("stories260K.gguf", MU_TYPE_F32);
}

TEST(attn_decode_vs_pairs_stories260k_f16kv)
{
        decode_vs_pairs("stories260K.gguf", MU_TYPE_F16);
}

TEST(attn_decode_vs_pairs_tiny_random_f16kv)
{
        decode_vs_pairs("llama-2-tiny-random.gguf", MU_TYPE_F16);
}
