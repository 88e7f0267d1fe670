/* test_engine_ref.c -- the PyPI models (SmolLM2-135M-Instruct Q4_1, gemma-3-270m
 * Q4_K_M) against llama.cpp on the prompts of tests/data/engine/prompts:
 *   - the prompt token ids equal llama.cpp's (golden.mjs "prompt_tokens");
 *   - the greedy continuation equals llama.cpp's 32 tokens, or first diverges
 *     at a near tie on both sides: in our logits llama.cpp's token is within
 *     NEAR_TIE of ours, and in llama.cpp's logits (its top 4 at every step,
 *     tests/data/engine/<model>.top4.txt, made by tools/llamacpp-logits.mjs
 *     --jsonl --top 4, see tests/data/engine/regen.sh) ours is within
 *     NEAR_TIE of its best.  Each divergence is printed with both gaps
 *     (MULLAMA_TEST_VERBOSE=1); the recorded cases are in
 *     tests/data/engine/README.md;
 *   - accuracy: on one prompt per model, our 64 highest logits are about as
 *     close as llama.cpp's to a float64 forward pass over the same
 *     dequantized weights (tests/data/engine/<model>.f64.txt,
 *     tools/ref-forward.py): SmolLM2 0.096 vs llama.cpp 0.090, gemma3 0.16 vs
 *     0.13 mean error on those 64; over the whole vocabulary we are closer
 *     (SmolLM2 0.095 vs 0.176, gemma3 0.144 vs 0.163).
 *
 * Why NEAR_TIE is 1.5 and not 1e-3: both engines quantize the activations to
 * 8 bits before each matmul (Q8_1 for Q4_1 weights, Q8_K for K-quants), and
 * these small models amplify rounding differences chaotically.  SmolLM2's
 * logits are 0.1-0.2 (mean) / 0.7 (max) from a float64 forward pass in both
 * engines; llama.cpp picks different tokens for the same prompt in different
 * batch layouts (its greedy run and its one-batch evaluation disagree on 14
 * of 416 SmolLM2 steps, with gaps up to 0.58); and our own mathematically
 * equivalent kernel paths (scalar, AVX2 gemv, int8 gemm for prompts) give
 * gemma3 logits up to ~1 apart at the same position.  A wrong computation
 * shows as gaps of several units and divergences at step 0 on most prompts;
 * the float64 accuracy check below and the F32 synthetic models of
 * test_synth.c (within ~1e-3 of llama.cpp) are the tight checks. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/model.h"
#include "mullama/tokenizer.h"
#include "mullama/types.h"
#include "test.h"

#define N_GEN 32
#define NEAR_TIE 1.5f
#define MAX_PROMPTS 32

#define TOPK 4

struct top2 {
        char file[64];
        int step;
        int id[TOPK];
        float logit[TOPK];
};

static int load_top2(const char *name, struct top2 **out)
{
        const char *p = test_data(name);
        FILE *f = p ? fopen(p, "r") : NULL;
        struct top2 *v = NULL;
        int n = 0, cap = 0;
        char line[512];

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                struct top2 t;
                int off = 0, k = 0;
                if (sscanf(line, "%63s %d%n", t.file, &t.step, &off) != 2)
                        continue;
                for (char *p = line + off; k < TOPK; k++) {
                        int used = 0;
                        if (sscanf(p, " %d:%f%n", &t.id[k], &t.logit[k], &used) != 2)
                                break;
                        p += used;
                }
                if (k != TOPK)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 256;
                        v = realloc(v, (size_t)cap * sizeof(*v));
                }
                v[n++] = t;
        }
        fclose(f);
        *out = v;
        return n;
}

static const struct top2 *find_top2(const struct top2 *v, int n, const char *file, int step)
{
        for (int i = 0; i < n; i++)
                if (v[i].step == step && !strcmp(v[i].file, file))
                        return &v[i];
        return NULL;
}

static void top2_of(const float *x, int n, int *a, int *b)
{
        *a = 0;
        *b = -1;
        for (int i = 1; i < n; i++)
                if (x[i] > x[*a])
                        *a = i;
        for (int i = 0; i < n; i++)
                if (i != *a && (*b < 0 || x[i] > x[*b]))
                        *b = i;
}

static int int_array(const cJSON *a, int32_t *out, int max)
{
        int n = 0;
        const cJSON *e;

        cJSON_ArrayForEach(e, a)
        {
                if (n < max)
                        out[n] = (int32_t)e->valueint;
                n++;
        }
        return n;
}

static void check_model(const char *model_file, const char *golden, const char *top2_file)
{
        const char *path = test_model(model_file);
        const char *gpath = test_data(golden);
        struct model *m = NULL;
        struct tokenizer *tok = NULL;
        struct session *s = NULL;
        struct session_params sp = session_default_params();
        struct model_params mp = model_default_params();
        struct mu_err err = {0};
        struct top2 *t2 = NULL;
        char *text = NULL;
        size_t len;
        int n_t2, n_prompts = 0, n_exact = 0, verbose = getenv("MULLAMA_TEST_VERBOSE") != NULL;

        if (!path)
                TEST_SKIP("model not in tests/models (run make models)");
        CHECK(gpath != NULL);
        n_t2 = load_top2(top2_file, &t2);
        CHECK_MSG(n_t2 > 0, "cannot read %s", top2_file);
        if (!gpath || n_t2 <= 0 || mu_read_file(gpath, 0, &text, &len, &err) < 0) {
                free(t2);
                return;
        }
        CHECK(model_load(&m, path, &mp, &err) == 0);
        if (m)
                CHECK(tokenizer_create(&tok, model_gguf(m), &err) == 0);
        sp.n_ctx = 512;
        sp.n_threads = 2;
        if (m && tok)
                CHECK(session_create(&s, m, &sp, &err) == 0);
        /* under ASan (make asan) two prompts show memory safety; the numbers
         * are checked by the normal build */
        int max_prompts = getenv("MULLAMA_ASAN") ? 2 : MAX_PROMPTS;
        for (char *line = text, *nl; s && line && *line && n_prompts < max_prompts;
             line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                cJSON *j = cJSON_Parse(line);
                if (!j)
                        continue;
                const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(j, "prompt_file"));
                const char *prompt = cJSON_GetStringValue(cJSON_GetObjectItem(j, "prompt"));
                int32_t want_p[512], want_g[N_GEN], got[N_GEN];
                int n_wp = int_array(cJSON_GetObjectItem(j, "prompt_tokens"), want_p, 512);
                int n_wg = int_array(cJSON_GetObjectItem(j, "greedy_tokens"), want_g, N_GEN);
                int32_t *ids = NULL;
                size_t n_ids = 0;
                n_prompts++;
                CHECK(file && prompt && n_wp > 0 && n_wp <= 512 && n_wg > 0 && n_wg <= N_GEN);
                if (!file || !prompt || n_wp <= 0 || n_wp > 512 || n_wg <= 0 || n_wg > N_GEN ||
                    tokenizer_encode(tok, prompt, strlen(prompt), 1, 0, &ids, &n_ids, &err) < 0) {
                        cJSON_Delete(j);
                        continue;
                }
                int same = (int)n_ids == n_wp && !memcmp(ids, want_p, n_ids * sizeof(int32_t));
                CHECK_MSG(same, "%s %s: prompt tokens differ from llama.cpp's (%zu vs %d)",
                          model_file, file, n_ids, n_wp);
                /* greedy from llama.cpp's prompt tokens */
                session_truncate(s, 0);
                int ok = session_eval(s, want_p, n_wp, &err) == 0, div = -1;
                for (int i = 0; ok && i < n_wg; i++) {
                        int a, b;
                        const float *lg = session_logits(s);
                        top2_of(lg, model_n_vocab(m), &a, &b);
                        got[i] = a;
                        if (a != want_g[i]) {
                                /* near tie on both sides: in our logits llama.cpp's token
                                 * is within NEAR_TIE of ours; in llama.cpp's (one-batch)
                                 * logits ours is within NEAR_TIE of its top */
                                const struct top2 *r = find_top2(t2, n_t2, file, i);
                                float our_gap = lg[a] - lg[want_g[i]];
                                float ref_gap = INFINITY;
                                for (int k = 0; r && k < TOPK; k++)
                                        if (r->id[k] == a)
                                                ref_gap = r->logit[0] - r->logit[k];
                                div = i;
                                (void)b;
                                if (verbose)
                                        fprintf(stderr,
                                                "  %s %s: diverges at step %d: ours %d, llama.cpp "
                                                "%d; our gap %.4f, llama.cpp's %.4f\n",
                                                model_file, file, i, a, want_g[i], our_gap,
                                                ref_gap);
                                CHECK_MSG(our_gap < NEAR_TIE && ref_gap < NEAR_TIE,
                                          "%s %s: greedy step %d: got %d, llama.cpp %d; "
                                          "not a near tie (our gap %g, llama.cpp's %g)",
                                          model_file, file, i, a, want_g[i], our_gap, ref_gap);
                                break;
                        }
                        if (tokenizer_is_eog(tok, a) || i + 1 == n_wg)
                                break;
                        ok = session_eval(s, &got[i], 1, &err) == 0;
                }
                CHECK_MSG(ok, "%s %s: session_eval: %s", model_file, file, err.msg);
                if (div < 0)
                        n_exact++;
                free(ids);
                cJSON_Delete(j);
        }
        CHECK_MSG(n_prompts >= 10 || n_prompts == max_prompts, "%s: %d prompts", golden,
                  n_prompts);
        /* divergences are near ties, but near ties within 32 tokens are common
         * on these small 4-bit models (llama.cpp disagrees with itself on
         * 14 of 416 SmolLM2 steps); a systematic error would leave none */
        CHECK_MSG(n_exact >= 2 || max_prompts < MAX_PROMPTS,
                  "%s: only %d of %d prompts match exactly", model_file, n_exact, n_prompts);
        if (verbose)
                fprintf(stderr, "  %s: %d of %d prompts match all greedy tokens\n", model_file,
                        n_exact, n_prompts);
        session_free(s);
        tokenizer_free(tok);
        model_free(m);
        free(text);
        free(t2);
}

TEST(engine_ref_smollm2_tokens_and_greedy)
{
        check_model("SmolLM2-135M-Instruct.Q4_1.gguf", "engine/smollm2.jsonl",
                    "engine/smollm2.top4.txt");
}

TEST(engine_ref_gemma3_tokens_and_greedy)
{
        check_model("gemma-3-270m-q4_k_m.gguf", "engine/gemma3.jsonl", "engine/gemma3.top4.txt");
}

static void accuracy_vs_f64(const char *model_file, const char *f64_file, double ratio)
{
        const char *path = test_model(model_file);
        const char *ref = test_data(f64_file);
        FILE *f = ref ? fopen(ref, "r") : NULL;
        struct model_params mp = model_default_params();
        struct session_params sp = session_default_params();
        struct model *m = NULL;
        struct session *s = NULL;
        struct mu_err err = {0};
        int32_t toks[256];
        int ids[64], n_tok = 0, n = 0;
        double f64[64], lcpp[64];
        char line[4096];

        if (!path) {
                if (f)
                        fclose(f);
                TEST_SKIP("model not in tests/models (run make models)");
        }
        CHECK(f != NULL);
        while (f && fgets(line, sizeof(line), f)) {
                if (line[0] == '#')
                        continue;
                if (!strncmp(line, "tokens ", 7)) {
                        for (char *p = line + 7; *p && *p != '\n' && n_tok < 256;) {
                                toks[n_tok++] = (int32_t)strtol(p, &p, 10);
                                if (*p == ',')
                                        p++;
                        }
                } else if (n < 64 && sscanf(line, "%d %lf %lf", &ids[n], &f64[n], &lcpp[n]) == 3) {
                        n++;
                }
        }
        if (f)
                fclose(f);
        CHECK(n == 64 && n_tok > 0);
        sp.n_ctx = 256;
        sp.n_threads = 2;
        CHECK(model_load(&m, path, &mp, &err) == 0);
        if (m)
                CHECK(session_create(&s, m, &sp, &err) == 0);
        if (s && n == 64 && n_tok > 0 && session_eval(s, toks, n_tok, &err) == 0) {
                const float *lg = session_logits(s);
                double e_ours = 0, e_lcpp = 0, m_ours = 0;
                for (int i = 0; i < n; i++) {
                        e_ours += fabs(lg[ids[i]] - f64[i]);
                        e_lcpp += fabs(lcpp[i] - f64[i]);
                        m_ours = fmax(m_ours, fabs(lg[ids[i]] - f64[i]));
                }
                e_ours /= n;
                e_lcpp /= n;
                if (getenv("MULLAMA_TEST_VERBOSE"))
                        fprintf(stderr, "  %s: mean |logit - f64|: ours %.4f (max %.4f), "
                                "llama.cpp %.4f\n", model_file, e_ours, m_ours, e_lcpp);
                CHECK_MSG(e_ours <= ratio * e_lcpp + 0.01,
                          "mean |logit - f64| ours %g, llama.cpp %g", e_ours, e_lcpp);
                CHECK_MSG(m_ours < 1.0, "max |logit - f64| = %g", m_ours);
        }
        session_free(s);
        model_free(m);
}

TEST(engine_ref_smollm2_as_accurate_as_llamacpp)
{
        accuracy_vs_f64("SmolLM2-135M-Instruct.Q4_1.gguf", "engine/smollm2.f64.txt", 1.25);
}

TEST(engine_ref_gemma3_as_accurate_as_llamacpp)
{
        accuracy_vs_f64("gemma-3-270m-q4_k_m.gguf", "engine/gemma3.f64.txt", 1.5);
}
