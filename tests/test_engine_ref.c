/* test_engine_ref.c -- the PyPI models (SmolLM2-135M-Instruct Q4_1, gemma-3-270m
 * Q4_K_M) against llama.cpp on the prompts of tests/data/engine/prompts:
 *   - the prompt token ids equal llama.cpp's (golden.mjs "prompt_tokens");
 *   - the greedy continuation equals llama.cpp's 32 tokens, and at every
 *     step our logits of llama.cpp's 4 best tokens equal its logits bit for
 *     bit (tests/data/engine/<model>.steps.txt, tools/llamacpp-steps.mjs: its
 *     4 highest logits at every step of its greedy run), with the kernel
 *     table this CPU selects and, on 5 prompts, with the scalar kernels
 *     (MULLAMA_CPU=scalar, slow).  Every SIMD kernel sums in the scalar
 *     kernels' order (test_quant.c checks them bit for bit), prompts under
 *     64 tokens go through those kernels rather than the int8 gemm
 *     (gemm.h GEMM_MIN_TOK), and every other rounding follows llama.cpp's
 *     AVX-512 CPU backend (zen4), which made the goldens;
 *   - a divergence is reported with both engines' top-2 gaps (the issue's bar
 *     would allow one where llama.cpp's gap is under 1e-3; none occurs);
 *   - accuracy: on one prompt per model, our 64 highest logits are about as
 *     close as llama.cpp's to a float64 forward pass over the same
 *     dequantized weights (tests/data/engine/<model>.f64.txt,
 *     tools/ref-forward.py).
 *
 * llama.cpp does not match itself this way across its own CPU backends: on
 * one machine its sapphirerapids backend (AMX) and its zen4 backend continue
 * 9 of 13 SmolLM2 and 8 of 13 gemma3 prompts differently, first diverging
 * where the zen4 run's top-2 gap is up to 0.30 (tests/data/engine/README.md).
 * Prompts of 64 tokens and more take the int8 gemm and tiled attention,
 * whose sums run in their own orders, as llama.cpp's large batches do. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/kernels.h"
#include "mullama/model.h"
#include "mullama/tokenizer.h"
#include "mullama/types.h"
#include "test.h"

#define N_GEN 32
#define ISSUE_TIE 1e-3f /* llama.cpp's best logit minus its logit of our token */
#define MAX_PROMPTS 32

#define TOPK 4

/* one step of llama.cpp's greedy run: its token and 4 highest logits */
struct step {
        char file[64];
        int step, chosen;
        int id[TOPK];
        float logit[TOPK];
};

static int load_steps(const char *name, struct step **out)
{
        const char *p = test_data(name);
        FILE *f = p ? fopen(p, "r") : NULL;
        struct step *v = NULL;
        int n = 0, cap = 0;
        char line[512];

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                struct step t;
                int off = 0, k = 0;
                if (sscanf(line, "%63s %d %d%n", t.file, &t.step, &t.chosen, &off) != 3)
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

static const struct step *find_step(const struct step *v, int n, const char *file, int step)
{
        for (int i = 0; i < n; i++)
                if (v[i].step == step && !strcmp(v[i].file, file))
                        return &v[i];
        return NULL;
}

static int argmax(const float *x, int n)
{
        int a = 0;

        for (int i = 1; i < n; i++)
                if (x[i] > x[a])
                        a = i;
        return a;
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

/* Every step's 4 highest llama.cpp logits must equal ours bit for bit (and
 * so every greedy token); table: a kernel table to force ("scalar",
 * "avx2"; 5 prompts), or NULL for the one this CPU selects (all prompts). */
static void check_model(const char *model_file, const char *golden, const char *steps_file,
                        const char *table)
{
        const char *path = test_model(model_file);
        const char *gpath = test_data(golden);
        struct model *m = NULL;
        struct tokenizer *tok = NULL;
        struct session *s = NULL;
        struct session_params sp = session_default_params();
        struct model_params mp = model_default_params();
        struct mu_err err = {0};
        struct step *st = NULL;
        char *text = NULL;
        size_t len;
        int n_st, n_prompts = 0, n_exact = 0, n_issue = 0, n_bits = 0, n_steps = 0;
        const char *orig = cpu_kernels_get()->name;

        if (!path)
                TEST_SKIP("model not in tests/models (run make models)");
        CHECK(gpath != NULL);
        n_st = load_steps(steps_file, &st);
        CHECK_MSG(n_st > 0, "cannot read %s", steps_file);
        if (!gpath || n_st <= 0 || mu_read_file(gpath, 0, &text, &len, &err) < 0) {
                free(st);
                return;
        }
        if (table) {
                int avail = 0;
                for (const char *const *a = cpu_kernels_available(); *a; a++)
                        avail |= !strcmp(*a, table);
                if (!avail) {
                        free(st);
                        free(text);
                        TEST_SKIP("this CPU cannot run the forced kernel table");
                }
                CHECK_EQ_INT(cpu_kernels_force(table), 0);
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
        /* the scalar kernels are slow: 5 prompts (160 steps) in the suite;
         * all 13 (416 steps) were bit-exact when recorded (README.md); a
         * second SIMD table runs 5 too */
        if (table)
                max_prompts = getenv("MULLAMA_ASAN") ? 1 : 5;
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
                        const float *lg = session_logits(s);
                        const struct step *r = find_step(st, n_st, file, i);
                        int a = argmax(lg, model_n_vocab(m));
                        got[i] = a;
                        CHECK_MSG(r && r->chosen == want_g[i], "%s %s: step %d not in %s",
                                  model_file, file, i, steps_file);
                        if (r) {
                                int same_bits = 1;
                                for (int k = 0; k < TOPK; k++)
                                        same_bits &= lg[r->id[k]] == r->logit[k];
                                n_bits += same_bits;
                                n_steps++;
                        }
                        if (a != want_g[i]) {
                                float our_gap = lg[a] - lg[want_g[i]], lc_gap = INFINITY;
                                for (int k = 0; r && k < TOPK; k++)
                                        if (r->id[k] == a)
                                                lc_gap = r->logit[0] - r->logit[k];
                                div = i;
                                n_issue += lc_gap < ISSUE_TIE;
                                fprintf(stderr,
                                        "  %s %s: %d tokens match, then ours %d, llama.cpp %d: "
                                        "llama.cpp's gap %.4f, ours %.4f\n",
                                        model_file, file, i, a, want_g[i], lc_gap, our_gap);
                                CHECK_MSG(0, "%s %s: greedy step %d: got %d, llama.cpp %d "
                                          "(llama.cpp's gap %g, ours %g)",
                                          model_file, file, i, a, want_g[i], lc_gap, our_gap);
                                break;
                        }
                        if (tokenizer_is_eog(tok, a) || i + 1 == n_wg)
                                break;
                        ok = session_eval(s, &got[i], 1, &err) == 0;
                }
                if (div < 0)
                        fprintf(stderr, "  %s %s: all %d tokens match\n", model_file, file, n_wg);
                CHECK_MSG(ok, "%s %s: session_eval: %s", model_file, file, err.msg);
                if (div < 0)
                        n_exact++;
                free(ids);
                cJSON_Delete(j);
        }
        CHECK_MSG(n_prompts >= 10 || n_prompts == max_prompts, "%s: %d prompts", golden,
                  n_prompts);
        CHECK_MSG(n_exact == n_prompts && n_bits == n_steps && n_steps > 0,
                  "%s (%s kernels): %d of %d prompts match, %d of %d steps bit-exact", model_file,
                  cpu_kernels_get()->name, n_exact, n_prompts, n_bits, n_steps);
        fprintf(stderr, "  %s (%s kernels): top-4 logits equal llama.cpp's bit for bit at %d of %d steps\n",
                model_file, cpu_kernels_get()->name, n_bits, n_steps);
        if (table)
                cpu_kernels_force(orig);
        fprintf(stderr, "  %s: %d of %d prompts match all greedy tokens; %d more diverge "
                "where llama.cpp's top-2 gap is under 1e-3 (the issue's bar)\n", model_file,
                n_exact, n_prompts, n_issue);
        session_free(s);
        tokenizer_free(tok);
        model_free(m);
        free(text);
        free(st);
}

TEST(engine_ref_smollm2_tokens_and_greedy)
{
        check_model("SmolLM2-135M-Instruct.Q4_1.gguf", "engine/smollm2.jsonl",
                    "engine/smollm2.steps.txt", NULL);
}

/* The scalar kernels sum in llama.cpp's order (quant.c), and every other
 * rounding follows llama.cpp's AVX-512 CPU backend: its greedy run is
 * reproduced bit for bit. */
TEST(engine_ref_smollm2_scalar_bit_exact)
{
        check_model("SmolLM2-135M-Instruct.Q4_1.gguf", "engine/smollm2.jsonl",
                    "engine/smollm2.steps.txt", "scalar");
}

TEST(engine_ref_gemma3_scalar_bit_exact)
{
        check_model("gemma-3-270m-q4_k_m.gguf", "engine/gemma3.jsonl", "engine/gemma3.steps.txt", "scalar");
}

TEST(engine_ref_gemma3_tokens_and_greedy)
{
        check_model("gemma-3-270m-q4_k_m.gguf", "engine/gemma3.jsonl", "engine/gemma3.steps.txt", NULL);
}

/* The AVX2 table too (an AVX-512 CPU selects the avx512 one by default). */
TEST(engine_ref_smollm2_avx2_bit_exact)
{
        check_model("SmolLM2-135M-Instruct.Q4_1.gguf", "engine/smollm2.jsonl", "engine/smollm2.steps.txt", "avx2");
}

TEST(engine_ref_gemma3_avx2_bit_exact)
{
        check_model("gemma-3-270m-q4_k_m.gguf", "engine/gemma3.jsonl", "engine/gemma3.steps.txt", "avx2");
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

/* Mean |logit - f64| over the 64 highest logits of one prompt is a noisy
 * measure: on SmolLM2's 13_chatml, llama.cpp 0.090, we 0.149 with llama.cpp's
 * f16 attention and 0.059 with an f32 one; on gemma3, llama.cpp 0.128, we
 * 0.097 (f16) and 0.110 (f32).  The ratio leaves room for that noise; a
 * wrong computation is off by whole units. */
TEST(engine_ref_smollm2_as_accurate_as_llamacpp)
{
        accuracy_vs_f64("SmolLM2-135M-Instruct.Q4_1.gguf", "engine/smollm2.f64.txt", 2.0);
}

TEST(engine_ref_gemma3_as_accurate_as_llamacpp)
{
        accuracy_vs_f64("gemma-3-270m-q4_k_m.gguf", "engine/gemma3.f64.txt", 1.5);
}
