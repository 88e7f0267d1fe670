/* test_tokenizer.c -- tokenizers against llama.cpp's output.
 *
 *  - tests/models/vocab/ggml-vocab-*.gguf with llama.cpp's .inp/.out pairs
 *    (made by HF tokenizers; llama.cpp's test-tokenizer-0 passes them):
 *    strings separated by "\n__ggml_vocab_test__\n", one line of ids each,
 *    tokenized with add_special = parse_special = false.
 *  - real models with prompts under tests/data/tokenizer/ and the ids
 *    llama.cpp (node-llama-cpp 3.22.1 / llama.cpp v0.5.0) gave for them
 *    (tests/data/tokenizer/regen.sh).
 *  - decode(encode(x)) == x, and the streaming detokenizer fed a byte-split
 *    text never returns half a character and loses nothing. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/tokenizer.h"
#include "test.h"

static struct tokenizer *open_tok(const char *path, struct gguf **gout)
{
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct tokenizer *t = NULL;

        if (gguf_open(&g, path, &err) != 0) {
                CHECK_MSG(0, "gguf_open %s: %s", path, err.msg);
                return NULL;
        }
        if (tokenizer_create(&t, g, &err) != 0) {
                CHECK_MSG(0, "tokenizer_create %s: %s", path, err.msg);
                gguf_close(g);
                return NULL;
        }
        if (gout)
                *gout = g;
        else
                gguf_close(g);
        return t;
}

static void print_ids(const char *what, const int32_t *v, size_t n)
{
        fprintf(stderr, "  %s:", what);
        for (size_t i = 0; i < n; i++)
                fprintf(stderr, " %d", v[i]);
        fprintf(stderr, "\n");
}

/* Parse " 1 2 3" into ids. */
static size_t parse_ids(const char *line, size_t len, int32_t *out, size_t max)
{
        size_t n = 0;
        char *end;
        const char *p = line, *e = line + len;

        while (p < e && n < max) {
                long v;
                while (p < e && *p == ' ')
                        p++;
                if (p >= e)
                        break;
                v = strtol(p, &end, 10);
                if (end == p)
                        break;
                out[n++] = (int32_t)v;
                p = end;
        }
        return n;
}

static int same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
        return na == nb && (na == 0 || !memcmp(a, b, na * sizeof(*a)));
}

static void vocab_case(const char *name)
{
        char gpath[256], ipath[256], opath[256];
        char *inp = NULL, *outp = NULL;
        size_t inl = 0, outl = 0, k = 0, bad = 0;
        static const char sep[] = "\n__ggml_vocab_test__\n";
        struct mu_err err = {0};
        struct tokenizer *t;
        const char *dir = test_model("vocab");

        if (!dir) {
                test_skip("tests/models/vocab missing (run make models)");
                return;
        }
        snprintf(gpath, sizeof(gpath), "%s/ggml-vocab-%s.gguf", dir, name);
        snprintf(ipath, sizeof(ipath), "%s.inp", gpath);
        snprintf(opath, sizeof(opath), "%s.out", gpath);
        if (!mu_file_exists(gpath) || !mu_file_exists(ipath) || !mu_file_exists(opath)) {
                test_skip("vocab file missing");
                return;
        }
        t = open_tok(gpath, NULL);
        if (!t)
                return;
        CHECK(mu_read_file(ipath, 1 << 24, &inp, &inl, &err) == 0);
        CHECK(mu_read_file(opath, 1 << 24, &outp, &outl, &err) == 0);
        if (!inp || !outp)
                goto done;
        const char *ip = inp, *op = outp, *ie = inp + inl, *oe = outp + outl;
        while (ip < ie) {
                const char *s = memmem(ip, (size_t)(ie - ip), sep, sizeof(sep) - 1);
                const char *nl;
                int32_t want[4096], *got = NULL;
                size_t nw, ng = 0;

                if (!s)
                        break;
                nl = memchr(op, '\n', (size_t)(oe - op));
                if (!nl)
                        nl = oe;
                nw = parse_ids(op, (size_t)(nl - op), want, 4096);
                CHECK(tokenizer_encode(t, ip, (size_t)(s - ip), 0, 0, &got, &ng, &err) == 0);
                if (!same_ids(got, ng, want, nw)) {
                        bad++;
                        CHECK_MSG(0, "%s case %zu: '%.*s' differs", name, k, (int)(s - ip), ip);
                        print_ids("want", want, nw);
                        print_ids("got ", got, ng);
                }
                free(got);
                k++;
                ip = s + sizeof(sep) - 1;
                op = nl < oe ? nl + 1 : oe;
        }
        CHECK_MSG(k >= 40, "%s: only %zu cases parsed", name, k);
        if (bad)
                fprintf(stderr, "  %s: %zu of %zu cases differ\n", name, bad, k);
done:
        free(inp);
        free(outp);
        tokenizer_free(t);
}

TEST(tokenizer_vocab_gpt2) { vocab_case("gpt-2"); }
TEST(tokenizer_vocab_starcoder) { vocab_case("starcoder"); }
TEST(tokenizer_vocab_deepseek_coder) { vocab_case("deepseek-coder"); }
TEST(tokenizer_vocab_llama_spm) { vocab_case("llama-spm"); }
TEST(tokenizer_vocab_phi3) { vocab_case("phi-3"); }
TEST(tokenizer_vocab_bert_bge) { vocab_case("bert-bge"); }

/* ---- real models against llama.cpp (tests/data/tokenizer/MODEL.jsonl) ------------ */

static size_t json_ids(const cJSON *arr, int32_t **out)
{
        size_t n = (size_t)cJSON_GetArraySize(arr), i = 0;
        const cJSON *e;

        *out = malloc((n + 1) * sizeof(**out));
        cJSON_ArrayForEach(e, arr)(*out)[i++] = (int32_t)e->valuedouble;
        return n;
}

/* Strict UTF-8 check (the detokenizer must never cut a character). */
static int utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;

        for (size_t i = 0; i < n;) {
                size_t l = p[i] < 0x80 ? 1 : (p[i] & 0xE0) == 0xC0 ? 2 : (p[i] & 0xF0) == 0xE0 ? 3
                                          : (p[i] & 0xF8) == 0xF0 ? 4 : 0;
                if (!l || i + l > n)
                        return 0;
                for (size_t k = 1; k < l; k++)
                        if ((p[i + k] & 0xC0) != 0x80)
                                return 0;
                i += l;
        }
        return 1;
}

/* Stream ids through a detok; the chunks must be whole characters (when the
 * full text is valid UTF-8) and add up to the batch decode. */
static void check_stream(const struct tokenizer *t, const int32_t *ids, size_t n,
                         const char *what)
{
        struct mu_buf all = MU_BUF_INIT, ref = MU_BUF_INIT;
        struct detok d;
        size_t len;
        const char *p;
        int chunks_ok = 1;

        tokenizer_decode(t, ids, n, 0, &ref);
        detok_init(&d, t, DETOK_STRIP_LEADING);
        for (size_t i = 0; i < n; i++) {
                p = detok_push(&d, ids[i], &len);
                if (!utf8_valid(p, len))
                        chunks_ok = 0;
                mu_buf_add(&all, p, len);
        }
        p = detok_flush(&d, &len);
        mu_buf_add(&all, p, len);
        if (utf8_valid(ref.data ? ref.data : "", ref.len))
                CHECK_MSG(chunks_ok, "%s: streamed chunk cut a UTF-8 character", what);
        CHECK_MSG(all.len == ref.len && !memcmp(mu_buf_str(&all), mu_buf_str(&ref), ref.len),
                  "%s: streamed text differs from decode", what);
        detok_release(&d);
        mu_buf_release(&all);
        mu_buf_release(&ref);
}

static void golden_case(const char *model)
{
        char path[256], *jl = NULL;
        size_t jn = 0, cases = 0;
        struct mu_err err = {0};
        struct tokenizer *t;
        const char *mpath = test_model(model), *line;

        if (!mpath || !mu_file_exists(mpath)) {
                test_skip("model not in tests/models (run make models)");
                return;
        }
        snprintf(path, sizeof(path), "tokenizer/%.*s.jsonl", (int)(strlen(model) - 5), model);
        CHECK(mu_read_file(test_data(path), 1 << 24, &jl, &jn, &err) == 0);
        if (!jl)
                return;
        t = open_tok(mpath, NULL);
        if (!t) {
                free(jl);
                return;
        }
        for (line = jl; line < jl + jn;) {
                const char *nl = memchr(line, '\n', (size_t)(jl + jn - line));
                size_t ll = nl ? (size_t)(nl - line) : (size_t)(jl + jn - line);
                cJSON *j = cJSON_ParseWithLength(line, ll);
                const cJSON *pf = cJSON_GetObjectItem(j, "prompt_file");
                char ppath[300], *text = NULL;
                size_t tl = 0, np, nq, ng, nh;
                int32_t *plain = NULL, *prompt = NULL, *got = NULL, *got2 = NULL;
                struct mu_buf dec = MU_BUF_INIT;

                line = nl ? nl + 1 : jl + jn;
                if (!j || !cJSON_IsString(pf)) {
                        CHECK_MSG(0, "%s: bad JSON line", path);
                        cJSON_Delete(j);
                        continue;
                }
                snprintf(ppath, sizeof(ppath), "tokenizer/prompts/%s", pf->valuestring);
                CHECK(mu_read_file(test_data(ppath), 1 << 24, &text, &tl, &err) == 0);
                np = json_ids(cJSON_GetObjectItem(j, "tokenize_plain"), &plain);
                nq = json_ids(cJSON_GetObjectItem(j, "prompt_tokens"), &prompt);
                CHECK_EQ_INT(tokenizer_add_bos(t),
                             cJSON_IsTrue(cJSON_GetObjectItem(j, "add_bos")));
                CHECK(tokenizer_encode(t, text, tl, 0, 0, &got, &ng, &err) == 0);
                if (!same_ids(got, ng, plain, np)) {
                        CHECK_MSG(0, "%s %s: plain tokenization differs", model, pf->valuestring);
                        print_ids("want", plain, np);
                        print_ids("got ", got, ng);
                }
                CHECK(tokenizer_encode(t, text, tl, 1, 0, &got2, &nh, &err) == 0);
                if (!same_ids(got2, nh, prompt, nq)) {
                        CHECK_MSG(0, "%s %s: prompt tokens differ", model, pf->valuestring);
                        print_ids("want", prompt, nq);
                        print_ids("got ", got2, nh);
                }
                /* lossless round trip: all these vocabularies can spell any
                 * UTF-8 (byte fallback / byte-level) */
                tokenizer_decode(t, got, ng, 0, &dec);
                CHECK_MSG(dec.len == tl && !memcmp(mu_buf_str(&dec), text, tl),
                          "%s %s: decode(encode(x)) != x: '%s'", model, pf->valuestring,
                          mu_buf_str(&dec));
                check_stream(t, got, ng, pf->valuestring);
                cases++;
                mu_buf_release(&dec);
                free(plain);
                free(prompt);
                free(got);
                free(got2);
                free(text);
                cJSON_Delete(j);
        }
        CHECK_MSG(cases >= 12, "%s: only %zu prompts", path, cases);
        tokenizer_free(t);
        free(jl);
}

TEST(tokenizer_golden_smollm2) { golden_case("SmolLM2-135M-Instruct.Q4_1.gguf"); }
TEST(tokenizer_golden_gemma3) { golden_case("gemma-3-270m-q4_k_m.gguf"); }
TEST(tokenizer_golden_stories260k) { golden_case("stories260K.gguf"); }
