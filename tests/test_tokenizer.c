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
                /* byte-level BPE and SPM with byte fallback are lossless;
                 * WordPiece (lowercases, drops accents) is not */
                if (strcmp(name, "bert-bge") != 0) {
                        struct mu_buf b = MU_BUF_INIT;
                        tokenizer_decode(t, got, ng, 0, &b);
                        CHECK_MSG(b.len == (size_t)(s - ip) && !memcmp(mu_buf_str(&b), ip, b.len),
                                  "%s case %zu: decode(encode(x)) = '%s'", name, k, mu_buf_str(&b));
                        mu_buf_release(&b);
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

/* parse_special = true against llama.cpp (MODEL.special.jsonl). */
static void special_case(const char *model)
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
        snprintf(path, sizeof(path), "tokenizer/%.*s.special.jsonl", (int)(strlen(model) - 5),
                 model);
        CHECK(mu_read_file(test_data(path), 1 << 24, &jl, &jn, &err) == 0);
        if (!jl)
                return;
        t = open_tok(mpath, NULL);
        for (line = jl; t && line < jl + jn;) {
                const char *nl = memchr(line, '\n', (size_t)(jl + jn - line));
                size_t ll = nl ? (size_t)(nl - line) : (size_t)(jl + jn - line), tl = 0, nw, ng;
                cJSON *j = cJSON_ParseWithLength(line, ll);
                const cJSON *pf = cJSON_GetObjectItem(j, "prompt_file");
                char ppath[300], *text = NULL;
                int32_t *want = NULL, *got = NULL;

                line = nl ? nl + 1 : jl + jn;
                if (!cJSON_IsString(pf)) {
                        CHECK_MSG(0, "%s: bad JSON line", path);
                        cJSON_Delete(j);
                        continue;
                }
                snprintf(ppath, sizeof(ppath), "tokenizer/prompts/%s", pf->valuestring);
                CHECK(mu_read_file(test_data(ppath), 1 << 24, &text, &tl, &err) == 0);
                nw = json_ids(cJSON_GetObjectItem(j, "tokenize_special"), &want);
                CHECK(tokenizer_encode(t, text, tl, 0, 1, &got, &ng, &err) == 0);
                if (!same_ids(got, ng, want, nw)) {
                        CHECK_MSG(0, "%s %s: parse_special tokenization differs", model,
                                  pf->valuestring);
                        print_ids("want", want, nw);
                        print_ids("got ", got, ng);
                }
                cases++;
                free(want);
                free(got);
                free(text);
                cJSON_Delete(j);
        }
        CHECK_MSG(cases >= 12, "%s: only %zu prompts", path, cases);
        tokenizer_free(t);
        free(jl);
}

TEST(tokenizer_special_smollm2) { special_case("SmolLM2-135M-Instruct.Q4_1.gguf"); }
TEST(tokenizer_special_gemma3) { special_case("gemma-3-270m-q4_k_m.gguf"); }
TEST(tokenizer_special_stories260k) { special_case("stories260K.gguf"); }

/* ---- accessors ---------------------------------------------------------------- */

TEST(tokenizer_accessors_smollm2)
{
        NEED_MODEL(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        int32_t *ids = NULL;
        size_t n = 0, len;
        const char *p;

        if (!t)
                return;
        CHECK_EQ_INT(tokenizer_type(t), TOKENIZER_BPE);
        CHECK_STR(tokenizer_pre(t), "smollm");
        CHECK_EQ_INT(tokenizer_n_vocab(t), 49152);
        CHECK_EQ_INT(tokenizer_bos(t), 1);
        CHECK_EQ_INT(tokenizer_eos(t), 2);
        CHECK_EQ_INT(tokenizer_add_bos(t), 0);
        CHECK_EQ_INT(tokenizer_find(t, "<|im_start|>", 12), 1);
        CHECK_EQ_INT(tokenizer_find(t, "<|im_end|>", 10), 2);
        CHECK_EQ_INT(tokenizer_find(t, "no such token", 13), -1);
        CHECK(tokenizer_is_eog(t, 2));  /* <|im_end|> */
        CHECK(tokenizer_is_eog(t, 0));  /* <|endoftext|> */
        CHECK(!tokenizer_is_eog(t, 1));
        CHECK(tokenizer_is_control(t, 1));
        CHECK_EQ_INT(tokenizer_eot(t), 2);
        /* control tokens print as "" unless asked */
        p = tokenizer_piece(t, 1, 0, &len);
        CHECK_EQ_INT(len, 0);
        p = tokenizer_piece(t, 1, 1, &len);
        CHECK(len == 12 && !memcmp(p, "<|im_start|>", 12));
        /* "Ġ" is a space in byte-level BPE */
        CHECK(tokenizer_encode(t, " hello", 6, 0, 0, &ids, &n, NULL) == 0);
        CHECK_EQ_INT(n, 1);
        if (n == 1) {
                p = tokenizer_piece(t, ids[0], 0, &len);
                CHECK(len == 6 && !memcmp(p, " hello", 6));
                p = tokenizer_token_text(t, ids[0], &len);
                CHECK(len == 7 && !memcmp(p, "\xc4\xa0hello", 7));
        }
        free(ids);
        CHECK_EQ_INT(tokenizer_nl(t), 198);
        tokenizer_free(t);
}

TEST(tokenizer_accessors_gemma3)
{
        NEED_MODEL(path, "gemma-3-270m-q4_k_m.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        size_t len;
        const char *p;

        if (!t)
                return;
        CHECK_EQ_INT(tokenizer_type(t), TOKENIZER_SPM);
        CHECK_EQ_INT(tokenizer_n_vocab(t), 262144);
        CHECK_EQ_INT(tokenizer_bos(t), 2);
        CHECK_EQ_INT(tokenizer_eos(t), 1);
        CHECK_EQ_INT(tokenizer_unk(t), 3);
        CHECK_EQ_INT(tokenizer_pad(t), 0);
        CHECK_EQ_INT(tokenizer_add_bos(t), 1);
        CHECK_EQ_INT(tokenizer_add_space_prefix(t), 0);
        CHECK(tokenizer_is_eog(t, 1));
        CHECK(tokenizer_is_eog(t, tokenizer_find(t, "<end_of_turn>", 13)));
        CHECK_EQ_INT(tokenizer_eot(t), 106);
        CHECK(!tokenizer_is_eog(t, 2));
        CHECK(!tokenizer_is_eog(t, 105));
        CHECK_EQ_INT(tokenizer_nl(t), tokenizer_find(t, "<0x0A>", 6));
        /* byte token -> the byte */
        p = tokenizer_piece(t, tokenizer_find(t, "<0xE4>", 6), 0, &len);
        CHECK(len == 1 && (unsigned char)p[0] == 0xE4);
        /* U+2581 -> space */
        p = tokenizer_piece(t, tokenizer_find(t, "\xe2\x96\x81the", 6), 0, &len);
        CHECK(len == 4 && !memcmp(p, " the", 4));
        tokenizer_free(t);
}

TEST(tokenizer_stories260k_space_prefix)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        struct mu_buf b = MU_BUF_INIT;
        int32_t *ids = NULL;
        size_t n = 0;

        if (!t)
                return;
        CHECK_EQ_INT(tokenizer_add_space_prefix(t), 1);
        CHECK_EQ_INT(tokenizer_add_bos(t), 1);
        /* "" -> [] without specials, [BOS] with */
        CHECK(tokenizer_encode(t, "", 0, 0, 0, &ids, &n, NULL) == 0 && n == 0);
        free(ids);
        CHECK(tokenizer_encode(t, "", 0, 1, 0, &ids, &n, NULL) == 0 && n == 1 && ids[0] == 1);
        free(ids);
        /* the prefixed space is dropped again by decode */
        CHECK(tokenizer_encode(t, "Lily", 4, 0, 0, &ids, &n, NULL) == 0 && n > 0);
        tokenizer_decode(t, ids, n, 0, &b);
        CHECK_STR(mu_buf_str(&b), "Lily");
        free(ids);
        mu_buf_release(&b);
        tokenizer_free(t);
}

/* ---- streaming detokenizer on text split at every byte -------------------------- */

TEST(tokenizer_detok_byte_split)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        /* stories260K knows no CJK/Cyrillic/emoji: every byte becomes its own
         * <0xNN> token, so the stream is cut at every byte */
        static const char text[] = "\xe4\xbd\xa0\xe5\xa5\xbd \xd0\x9f\xd1\x80\xd0\xb8 "
                                   "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd";
        int32_t ids[64];
        struct detok d;
        struct mu_buf all = MU_BUF_INIT;
        size_t n = 0, len;

        if (!t)
                return;
        for (size_t i = 0; i < sizeof(text) - 1; i++) {
                int32_t id = i && text[i] == ' ' ? -2 : -1;
                char name[8];
                if (text[i] == ' ') {
                        id = tokenizer_find(t, "\xe2\x96\x81", 3);
                } else {
                        snprintf(name, sizeof(name), "<0x%02X>", (unsigned char)text[i]);
                        id = tokenizer_find(t, name, 6);
                }
                CHECK(id >= 0);
                ids[n++] = id;
        }
        detok_init(&d, t, 0);
        for (size_t i = 0; i < n; i++) {
                const char *p = detok_push(&d, ids[i], &len);
                CHECK_MSG(utf8_valid(p, len), "chunk %zu is not whole UTF-8", i);
                /* a 4-byte emoji comes out only with its last byte */
                mu_buf_add(&all, p, len);
        }
        detok_flush(&d, &len);
        CHECK_EQ_INT(len, 0);
        CHECK_STR(mu_buf_str(&all), text);
        /* an incomplete tail comes out at flush, unchanged */
        detok_release(&d);
        detok_init(&d, t, 0);
        detok_push(&d, ids[0], &len);
        CHECK_EQ_INT(len, 0);
        detok_push(&d, ids[1], &len);
        CHECK_EQ_INT(len, 0);
        const char *p = detok_flush(&d, &len);
        CHECK(len == 2 && !memcmp(p, text, 2));
        detok_release(&d);
        mu_buf_release(&all);
        tokenizer_free(t);
}

/* Every byte split of a multi-byte text through BPE byte tokens. */
TEST(tokenizer_detok_bpe_bytes)
{
        NEED_MODEL(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        static const char text[] = "\xf0\x9f\x98\x80 \xe4\xbd\xa0 \xd0\x9f";
        struct detok d;
        struct mu_buf all = MU_BUF_INIT;
        size_t len;

        if (!t)
                return;
        detok_init(&d, t, 0);
        for (size_t i = 0; i < sizeof(text) - 1; i++) {
                char u[4];
                size_t l = 0;
                uint32_t cp = (unsigned char)text[i];
                /* the token of byte b is the GPT-2 code point of b */
                if (cp <= 0x20)
                        cp += 0x100;
                else if (cp >= 0x7F && cp <= 0xA0)
                        cp = 0x121 + (cp - 0x7F);
                else if (cp == 0xAD)
                        cp = 0x143;
                if (cp < 0x80) {
                        u[l++] = (char)cp;
                } else {
                        u[l++] = (char)(0xC0 | cp >> 6);
                        u[l++] = (char)(0x80 | (cp & 0x3F));
                }
                int32_t id = tokenizer_find(t, u, l);
                CHECK(id >= 0);
                const char *p = detok_push(&d, id, &len);
                CHECK(utf8_valid(p, len));
                mu_buf_add(&all, p, len);
        }
        detok_flush(&d, &len);
        CHECK_EQ_INT(len, 0);
        CHECK_STR(mu_buf_str(&all), text);
        detok_release(&d);
        mu_buf_release(&all);
        tokenizer_free(t);
}

/* ---- an unknown pre-tokenizer falls back to the GPT-2 regex --------------------- */

TEST(tokenizer_unknown_pre_falls_back_to_gpt2)
{
        const char *dir = test_model("vocab");
        char path[256], *data = NULL, *hit;
        size_t size = 0;
        struct mu_err err = {0};
        struct gguf *g = NULL, *g2 = NULL;
        struct tokenizer *a = NULL, *b = NULL;
        /* key, string type, length 5, value */
        static const char pat[] = "tokenizer.ggml.pre\x08\0\0\0\x05\0\0\0\0\0\0\0gpt-2";
        static const char text[] = "Hello world!  It's 2024... \xe4\xbd\xa0\xe5\xa5\xbd\n\n\tok";

        if (!dir)
                TEST_SKIP("tests/models/vocab missing");
        snprintf(path, sizeof(path), "%s/ggml-vocab-gpt-2.gguf", dir);
        CHECK(mu_read_file(path, 0, &data, &size, &err) == 0);
        if (!data)
                return;
        /* patch the pre-tokenizer name in a copy of the file */
        hit = memmem(data, size, pat, sizeof(pat) - 1);
        CHECK(hit != NULL);
        if (hit)
                memcpy(hit + sizeof(pat) - 6, "nope!", 5);
        CHECK(gguf_open(&g, path, &err) == 0);
        CHECK(gguf_open_memory(&g2, data, size, &err) == 0);
        if (g)
                CHECK(tokenizer_create(&a, g, &err) == 0);
        if (g2)
                CHECK(tokenizer_create(&b, g2, &err) == 0);
        if (a && b) {
                int32_t *x = NULL, *y = NULL;
                size_t nx = 0, ny = 0;
                CHECK_STR(tokenizer_pre(b), "nope!");
                CHECK(tokenizer_encode(a, text, sizeof(text) - 1, 0, 0, &x, &nx, NULL) == 0);
                CHECK(tokenizer_encode(b, text, sizeof(text) - 1, 0, 0, &y, &ny, NULL) == 0);
                CHECK(nx > 5 && same_ids(x, nx, y, ny));
                free(x);
                free(y);
        }
        tokenizer_free(a);
        tokenizer_free(b);
        gguf_close(g2);
        gguf_close(g);
        free(data);
}

/* ---- errors ------------------------------------------------------------------- */

static void put_u32(struct mu_buf *b, uint32_t v) { mu_buf_add(b, &v, 4); }
static void put_u64(struct mu_buf *b, uint64_t v) { mu_buf_add(b, &v, 8); }
static void put_str(struct mu_buf *b, const char *s)
{
        put_u64(b, strlen(s));
        mu_buf_adds(b, s);
}

/* A GGUF v3 with no tensors, tokenizer.ggml.model = model and, when ntok
 * > 0, a string array tokenizer.ggml.tokens of ntok one-letter tokens. */
static int tiny_gguf(struct gguf **g, struct mu_buf *b, const char *model, int ntok)
{
        mu_buf_add(b, "GGUF", 4);
        put_u32(b, 3);
        put_u64(b, 0);
        put_u64(b, ntok > 0 ? 2 : 1);
        put_str(b, "tokenizer.ggml.model");
        put_u32(b, GGUF_TYPE_STRING);
        put_str(b, model);
        if (ntok > 0) {
                put_str(b, "tokenizer.ggml.tokens");
                put_u32(b, GGUF_TYPE_ARRAY);
                put_u32(b, GGUF_TYPE_STRING);
                put_u64(b, (uint64_t)ntok);
                for (int i = 0; i < ntok; i++)
                        put_str(b, (char[2]){(char)('a' + i), 0});
        }
        return gguf_open_memory(g, b->data, b->len, NULL);
}

TEST(tokenizer_rejects_missing_vocab)
{
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct tokenizer *t = NULL;
        struct mu_buf b = MU_BUF_INIT;

        CHECK(tiny_gguf(&g, &b, "llama", 0) == 0);
        if (g) {
                CHECK_EQ_INT(tokenizer_create(&t, g, &err), MU_ENOTFOUND);
                CHECK(t == NULL);
        }
        gguf_close(g);
        mu_buf_release(&b);
        g = NULL;
        CHECK(tiny_gguf(&g, &b, "rwkv", 3) == 0);
        if (g)
                CHECK_EQ_INT(tokenizer_create(&t, g, &err), MU_EUNSUPPORTED);
        gguf_close(g);
        mu_buf_release(&b);
        /* gpt2 without merges is an error, not a crash */
        g = NULL;
        CHECK(tiny_gguf(&g, &b, "gpt2", 3) == 0);
        if (g)
                CHECK_EQ_INT(tokenizer_create(&t, g, &err), MU_EFORMAT);
        gguf_close(g);
        mu_buf_release(&b);
        /* a bare SPM vocabulary without scores or types still works */
        g = NULL;
        CHECK(tiny_gguf(&g, &b, "llama", 3) == 0);
        if (g && tokenizer_create(&t, g, &err) == 0) {
                int32_t *ids = NULL;
                size_t n = 0;
                CHECK(tokenizer_encode(t, "abcz", 4, 1, 1, &ids, &n, NULL) == 0);
                /* bos=1 ("b"), a, b, c; 'z' and the U+2581 prefix are unknown
                 * with no byte tokens and unk=0 ("a") */
                CHECK(n >= 4);
                free(ids);
                tokenizer_free(t);
        }
        gguf_close(g);
        mu_buf_release(&b);
}

/* ---- speed: ~100 KB through the 262k-vocab gemma SPM -------------------------- */

TEST(tokenizer_speed_gemma3_100k)
{
        NEED_MODEL(path, "gemma-3-270m-q4_k_m.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        struct mu_buf text = MU_BUF_INIT, back = MU_BUF_INIT;
        static const char *const files[] = {"01_prose.txt", "02_code.py.txt", "05_chinese.txt",
                                            "06_russian.txt", "08_emoji.txt", "10_newlines.txt",
                                            "14_html.txt", "16_story.txt"};
        int32_t *ids = NULL;
        size_t n = 0;
        int64_t t0;
        double secs, limit = getenv("MULLAMA_ASAN") ? 10.0 : 1.0;

        if (!t)
                return;
        while (text.len < 100 * 1024) {
                for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                        char p[128], *s = NULL;
                        size_t l = 0;
                        snprintf(p, sizeof(p), "tokenizer/prompts/%s", files[i]);
                        if (mu_read_file(test_data(p), 0, &s, &l, NULL) == 0)
                                mu_buf_add(&text, s, l);
                        free(s);
                }
        }
        t0 = mu_time_ns();
        CHECK(tokenizer_encode(t, text.data, text.len, 1, 1, &ids, &n, NULL) == 0);
        secs = (double)(mu_time_ns() - t0) / 1e9;
        fprintf(stderr, "  gemma-3: %zu bytes -> %zu tokens in %.3f s\n", text.len, n, secs);
        CHECK_MSG(secs < limit, "tokenizing %zu bytes took %.3f s", text.len, secs);
        CHECK(n > 10000);
        tokenizer_decode(t, ids + 1, n - 1, 1, &back);  /* "</s>" is control here */
        CHECK(back.len == text.len && !memcmp(back.data, text.data, text.len));
        free(ids);
        mu_buf_release(&back);
        mu_buf_release(&text);
        tokenizer_free(t);
}

TEST(tokenizer_speed_smollm2_100k)
{
        NEED_MODEL(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
        struct tokenizer *t = open_tok(path, NULL);
        struct mu_buf text = MU_BUF_INIT, back = MU_BUF_INIT;
        int32_t *ids = NULL;
        size_t n = 0;
        int64_t t0;
        double secs, limit = getenv("MULLAMA_ASAN") ? 10.0 : 1.0;

        if (!t)
                return;
        while (text.len < 100 * 1024) {
                static const char *const files[] = {"01_prose.txt", "02_code.py.txt",
                                                    "03_numbers.txt", "05_chinese.txt",
                                                    "07_arabic.txt", "08_emoji.txt",
                                                    "09_whitespace.txt", "16_story.txt"};
                for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                        char p[128], *s = NULL;
                        size_t l = 0;
                        snprintf(p, sizeof(p), "tokenizer/prompts/%s", files[i]);
                        if (mu_read_file(test_data(p), 0, &s, &l, NULL) == 0)
                                mu_buf_add(&text, s, l);
                        free(s);
                }
        }
        t0 = mu_time_ns();
        CHECK(tokenizer_encode(t, text.data, text.len, 1, 0, &ids, &n, NULL) == 0);
        secs = (double)(mu_time_ns() - t0) / 1e9;
        fprintf(stderr, "  smollm2: %zu bytes -> %zu tokens in %.3f s\n", text.len, n, secs);
        CHECK_MSG(secs < limit, "tokenizing %zu bytes took %.3f s", text.len, secs);
        tokenizer_decode(t, ids, n, 0, &back);
        CHECK(back.len == text.len && !memcmp(back.data, text.data, text.len));
        free(ids);
        mu_buf_release(&back);
        mu_buf_release(&text);
        tokenizer_free(t);
}
