/* fuzz_gguf.c -- libFuzzer target: parse arbitrary bytes with
 * gguf_open_memory() and, when that succeeds, walk every kv, array element
 * and tensor through the public accessors, touching every byte the reader
 * says is valid (so ASan catches any pointer past the buffer).  A parsed file
 * is also rewritten with the writer and must parse again with the same
 * counts.  Build: make fuzz; run: make fuzz-run FUZZ_SECONDS=N. */
#include <stdlib.h>
#include <string.h>

#include "mullama/gguf.h"

static volatile uint64_t sink;
static volatile double fsink;

static void touch(const void *p, size_t n)
{
        const uint8_t *b = p;
        uint64_t s = 0;

        for (size_t i = 0; i < n; i++)
                s += b[i];
        sink += s;
}

static void walk(const struct gguf *g)
{
        sink += gguf_version(g) + gguf_alignment(g) + gguf_data_offset(g) + gguf_size(g);
        for (int64_t i = 0; i < gguf_n_kv(g); i++) {
                const char *key = gguf_key(g, i);
                int type = gguf_kv_type(g, i);
                int64_t iv;
                double dv;
                size_t len;
                struct gguf_arr a;

                touch(key, strlen(key));
                if (gguf_find_key(g, key) != i)
                        abort();  /* duplicate keys must have been rejected */
                sink += (uint64_t)(gguf_kv_i64(g, i, &iv) == 0 ? iv : 0);
                if (gguf_kv_f64(g, i, &dv) == 0)
                        fsink += dv;
                const char *s = gguf_kv_str(g, i, &len);
                if (s)
                        touch(s, len + 1);
                if (type == GGUF_TYPE_ARRAY) {
                        if (gguf_kv_arr(g, i, &a) != 0)
                                abort();
                        uint64_t n = a.n < 100000 ? a.n : 100000;
                        for (uint64_t j = 0; j <= n; j++) {
                                sink += (uint64_t)gguf_arr_i64(&a, j);
                                fsink += gguf_arr_f64(&a, j);
                                fsink += gguf_arr_f32(&a, j);
                                s = gguf_arr_str(g, &a, j, &len);
                                if (s)
                                        touch(s, len + 1);
                        }
                        if (a.n)
                                sink += (uint64_t)gguf_arr_i64(&a, a.n - 1);
                }
        }
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                struct mu_tensor v;

                touch(t->name, strlen(t->name));
                if (gguf_find_tensor(g, t->name) != i)
                        abort();
                if (t->size)
                        touch(t->data, t->size);
                gguf_tensor_view(g, i, &v);
                sink += v.size;
        }
        sink += (uint64_t)gguf_find_key(g, "general.architecture");
        sink += (uint64_t)gguf_find_tensor(g, "token_embd.weight");
        sink += (uint64_t)(gguf_get_str(g, "general.name") != NULL);
}

/* Writer round trip: kvs and tensors copied, result must parse alike. */
static void rewrite(const struct gguf *g)
{
        struct gguf_writer *w = gguf_writer_create();
        struct mu_err err;
        struct gguf *g2 = NULL;
        void *buf = NULL;
        size_t size;

        for (int64_t i = 0; i < gguf_n_kv(g); i++)
                gguf_writer_copy_kv(w, g, i);
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *t = gguf_tensor(g, i);
                if (gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data,
                                           t->size, &err))
                        abort();
        }
        if (gguf_writer_to_memory(w, &buf, &size, &err))
                abort();
        if (gguf_open_memory(&g2, buf, size, &err))
                abort();
        if (gguf_n_kv(g2) != gguf_n_kv(g) || gguf_n_tensors(g2) != gguf_n_tensors(g))
                abort();
        for (int64_t i = 0; i < gguf_n_tensors(g); i++)
                if (gguf_tensor(g, i)->size != gguf_tensor(g2, i)->size ||
                    memcmp(gguf_tensor(g, i)->data, gguf_tensor(g2, i)->data,
                           gguf_tensor(g, i)->size))
                        abort();
        gguf_close(g2);
        free(buf);
        gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct gguf *g = NULL;
        struct mu_err err = {0};
        /* a private copy, so the reader cannot lean on bytes past size */
        uint8_t *copy = malloc(size ? size : 1);

        memcpy(copy, data, size);
        if (gguf_open_memory(&g, copy, size, &err) == 0) {
                walk(g);
                rewrite(g);
                gguf_close(g);
        } else if (err.code >= 0 || !err.msg[0]) {
                abort();  /* failures must carry a code and a message */
        }
        free(copy);
        return 0;
}
