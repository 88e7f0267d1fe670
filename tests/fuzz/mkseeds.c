/* mkseeds.c -- writes the seed corpus tests/fuzz/corpus/gguf/ with the
 * GGUF writer: one file per feature (every kv type, arrays of every element
 * type, string arrays, tensors of several types, alignments), plus the
 * metadata of the real test models with their tensors shrunk to tiny shapes.
 * Truncated prefixes of the vocab-only files are cut with head(1); see
 * tests/fuzz/README.md for the commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/gguf.h"

static int out(struct gguf_writer *w, const char *dir, const char *name)
{
        struct mu_err err = {0};
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (gguf_writer_write(w, path, &err)) {
                fprintf(stderr, "%s: %s\n", path, err.msg);
                return 1;
        }
        gguf_writer_free(w);
        return 0;
}

static void all_kv_types(struct gguf_writer *w)
{
        static const uint8_t u8[] = {0, 1, 255};
        static const int16_t i16[] = {-32768, 0, 32767};
        static const uint32_t u32[] = {1, 2, 0xffffffffu};
        static const float f32[] = {0.5f, -1e30f, 3.0f};
        static const double f64[] = {1e-300, -2.5};
        static const int64_t i64[] = {INT64_MIN, -1, INT64_MAX};
        static const uint8_t bools[] = {0, 1, 1, 0};
        static const char *strs[] = {"a", "", "<0x00>", "\xe2\x96\x81hello"};

        gguf_writer_set_u8(w, "t.u8", 200);
        gguf_writer_set_i8(w, "t.i8", -100);
        gguf_writer_set_u16(w, "t.u16", 65000);
        gguf_writer_set_i16(w, "t.i16", -32000);
        gguf_writer_set_u32(w, "t.u32", 4000000000u);
        gguf_writer_set_i32(w, "t.i32", -2000000000);
        gguf_writer_set_u64(w, "t.u64", 18000000000000000000ull);
        gguf_writer_set_i64(w, "t.i64", -9000000000000000000ll);
        gguf_writer_set_f32(w, "t.f32", 1.5f);
        gguf_writer_set_f64(w, "t.f64", -0.25);
        gguf_writer_set_bool(w, "t.bool", 1);
        gguf_writer_set_str(w, "t.str", "hello");
        gguf_writer_set_arr(w, "t.a.u8", GGUF_TYPE_UINT8, u8, 3);
        gguf_writer_set_arr(w, "t.a.i16", GGUF_TYPE_INT16, i16, 3);
        gguf_writer_set_arr(w, "t.a.u32", GGUF_TYPE_UINT32, u32, 3);
        gguf_writer_set_arr(w, "t.a.f32", GGUF_TYPE_FLOAT32, f32, 3);
        gguf_writer_set_arr(w, "t.a.f64", GGUF_TYPE_FLOAT64, f64, 2);
        gguf_writer_set_arr(w, "t.a.i64", GGUF_TYPE_INT64, i64, 3);
        gguf_writer_set_arr(w, "t.a.bool", GGUF_TYPE_BOOL, bools, 4);
        gguf_writer_set_arr(w, "t.a.empty", GGUF_TYPE_UINT32, NULL, 0);
        gguf_writer_set_arr_str(w, "t.a.str", strs, 4);
}

static int tensors(struct gguf_writer *w, int with_quant)
{
        static float f[64];
        static uint8_t q[4 * 18 + 2 * 144];
        struct mu_err err = {0};
        int64_t ne2[2] = {8, 8}, ne1[1] = {64}, neq[2] = {32, 4}, nek[1] = {256};

        for (int i = 0; i < 64; i++)
                f[i] = (float)i / 8.0f;
        for (size_t i = 0; i < sizeof(q); i++)
                q[i] = (uint8_t)(i * 37);
        if (gguf_writer_add_tensor(w, "a.weight", MU_TYPE_F32, 2, ne2, f, 256, &err) ||
            gguf_writer_add_tensor(w, "b.bias", MU_TYPE_F16, 1, ne1, f, 128, &err))
                return 1;
        if (with_quant &&
            (gguf_writer_add_tensor(w, "c.q4_0", MU_TYPE_Q4_0, 2, neq, q, 72, &err) ||
             gguf_writer_add_tensor(w, "d.q4_k", MU_TYPE_Q4_K, 1, nek, q + 72, 144, &err)))
                return 1;
        return 0;
}

/* The metadata of a real model, its tensors reshaped to 32 elements. */
static int shrink(const char *model, const char *dir, const char *name, int max_arr)
{
        static uint8_t zeros[64];
        struct mu_err err = {0};
        struct gguf *g;
        struct gguf_writer *w;

        if (gguf_open(&g, model, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        w = gguf_writer_create();
        for (int64_t i = 0; i < gguf_n_kv(g); i++) {
                struct gguf_arr a;
                gguf_writer_copy_kv(w, g, i);
                if (gguf_kv_arr(g, i, &a) == 0 && a.n > (uint64_t)max_arr) {
                        /* keep the first max_arr elements */
                        const char *key = gguf_key(g, i);
                        if (a.type == GGUF_TYPE_STRING) {
                                const char **s = calloc((size_t)max_arr, sizeof(char *));
                                for (int j = 0; j < max_arr; j++)
                                        s[j] = gguf_arr_str(g, &a, (uint64_t)j, NULL);
                                gguf_writer_set_arr_str(w, key, s, (uint64_t)max_arr);
                                free(s);
                        } else {
                                gguf_writer_set_arr(w, key, a.type, a.data, (uint64_t)max_arr);
                        }
                }
        }
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                const struct mu_type_info *ti = mu_type_info(t->type);
                int64_t ne[1] = {ti->blck_size == 1 ? 8 : ti->blck_size};
                if (gguf_writer_add_tensor(w, t->name, t->type, 1, ne, zeros,
                                           mu_row_size(t->type, ne[0]), &err)) {
                        fprintf(stderr, "%s\n", err.msg);
                        return 1;
                }
        }
        gguf_close(g);
        return out(w, dir, name);
}

int main(int argc, char **argv)
{
        const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/gguf";
        const char *models = argc > 2 ? argv[2] : "tests/models";
        char p[512];
        struct gguf_writer *w;
        int rc = 0;

        w = gguf_writer_create();
        rc |= out(w, dir, "empty.gguf");
        w = gguf_writer_create();
        all_kv_types(w);
        rc |= out(w, dir, "kv-all-types.gguf");
        w = gguf_writer_create();
        gguf_writer_set_str(w, "general.architecture", "llama");
        rc |= tensors(w, 0) || out(w, dir, "tensors-f32-f16.gguf");
        w = gguf_writer_create();
        all_kv_types(w);
        gguf_writer_set_alignment(w, 64);
        rc |= tensors(w, 1) || out(w, dir, "kv-tensors-align64.gguf");
        w = gguf_writer_create();
        gguf_writer_set_alignment(w, 1);
        rc |= tensors(w, 1) || out(w, dir, "tensors-align1.gguf");
        snprintf(p, sizeof(p), "%s/stories260K.gguf", models);
        rc |= shrink(p, dir, "stories260K-shrunk.gguf", 16);
        snprintf(p, sizeof(p), "%s/SmolLM2-135M-Instruct.Q4_1.gguf", models);
        rc |= shrink(p, dir, "smollm2-shrunk.gguf", 16);
        snprintf(p, sizeof(p), "%s/gemma-3-270m-q4_k_m.gguf", models);
        rc |= shrink(p, dir, "gemma3-shrunk.gguf", 16);
        return rc;
}
