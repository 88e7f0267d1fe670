/* test_gguf_write.c -- the GGUF writer: every kv type (arrays of every
 * element type and string arrays included) and tensors read back exactly;
 * replace/remove keep order; bad tensors are refused; and the real test
 * models rewritten through the writer are byte-identical to the originals
 * (same kv order, alignment and padding as llama.cpp's gguf-py writer).
 * llama.cpp itself loads our files: see tests/data/gguf/writer-node-check.md. */
#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "test.h"

static struct gguf *reopen(struct gguf_writer *w, void **buf)
{
        struct mu_err err = {0};
        struct gguf *g = NULL;
        size_t size;

        *buf = NULL;
        if (gguf_writer_to_memory(w, buf, &size, &err)) {
                test_fail_at(__FILE__, __LINE__, "to_memory: %s", err.msg);
                return NULL;
        }
        if (gguf_open_memory(&g, *buf, size, &err))
                test_fail_at(__FILE__, __LINE__, "reopen: %s", err.msg);
        return g;
}

TEST(gguf_write_every_kv_type_reads_back)
{
        static const uint8_t u8[] = {0, 7, 255};
        static const int8_t i8[] = {-128, 0, 127};
        static const uint16_t u16[] = {0, 65535};
        static const int16_t i16[] = {-32768, 32767};
        static const uint32_t u32[] = {0, 4294967295u, 12345};
        static const int32_t i32[] = {INT32_MIN, INT32_MAX};
        static const float f32[] = {0.5f, -3.25f, 1e-30f};
        static const uint8_t bools[] = {1, 0, 1};
        static const uint64_t u64[] = {UINT64_MAX, 1};
        static const int64_t i64[] = {INT64_MIN, INT64_MAX, -5};
        static const double f64[] = {1e300, -0.125};
        static const char *strs[] = {"<s>", "", "\xe2\x96\x81the", "a b c"};
        struct gguf_writer *w = gguf_writer_create();
        struct gguf_arr a;
        void *buf;
        int64_t v;
        double d;
        int b;

        gguf_writer_set_u8(w, "u8", 250);
        gguf_writer_set_i8(w, "i8", -7);
        gguf_writer_set_u16(w, "u16", 65000);
        gguf_writer_set_i16(w, "i16", -30000);
        gguf_writer_set_u32(w, "u32", 4000000000u);
        gguf_writer_set_i32(w, "i32", -2000000000);
        gguf_writer_set_u64(w, "u64", UINT64_MAX);
        gguf_writer_set_i64(w, "i64", INT64_MIN);
        gguf_writer_set_f32(w, "f32", 0.1f);
        gguf_writer_set_f64(w, "f64", 0.1);
        gguf_writer_set_bool(w, "bool", 5);
        gguf_writer_set_str(w, "str", "h\xc3\xa9llo");
        gguf_writer_set_str(w, "empty", "");
        gguf_writer_set_arr(w, "a.u8", GGUF_TYPE_UINT8, u8, 3);
        gguf_writer_set_arr(w, "a.i8", GGUF_TYPE_INT8, i8, 3);
        gguf_writer_set_arr(w, "a.u16", GGUF_TYPE_UINT16, u16, 2);
        gguf_writer_set_arr(w, "a.i16", GGUF_TYPE_INT16, i16, 2);
        gguf_writer_set_arr(w, "a.u32", GGUF_TYPE_UINT32, u32, 3);
        gguf_writer_set_arr(w, "a.i32", GGUF_TYPE_INT32, i32, 2);
        gguf_writer_set_arr(w, "a.f32", GGUF_TYPE_FLOAT32, f32, 3);
        gguf_writer_set_arr(w, "a.bool", GGUF_TYPE_BOOL, bools, 3);
        gguf_writer_set_arr(w, "a.u64", GGUF_TYPE_UINT64, u64, 2);
        gguf_writer_set_arr(w, "a.i64", GGUF_TYPE_INT64, i64, 3);
        gguf_writer_set_arr(w, "a.f64", GGUF_TYPE_FLOAT64, f64, 2);
        gguf_writer_set_arr(w, "a.none", GGUF_TYPE_INT32, NULL, 0);
        gguf_writer_set_arr_str(w, "a.str", strs, 4);
        gguf_writer_set_arr_str(w, "a.str0", NULL, 0);

        struct gguf *g = reopen(w, &buf);
        gguf_writer_free(w);
        if (!g)
                return;
        static const char *order[] = {"u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64",
                                      "f32", "f64", "bool", "str", "empty", "a.u8"};
        for (int i = 0; i < 14; i++)
                CHECK_STR(gguf_key(g, i), order[i]);
        CHECK_EQ_INT(gguf_n_kv(g), 27);
        CHECK_EQ_INT(gguf_version(g), 3);
        CHECK_EQ_INT(gguf_n_tensors(g), 0);
        static const int types[] = {GGUF_TYPE_UINT8, GGUF_TYPE_INT8, GGUF_TYPE_UINT16,
                                    GGUF_TYPE_INT16, GGUF_TYPE_UINT32, GGUF_TYPE_INT32,
                                    GGUF_TYPE_UINT64, GGUF_TYPE_INT64, GGUF_TYPE_FLOAT32,
                                    GGUF_TYPE_FLOAT64, GGUF_TYPE_BOOL, GGUF_TYPE_STRING};
        for (int i = 0; i < 12; i++)
                CHECK_EQ_INT(gguf_kv_type(g, i), types[i]);
        CHECK(gguf_get_i64(g, "u8", &v) == 0 && v == 250);
        CHECK(gguf_get_i64(g, "i8", &v) == 0 && v == -7);
        CHECK(gguf_get_i64(g, "u16", &v) == 0 && v == 65000);
        CHECK(gguf_get_i64(g, "i16", &v) == 0 && v == -30000);
        CHECK(gguf_get_i64(g, "u32", &v) == 0 && v == 4000000000ll);
        CHECK(gguf_get_i64(g, "i32", &v) == 0 && v == -2000000000);
        CHECK(gguf_get_i64(g, "u64", &v) == 0 && (uint64_t)v == UINT64_MAX);
        CHECK(gguf_get_i64(g, "i64", &v) == 0 && v == INT64_MIN);
        CHECK(gguf_get_f64(g, "f32", &d) == 0 && (float)d == 0.1f);
        CHECK(gguf_get_f64(g, "f64", &d) == 0 && d == 0.1);
        CHECK(gguf_get_bool(g, "bool", &b) == 0 && b == 1);
        CHECK_STR(gguf_get_str(g, "str"), "h\xc3\xa9llo");
        CHECK_STR(gguf_get_str(g, "empty"), "");

        CHECK(gguf_get_arr(g, "a.u8", &a) == 0 && a.type == GGUF_TYPE_UINT8 && a.n == 3);
        CHECK(!memcmp(a.data, u8, sizeof(u8)));
        CHECK(gguf_get_arr(g, "a.i8", &a) == 0 && a.type == GGUF_TYPE_INT8 && a.n == 3);
        CHECK(!memcmp(a.data, i8, sizeof(i8)) && gguf_arr_i64(&a, 0) == -128);
        CHECK(gguf_get_arr(g, "a.u16", &a) == 0 && a.type == GGUF_TYPE_UINT16 && a.n == 2);
        CHECK(!memcmp(a.data, u16, sizeof(u16)) && gguf_arr_i64(&a, 1) == 65535);
        CHECK(gguf_get_arr(g, "a.i16", &a) == 0 && a.type == GGUF_TYPE_INT16 && a.n == 2);
        CHECK(!memcmp(a.data, i16, sizeof(i16)) && gguf_arr_i64(&a, 0) == -32768);
        CHECK(gguf_get_arr(g, "a.u32", &a) == 0 && a.type == GGUF_TYPE_UINT32 && a.n == 3);
        CHECK(!memcmp(a.data, u32, sizeof(u32)) && gguf_arr_i64(&a, 1) == 4294967295ll);
        CHECK(gguf_get_arr(g, "a.i32", &a) == 0 && a.type == GGUF_TYPE_INT32 && a.n == 2);
        CHECK(!memcmp(a.data, i32, sizeof(i32)) && gguf_arr_i64(&a, 0) == INT32_MIN);
        CHECK(gguf_get_arr(g, "a.f32", &a) == 0 && a.type == GGUF_TYPE_FLOAT32 && a.n == 3);
        CHECK(!memcmp(a.data, f32, sizeof(f32)) && gguf_arr_f32(&a, 1) == -3.25f);
        CHECK(gguf_get_arr(g, "a.bool", &a) == 0 && a.type == GGUF_TYPE_BOOL && a.n == 3);
        CHECK(!memcmp(a.data, bools, sizeof(bools)));
        CHECK(gguf_get_arr(g, "a.u64", &a) == 0 && a.type == GGUF_TYPE_UINT64 && a.n == 2);
        CHECK(!memcmp(a.data, u64, sizeof(u64)));
        CHECK(gguf_get_arr(g, "a.i64", &a) == 0 && a.type == GGUF_TYPE_INT64 && a.n == 3);
        CHECK(!memcmp(a.data, i64, sizeof(i64)) && gguf_arr_i64(&a, 2) == -5);
        CHECK(gguf_get_arr(g, "a.f64", &a) == 0 && a.type == GGUF_TYPE_FLOAT64 && a.n == 2);
        CHECK(!memcmp(a.data, f64, sizeof(f64)) && gguf_arr_f64(&a, 0) == 1e300);
        CHECK(gguf_get_arr(g, "a.none", &a) == 0 && a.type == GGUF_TYPE_INT32 && a.n == 0);
        CHECK(gguf_get_arr(g, "a.str", &a) == 0 && a.type == GGUF_TYPE_STRING && a.n == 4);
        for (int i = 0; i < 4; i++)
                CHECK_STR(gguf_arr_str(g, &a, (uint64_t)i, NULL), strs[i]);
        CHECK(gguf_get_arr(g, "a.str0", &a) == 0 && a.type == GGUF_TYPE_STRING && a.n == 0);
        gguf_close(g);
        free(buf);
}

TEST(gguf_write_replace_remove_and_copy_keep_order)
{
        struct gguf_writer *w = gguf_writer_create(), *w2;
        static const char nul[] = "a\0b";
        void *buf, *buf2;
        int64_t v;

        gguf_writer_set_str(w, "a", "one");
        gguf_writer_set_u32(w, "b", 2);
        gguf_writer_set_str(w, "c", "three");
        gguf_writer_set_i64(w, "a", -1);  /* replaced in place, new type */
        gguf_writer_remove_kv(w, "b");
        gguf_writer_remove_kv(w, "no-such-key");
        gguf_writer_set_u16(w, "d", 4);
        struct gguf *g = reopen(w, &buf);
        gguf_writer_free(w);
        if (!g)
                return;
        CHECK_EQ_INT(gguf_n_kv(g), 3);
        CHECK_STR(gguf_key(g, 0), "a");
        CHECK_STR(gguf_key(g, 1), "c");
        CHECK_STR(gguf_key(g, 2), "d");
        CHECK(gguf_get_i64(g, "a", &v) == 0 && v == -1);
        CHECK_EQ_INT(gguf_kv_type(g, 0), GGUF_TYPE_INT64);

        /* copy_kv of every kv gives the same bytes */
        w2 = gguf_writer_create();
        for (int64_t i = 0; i < gguf_n_kv(g); i++)
                gguf_writer_copy_kv(w2, g, i);
        struct gguf *g2 = reopen(w2, &buf2);
        gguf_writer_free(w2);
        CHECK(g2 && gguf_size(g2) == gguf_size(g) && !memcmp(buf, buf2, gguf_size(g)));
        gguf_close(g2);
        free(buf2);
        gguf_close(g);
        free(buf);

        /* a string holding a NUL byte survives a copy with its length */
        struct gguf_writer *w3 = gguf_writer_create();
        struct mu_err err = {0};
        uint8_t raw[64];
        size_t n = 0, len;
        memcpy(raw, "GGUF\3\0\0\0", 8);
        memset(raw + 8, 0, 8);
        raw[16] = 1;
        memset(raw + 17, 0, 7);
        n = 24;
        uint64_t kl = 1, sl = 3;
        uint32_t t = GGUF_TYPE_STRING;
        memcpy(raw + n, &kl, 8), n += 8, raw[n++] = 'k';
        memcpy(raw + n, &t, 4), n += 4;
        memcpy(raw + n, &sl, 8), n += 8, memcpy(raw + n, nul, 3), n += 3;
        CHECK(gguf_open_memory(&g, raw, n, &err) == 0);
        if (!g)
                return;
        gguf_writer_copy_kv(w3, g, 0);
        g2 = reopen(w3, &buf2);
        CHECK(g2 && gguf_kv_str(g2, 0, &len) && len == 3 &&
              !memcmp(gguf_kv_str(g2, 0, NULL), nul, 3));
        CHECK(g2 && gguf_size(g2) == n && !memcmp(buf2, raw, n));
        gguf_close(g2);
        gguf_close(g);
        free(buf2);
        gguf_writer_free(w3);
}

TEST(gguf_write_tensors_with_alignment)
{
        static float f[96];
        static uint8_t q[4 * 18];
        int64_t ne_a[2] = {3, 5}, ne_b[1] = {81}, ne_q[2] = {32, 4}, ne_e[2] = {0, 7};
        size_t aligns[] = {1, 32, 64, 4096};

        for (int i = 0; i < 96; i++)
                f[i] = (float)i * 0.5f - 7.0f;
        for (size_t i = 0; i < sizeof(q); i++)
                q[i] = (uint8_t)(i * 29 + 3);
        for (int k = 0; k < 4; k++) {
                struct gguf_writer *w = gguf_writer_create();
                struct mu_err err = {0};
                void *buf;
                gguf_writer_set_str(w, "general.architecture", "test");
                if (aligns[k] != 32)
                        gguf_writer_set_alignment(w, aligns[k]);
                CHECK(gguf_writer_add_tensor(w, "a", MU_TYPE_F32, 2, ne_a, f, 60, &err) == 0);
                CHECK(gguf_writer_add_tensor(w, "b.half", MU_TYPE_F16, 1, ne_b, f, 162,
                                             &err) == 0);
                CHECK(gguf_writer_add_tensor(w, "c.q", MU_TYPE_Q4_0, 2, ne_q, q, 72, &err) == 0);
                CHECK(gguf_writer_add_tensor(w, "d.empty", MU_TYPE_F32, 2, ne_e, f, 0,
                                             &err) == 0);
                struct gguf *g = reopen(w, &buf);
                gguf_writer_free(w);
                if (!g)
                        continue;
                CHECK_EQ_INT(gguf_alignment(g), aligns[k]);
                CHECK_EQ_INT(gguf_data_offset(g) % aligns[k], 0);
                CHECK_EQ_INT(gguf_n_tensors(g), 4);
                const void *src[4] = {f, f, q, f};
                const int types[4] = {MU_TYPE_F32, MU_TYPE_F16, MU_TYPE_Q4_0, MU_TYPE_F32};
                const size_t sizes[4] = {60, 162, 72, 0};
                for (int i = 0; i < 4; i++) {
                        const struct gguf_tensor_info *t = gguf_tensor(g, i);
                        CHECK_EQ_INT(t->type, types[i]);
                        CHECK_EQ_INT(t->size, sizes[i]);
                        CHECK_EQ_INT(t->offset % aligns[k], 0);
                        CHECK(!memcmp(t->data, src[i], sizes[i]));
                }
                const struct gguf_tensor_info *t = gguf_tensor(g, 0);
                CHECK(t->n_dims == 2 && t->ne[0] == 3 && t->ne[1] == 5 && t->ne[2] == 1);
                t = gguf_tensor(g, 3);
                CHECK(t->n_dims == 2 && t->ne[0] == 0 && t->ne[1] == 7);
                CHECK_STR(gguf_tensor(g, 1)->name, "b.half");
                /* padding bytes are zero and the file ends aligned */
                CHECK_EQ_INT(gguf_size(g) % aligns[k], 0);
                const uint8_t *base = gguf_base(g);
                size_t end_a = gguf_data_offset(g) + 60;
                for (size_t p = end_a; p < gguf_data_offset(g) + gguf_tensor(g, 1)->offset; p++)
                        CHECK(base[p] == 0);
                gguf_close(g);
                free(buf);
        }
}

TEST(gguf_write_refuses_bad_input)
{
        struct gguf_writer *w = gguf_writer_create();
        struct mu_err err = {0};
        static float f[64];
        int64_t ne[5] = {8, 1, 1, 1, 1}, neg[2] = {8, -1}, q33[1] = {33};
        void *buf;
        size_t size;

        CHECK(gguf_writer_add_tensor(w, "t", MU_TYPE_F32, 1, ne, f, 32, &err) == 0);
        CHECK(gguf_writer_add_tensor(w, "t", MU_TYPE_F32, 1, ne, f, 32, &err) == MU_EINVAL);
        CHECK(strstr(err.msg, "duplicate tensor 't'") != NULL);
        CHECK(gguf_writer_add_tensor(w, "u", MU_TYPE_F32, 1, ne, f, 31, &err) == MU_EINVAL);
        CHECK(strstr(err.msg, "needs 32") != NULL);
        CHECK(gguf_writer_add_tensor(w, "u", MU_TYPE_F32, 5, ne, f, 32, &err) == MU_EINVAL);
        CHECK(gguf_writer_add_tensor(w, "u", MU_TYPE_F32, 0, ne, f, 32, &err) == MU_EINVAL);
        CHECK(gguf_writer_add_tensor(w, "u", 4, 1, ne, f, 32, &err) == MU_EINVAL);
        CHECK(strstr(err.msg, "unknown type 4") != NULL);
        CHECK(gguf_writer_add_tensor(w, "u", MU_TYPE_F32, 2, neg, f, 32, &err) == MU_EINVAL);
        CHECK(gguf_writer_add_tensor(w, "u", MU_TYPE_Q4_0, 1, q33, f, 18, &err) == MU_EINVAL);
        CHECK(strstr(err.msg, "block size") != NULL);
        CHECK(gguf_writer_add_tensor(w, "", MU_TYPE_F32, 1, ne, f, 32, &err) == MU_EINVAL);
        char longname[80];
        memset(longname, 'x', 79);
        longname[79] = 0;
        CHECK(gguf_writer_add_tensor(w, longname, MU_TYPE_F32, 1, ne, f, 32, &err) ==
              MU_EINVAL);
        CHECK(gguf_writer_add_tensor(w, "nodata", MU_TYPE_F32, 1, ne, NULL, 32, &err) ==
              MU_EINVAL);
        CHECK(gguf_writer_to_memory(w, &buf, &size, &err) == 0);  /* still fine */
        free(buf);
        /* deferred setter errors surface at write time */
        gguf_writer_set_alignment(w, 48);
        CHECK(gguf_writer_to_memory(w, &buf, &size, &err) == MU_EINVAL);
        CHECK(strstr(err.msg, "power of two") != NULL);
        gguf_writer_free(w);
        w = gguf_writer_create();
        gguf_writer_set_arr(w, "x", GGUF_TYPE_ARRAY, f, 1);
        CHECK(gguf_writer_to_memory(w, &buf, &size, &err) == MU_EINVAL);
        CHECK(strstr(err.msg, "'x'") != NULL);
        gguf_writer_free(w);
        w = gguf_writer_create();
        gguf_writer_set_str(w, "general.alignment", "64");
        CHECK(gguf_writer_to_memory(w, &buf, &size, &err) == MU_EINVAL);
        gguf_writer_free(w);
}

/* Copy every kv and tensor of path through the writer; compare bytes. */
static void check_rewrite_identical(const char *path, int via_file)
{
        struct mu_err err = {0};
        struct gguf *g = NULL, *g2 = NULL;
        struct gguf_writer *w;
        struct mu_map m2 = {0};
        void *buf = NULL;
        size_t size = 0;
        char *tmp = NULL, *out = NULL;

        CHECK_MSG(gguf_open(&g, path, &err) == 0, "%s", err.msg);
        if (!g)
                return;
        w = gguf_writer_create();
        for (int64_t i = 0; i < gguf_n_kv(g); i++)
                gguf_writer_copy_kv(w, g, i);
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                CHECK(gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                             t->size, &err) == 0);
        }
        if (via_file) {
                tmp = test_tmpdir();
                out = mu_xasprintf("%s/rewritten.gguf", tmp);
                CHECK_MSG(gguf_writer_write(w, out, &err) == 0, "%s", err.msg);
                if (mu_map_file(&m2, out, &err) == 0) {
                        buf = (void *)m2.data;
                        size = m2.size;
                }
        } else {
                CHECK(gguf_writer_to_memory(w, &buf, &size, &err) == 0);
        }
        gguf_writer_free(w);
        CHECK_EQ_INT(size, gguf_size(g));
        CHECK_MSG(buf && size == gguf_size(g) && !memcmp(buf, gguf_base(g), size),
                  "%s: rewrite differs", path);
        /* and tensor data compares equal through the reader as well */
        if (buf && gguf_open_memory(&g2, buf, size, &err) == 0) {
                CHECK_EQ_INT(gguf_n_tensors(g2), gguf_n_tensors(g));
                for (int64_t i = 0; i < gguf_n_tensors(g); i++)
                        CHECK(gguf_tensor(g2, i)->size == gguf_tensor(g, i)->size &&
                              !memcmp(gguf_tensor(g2, i)->data, gguf_tensor(g, i)->data,
                                      gguf_tensor(g, i)->size));
                gguf_close(g2);
        }
        if (via_file)
                mu_unmap(&m2);
        else
                free(buf);
        free(out);
        free(tmp);
        gguf_close(g);
}

TEST(gguf_write_stories260k_byte_identical)
{
        NEED_MODEL(path, "stories260K.gguf");
        check_rewrite_identical(path, 1);
}

TEST(gguf_write_tiny_random_and_vocab_files_byte_identical)
{
        NEED_MODEL(path, "llama-2-tiny-random.gguf");
        static const char *vocab[] = {"gpt-2", "starcoder", "deepseek-coder", "llama-spm",
                                      "phi-3", "bert-bge"};
        check_rewrite_identical(path, 0);
        for (int i = 0; i < 6; i++) {
                char name[80];
                snprintf(name, sizeof(name), "vocab/ggml-vocab-%s.gguf", vocab[i]);
                const char *p = test_model(name);
                if (!p)
                        TEST_SKIP("vocab files not in tests/models");
                check_rewrite_identical(p, 0);
        }
}

TEST(gguf_write_smollm2_gemma_byte_identical)
{
        NEED_MODEL(smol, "SmolLM2-135M-Instruct.Q4_1.gguf");
        NEED_MODEL(gemma, "gemma-3-270m-q4_k_m.gguf");
        check_rewrite_identical(smol, 0);
        check_rewrite_identical(gemma, 1);
}
