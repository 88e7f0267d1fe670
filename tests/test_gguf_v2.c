/* test_gguf_v2.c -- GGUF version 2 files read like version 3 ones:
 *   - tests/data/gguf/v2-all-types.gguf, written by make_v2.py with Python's
 *     struct (not our writer): every value it put there, tensor data bytes;
 *   - the same bytes with the version patched to 3 parse identically;
 *   - llama.cpp's own v2 file (models/ggml-vocab-aquila.gguf from the
 *     llama.cpp source tree in ../anchors) against facts read from it with a
 *     Python struct reader: 18 keys, no tensors, 100008 tokens, 99743 merges. */
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "test.h"

static void check_v2_values(struct gguf *g)
{
        int64_t i;
        double d;
        int b;
        struct gguf_arr a;
        const struct gguf_tensor_info *t;

        CHECK_EQ_INT(gguf_n_kv(g), 18);
        CHECK_EQ_INT(gguf_alignment(g), 64);
        CHECK_EQ_INT(gguf_data_offset(g) % 64, 0);
        CHECK_STR(gguf_get_str(g, "general.architecture"), "llama");
        CHECK(gguf_get_i64(g, "t.u8", &i) == 0 && i == 200);
        CHECK(gguf_get_i64(g, "t.i8", &i) == 0 && i == -100);
        CHECK(gguf_get_i64(g, "t.u16", &i) == 0 && i == 60000);
        CHECK(gguf_get_i64(g, "t.i16", &i) == 0 && i == -30000);
        CHECK(gguf_get_i64(g, "t.u32", &i) == 0 && i == 4000000000LL);
        CHECK(gguf_get_i64(g, "t.i32", &i) == 0 && i == -2000000000LL);
        CHECK(gguf_get_f64(g, "t.f32", &d) == 0 && d == 1.5);
        CHECK(gguf_get_bool(g, "t.bool", &b) == 0 && b == 1);
        CHECK(gguf_get_i64(g, "t.u64", &i) == 0 && i == (1LL << 40));
        CHECK(gguf_get_i64(g, "t.i64", &i) == 0 && i == -(1LL << 40));
        CHECK(gguf_get_f64(g, "t.f64", &d) == 0 && d == -0.125);
        CHECK_STR(gguf_get_str(g, "t.str"), "h\xc3\xa9llo, v2");
        CHECK(gguf_get_arr(g, "t.arr_u8", &a) == 0 && a.type == GGUF_TYPE_UINT8 && a.n == 3 &&
              gguf_arr_i64(&a, 0) == 1 && gguf_arr_i64(&a, 2) == 3);
        CHECK(gguf_get_arr(g, "t.arr_i32", &a) == 0 && a.type == GGUF_TYPE_INT32 && a.n == 3 &&
              gguf_arr_i64(&a, 0) == -1 && gguf_arr_i64(&a, 2) == 7);
        CHECK(gguf_get_arr(g, "t.arr_f32", &a) == 0 && a.type == GGUF_TYPE_FLOAT32 && a.n == 2 &&
              gguf_arr_f32(&a, 0) == 0.5f && gguf_arr_f32(&a, 1) == -2.0f);
        CHECK(gguf_get_arr(g, "t.arr_str", &a) == 0 && a.type == GGUF_TYPE_STRING && a.n == 3);
        CHECK_STR(gguf_arr_str(g, &a, 0, NULL), "a");
        CHECK_STR(gguf_arr_str(g, &a, 1, NULL), "");
        CHECK_STR(gguf_arr_str(g, &a, 2, NULL), "xyz");

        CHECK_EQ_INT(gguf_n_tensors(g), 3);
        if (gguf_n_tensors(g) != 3)
                return;
        t = gguf_tensor(g, 0);
        CHECK_STR(t->name, "w.f32");
        CHECK(t->type == MU_TYPE_F32 && t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 2);
        CHECK_EQ_INT(t->size, 24);
        CHECK(((const float *)t->data)[5] == 1.25f);
        t = gguf_tensor(g, 1);
        CHECK_STR(t->name, "w.f16");
        CHECK(t->type == MU_TYPE_F16 && t->ne[0] == 4 && t->size == 8);
        CHECK_EQ_INT(t->offset, 64);
        /* 2.0 in binary16 is 0x4000, little-endian */
        CHECK(((const uint8_t *)t->data)[6] == 0x00 && ((const uint8_t *)t->data)[7] == 0x40);
        t = gguf_tensor(g, 2);
        CHECK_STR(t->name, "w.q8_0");
        CHECK(t->type == MU_TYPE_Q8_0 && t->ne[0] == 32 && t->size == 34);
        CHECK_EQ_INT(t->offset, 128);
        CHECK_EQ_INT(gguf_data_offset(g) + t->offset + t->size, gguf_size(g));
}

TEST(gguf_reads_v2_file)
{
        const char *path = test_data("gguf/v2-all-types.gguf");
        struct mu_err err = {0};
        struct gguf *g = NULL;
        char *buf = NULL;
        size_t len = 0;

        CHECK_MSG(gguf_open(&g, path, &err) == 0, "%s", err.msg);
        if (!g)
                return;
        CHECK_EQ_INT(gguf_version(g), 2);
        check_v2_values(g);
        gguf_close(g);

        /* the same bytes as version 3: the same file */
        CHECK(mu_read_file(path, 0, &buf, &len, &err) == 0);
        if (!buf)
                return;
        CHECK(len > 8 && buf[4] == 2);
        buf[4] = 3;
        g = NULL;
        CHECK_MSG(gguf_open_memory(&g, buf, len, &err) == 0, "%s", err.msg);
        if (g) {
                CHECK_EQ_INT(gguf_version(g), 3);
                check_v2_values(g);
                gguf_close(g);
        }
        free(buf);
}

TEST(gguf_reads_llamacpp_v2_vocab)
{
        const char *path = "../anchors/build/llama.cpp-src/models/ggml-vocab-aquila.gguf";
        struct mu_err err = {0};
        struct gguf *g = NULL;
        struct gguf_arr a;
        int64_t v;

        if (access(path, R_OK) != 0)
                TEST_SKIP("llama.cpp's models/ggml-vocab-aquila.gguf (GGUF v2) not in ../anchors");
        CHECK_MSG(gguf_open(&g, path, &err) == 0, "%s", err.msg);
        if (!g)
                return;
        CHECK_EQ_INT(gguf_version(g), 2);
        CHECK_EQ_INT(gguf_n_kv(g), 18);
        CHECK_EQ_INT(gguf_n_tensors(g), 0);
        CHECK_STR(gguf_get_str(g, "general.architecture"), "llama");
        CHECK_STR(gguf_get_str(g, "tokenizer.ggml.model"), "gpt2");
        CHECK(gguf_get_i64(g, "llama.block_count", &v) == 0 && v == 32);
        CHECK(gguf_get_i64(g, "llama.feed_forward_length", &v) == 0 && v == 11008);
        CHECK(gguf_get_arr(g, "tokenizer.ggml.tokens", &a) == 0 && a.n == 100008);
        CHECK_STR(gguf_arr_str(g, &a, 0, NULL), "<|endoftext|>");
        CHECK(gguf_get_arr(g, "tokenizer.ggml.merges", &a) == 0 && a.n == 99743);
        CHECK_STR(gguf_arr_str(g, &a, 2, NULL), "\xc4\xa0 t");
        gguf_close(g);
}
