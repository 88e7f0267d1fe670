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
