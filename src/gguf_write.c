/* gguf_write.c -- GGUF v3 writer (see gguf.h for the layout and the API).
 *
 * Metadata lives in the struct gguf_writer (keys in insertion order, values
 * copied); tensor data is borrowed from the caller and streamed out at write
 * time.  The output layout is the one ggml writes: header, kvs, tensor infos,
 * zero padding to the alignment, then each tensor's data followed by zero
 * padding to the alignment.  Offsets are assigned in add order.
 *
 * The setters return void (they cannot fail on good arguments); a bad
 * argument (NULL key, unknown element type, bad alignment) is remembered and
 * reported by gguf_writer_write()/gguf_writer_to_memory() as MU_EINVAL.
 * The alignment written is general.alignment when that key is set (it must
 * be a u32 power of two), else GGUF_DEFAULT_ALIGNMENT. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"

#define GGUF_MAX_NAME 64

struct wkv {
        char *key;
        int type;               /* enum gguf_type */
        uint8_t scalar[8];      /* little-endian payload of a scalar */
        char *str;              /* string value (may hold NUL bytes) */
        size_t str_len;
        int arr_type;           /* arrays: element type */
        uint64_t n;
        void *arr;              /* numeric payload, n * size bytes */
        char **strs;            /* string array */
        size_t *str_lens;
};

struct wtensor {
        char *name;
        int type;
        int n_dims;
        int64_t ne[MU_MAX_DIMS];
        const void *data;
        size_t size;
        uint64_t offset;        /* assigned at write time */
};

struct gguf_writer {
        struct wkv *kv;
        size_t n_kv, cap_kv;
        struct wtensor *t;
        size_t n_t, cap_t;
        char bad[256];          /* first deferred argument error, "" if none */
};

static size_t elem_size(int t)
{
        switch (t) {
        case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
        case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
        case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
        case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
        }
        return 0;
}

static void set_bad(struct gguf_writer *w, const char *msg, const char *key)
{
        if (!w->bad[0])
                snprintf(w->bad, sizeof(w->bad), "gguf writer: %s '%s'", msg,
                         key ? key : "(null)");
}

struct gguf_writer *gguf_writer_create(void)
{
        return mu_xcalloc(1, sizeof(struct gguf_writer));
}

static void wkv_clear_value(struct wkv *kv)
{
        free(kv->str);
        free(kv->arr);
        if (kv->strs)
                for (uint64_t j = 0; j < kv->n; j++)
                        free(kv->strs[j]);
        free(kv->strs);
        free(kv->str_lens);
        kv->str = NULL;
        kv->arr = NULL;
        kv->strs = NULL;
        kv->str_lens = NULL;
        kv->str_len = 0;
        kv->n = 0;
}

void gguf_writer_free(struct gguf_writer *w)
{
        if (!w)
                return;
        for (size_t i = 0; i < w->n_kv; i++) {
                wkv_clear_value(&w->kv[i]);
                free(w->kv[i].key);
        }
        free(w->kv);
        for (size_t i = 0; i < w->n_t; i++)
                free(w->t[i].name);
        free(w->t);
        free(w);
}

/* The kv for key: existing (value cleared, position kept) or appended. */
static struct wkv *wkv_slot(struct gguf_writer *w, const char *key)
{
        for (size_t i = 0; i < w->n_kv; i++)
                if (!strcmp(w->kv[i].key, key)) {
                        wkv_clear_value(&w->kv[i]);
                        return &w->kv[i];
                }
        if (w->n_kv == w->cap_kv) {
                w->cap_kv = w->cap_kv ? 2 * w->cap_kv : 32;
                w->kv = mu_xrealloc(w->kv, w->cap_kv * sizeof(*w->kv));
        }
        struct wkv *kv = &w->kv[w->n_kv++];
        memset(kv, 0, sizeof(*kv));
        kv->key = mu_xstrdup(key);
        return kv;
}

static void set_scalar(struct gguf_writer *w, const char *key, int type, const void *v)
{
        if (!key || !*key) {
                set_bad(w, "empty key", key);
                return;
        }
        struct wkv *kv = wkv_slot(w, key);
        kv->type = type;
        memset(kv->scalar, 0, sizeof(kv->scalar));
        memcpy(kv->scalar, v, elem_size(type));
}

void gguf_writer_set_u8(struct gguf_writer *w, const char *key, uint8_t v)
{ set_scalar(w, key, GGUF_TYPE_UINT8, &v); }
void gguf_writer_set_i8(struct gguf_writer *w, const char *key, int8_t v)
{ set_scalar(w, key, GGUF_TYPE_INT8, &v); }
void gguf_writer_set_u16(struct gguf_writer *w, const char *key, uint16_t v)
{ set_scalar(w, key, GGUF_TYPE_UINT16, &v); }
void gguf_writer_set_i16(struct gguf_writer *w, const char *key, int16_t v)
{ set_scalar(w, key, GGUF_TYPE_INT16, &v); }
void gguf_writer_set_u32(struct gguf_writer *w, const char *key, uint32_t v)
{ set_scalar(w, key, GGUF_TYPE_UINT32, &v); }
void gguf_writer_set_i32(struct gguf_writer *w, const char *key, int32_t v)
{ set_scalar(w, key, GGUF_TYPE_INT32, &v); }
void gguf_writer_set_u64(struct gguf_writer *w, const char *key, uint64_t v)
{ set_scalar(w, key, GGUF_TYPE_UINT64, &v); }
void gguf_writer_set_i64(struct gguf_writer *w, const char *key, int64_t v)
{ set_scalar(w, key, GGUF_TYPE_INT64, &v); }
void gguf_writer_set_f32(struct gguf_writer *w, const char *key, float v)
{ set_scalar(w, key, GGUF_TYPE_FLOAT32, &v); }
void gguf_writer_set_f64(struct gguf_writer *w, const char *key, double v)
{ set_scalar(w, key, GGUF_TYPE_FLOAT64, &v); }

void gguf_writer_set_bool(struct gguf_writer *w, const char *key, int v)
{
        uint8_t b = v != 0;

        set_scalar(w, key, GGUF_TYPE_BOOL, &b);
}

static void set_str_len(struct gguf_writer *w, const char *key, const char *v,
                        size_t len)
{
        if (!key || !*key || !v) {
                set_bad(w, v ? "empty key" : "NULL string value for", key);
                return;
        }
        struct wkv *kv = wkv_slot(w, key);
        kv->type = GGUF_TYPE_STRING;
        kv->str = mu_xmalloc(len + 1);
        memcpy(kv->str, v, len);
        kv->str[len] = 0;
        kv->str_len = len;
}

void gguf_writer_set_str(struct gguf_writer *w, const char *key, const char *v)
{
        set_str_len(w, key, v, v ? strlen(v) : 0);
}

void gguf_writer_set_arr(struct gguf_writer *w, const char *key, int elem_type,
                         const void *data, uint64_t n)
{
        size_t es = elem_size(elem_type);

        if (!key || !*key) {
                set_bad(w, "empty key", key);
                return;
        }
        if (!es) {
                set_bad(w, "bad array element type for", key);
                return;
        }
        if (n > SIZE_MAX / es || (n && !data)) {
                set_bad(w, "bad array data for", key);
                return;
        }
        struct wkv *kv = wkv_slot(w, key);
        kv->type = GGUF_TYPE_ARRAY;
        kv->arr_type = elem_type;
        kv->n = n;
        kv->arr = mu_xmalloc(n ? (size_t)n * es : 1);
        if (n)
                memcpy(kv->arr, data, (size_t)n * es);
}

/* String array from (pointer, length) pairs; lens NULL means strlen. */
static void set_arr_str_len(struct gguf_writer *w, const char *key,
                            const char *const *strs, const size_t *lens, uint64_t n)
{
        if (!key || !*key) {
                set_bad(w, "empty key", key);
                return;
        }
        if (n > SIZE_MAX / sizeof(char *) || (n && !strs)) {
                set_bad(w, "bad string array for", key);
                return;
        }
        for (uint64_t j = 0; j < n; j++)
                if (!strs[j]) {
                        set_bad(w, "NULL element in string array", key);
                        return;
                }
        struct wkv *kv = wkv_slot(w, key);
        kv->type = GGUF_TYPE_ARRAY;
        kv->arr_type = GGUF_TYPE_STRING;
        kv->strs = mu_xcalloc(n ? (size_t)n : 1, sizeof(char *));
        kv->str_lens = mu_xcalloc(n ? (size_t)n : 1, sizeof(size_t));
        for (uint64_t j = 0; j < n; j++) {
                size_t len = lens ? lens[j] : strlen(strs[j]);
                kv->strs[j] = mu_xmalloc(len + 1);
                memcpy(kv->strs[j], strs[j], len);
                kv->strs[j][len] = 0;
                kv->str_lens[j] = len;
                kv->n = j + 1;  /* so a partial array frees cleanly */
        }
        kv->n = n;
}

void gguf_writer_set_arr_str(struct gguf_writer *w, const char *key,
                             const char *const *strs, uint64_t n)
{
        set_arr_str_len(w, key, strs, NULL, n);
}

void gguf_writer_set_alignment(struct gguf_writer *w, size_t alignment)
{
        if (alignment == 0 || (alignment & (alignment - 1)) || alignment > UINT32_MAX) {
                set_bad(w, "alignment is not a power of two:", "general.alignment");
                return;
        }
        gguf_writer_set_u32(w, "general.alignment", (uint32_t)alignment);
}

void gguf_writer_copy_kv(struct gguf_writer *w, const struct gguf *g, int64_t i)
{
        const char *key = gguf_key(g, i);
        int type = gguf_kv_type(g, i);

        if (!key) {
                set_bad(w, "copy of a kv index out of range", "?");
                return;
        }
        if (type == GGUF_TYPE_STRING) {
                size_t len;
                const char *s = gguf_kv_str(g, i, &len);
                set_str_len(w, key, s, len);
                return;
        }
        if (type == GGUF_TYPE_ARRAY) {
                struct gguf_arr a;
                if (gguf_kv_arr(g, i, &a)) {
                        set_bad(w, "cannot read array", key);
                        return;
                }
                if (a.type != GGUF_TYPE_STRING) {
                        gguf_writer_set_arr(w, key, a.type, a.data, a.n);
                        return;
                }
                const char **s = mu_xcalloc(a.n ? (size_t)a.n : 1, sizeof(char *));
                size_t *lens = mu_xcalloc(a.n ? (size_t)a.n : 1, sizeof(size_t));
                for (uint64_t j = 0; j < a.n; j++)
                        s[j] = gguf_arr_str(g, &a, j, &lens[j]);
                set_arr_str_len(w, key, s, lens, a.n);
                free(s);
                free(lens);
                return;
        }
        /* scalar: re-encode from the converted value, exact for every width */
        uint8_t buf[8] = {0};
        if (type == GGUF_TYPE_FLOAT32 || type == GGUF_TYPE_FLOAT64) {
                double d = 0;
                gguf_kv_f64(g, i, &d);
                if (type == GGUF_TYPE_FLOAT32) {
                        float f = (float)d;
                        memcpy(buf, &f, 4);
                } else {
                        memcpy(buf, &d, 8);
                }
        } else {
                int64_t v = 0;
                gguf_kv_i64(g, i, &v);
                memcpy(buf, &v, 8);  /* little-endian: low bytes first */
        }
        set_scalar(w, key, type, buf);
}

void gguf_writer_remove_kv(struct gguf_writer *w, const char *key)
{
        for (size_t i = 0; key && i < w->n_kv; i++)
                if (!strcmp(w->kv[i].key, key)) {
                        wkv_clear_value(&w->kv[i]);
                        free(w->kv[i].key);
                        memmove(&w->kv[i], &w->kv[i + 1],
                                (w->n_kv - i - 1) * sizeof(*w->kv));
                        w->n_kv--;
                        return;
                }
}

int gguf_writer_add_tensor(struct gguf_writer *w, const char *name, int type,
                           int n_dims, const int64_t *ne, const void *data,
                           size_t size, struct mu_err *err)
{
        const struct mu_type_info *ti = mu_type_info(type);
        struct wtensor t = {0};
        uint64_t nel = 1, nz = 1;  /* nz: product of the non-zero dims */

        if (!name || !*name || strlen(name) >= GGUF_MAX_NAME)
                return mu_fail(err, MU_EINVAL, "gguf writer: tensor name '%s' is empty or "
                               "longer than %d bytes", name ? name : "", GGUF_MAX_NAME - 1);
        for (size_t i = 0; i < w->n_t; i++)
                if (!strcmp(w->t[i].name, name))
                        return mu_fail(err, MU_EINVAL, "gguf writer: duplicate tensor '%s'",
                                       name);
        if (!ti)
                return mu_fail(err, MU_EINVAL, "gguf writer: tensor '%s' has unknown type %d",
                               name, type);
        if (n_dims < 1 || n_dims > MU_MAX_DIMS || !ne)
                return mu_fail(err, MU_EINVAL, "gguf writer: tensor '%s' has %d dims, "
                               "expected 1..%d", name, n_dims, MU_MAX_DIMS);
        for (int d = 0; d < MU_MAX_DIMS; d++) {
                t.ne[d] = d < n_dims ? ne[d] : 1;
                if (t.ne[d] < 0 || (t.ne[d] && nz > (uint64_t)INT64_MAX / (uint64_t)t.ne[d]))
                        return mu_fail(err, MU_EINVAL, "gguf writer: tensor '%s' has a bad "
                                       "shape", name);
                nz *= t.ne[d] ? (uint64_t)t.ne[d] : 1;
                nel *= (uint64_t)t.ne[d];
        }
        if (t.ne[0] % ti->blck_size)
                return mu_fail(err, MU_EINVAL, "gguf writer: tensor '%s' row of %lld is not "
                               "a multiple of the %s block size %d", name,
                               (long long)t.ne[0], ti->name, ti->blck_size);
        uint64_t want = nel / (uint64_t)ti->blck_size * (uint64_t)ti->type_size;
        if (want != size)
                return mu_fail(err, MU_EINVAL, "gguf writer: tensor '%s' has %zu bytes, its "
                               "shape needs %llu", name, size, (unsigned long long)want);
        if (size && !data)
                return mu_fail(err, MU_EINVAL, "gguf writer: tensor '%s' has no data", name);
        if (w->n_t == w->cap_t) {
                w->cap_t = w->cap_t ? 2 * w->cap_t : 64;
                w->t = mu_xrealloc(w->t, w->cap_t * sizeof(*w->t));
        }
        t.name = mu_xstrdup(name);
        t.type = type;
        t.n_dims = n_dims;
        t.data = data;
        t.size = size;
        w->t[w->n_t++] = t;
        return 0;
}

/* ---- serialisation ------------------------------------------------------ */

static void put_u32(struct mu_buf *b, uint32_t v) { mu_buf_add(b, &v, 4); }
static void put_u64(struct mu_buf *b, uint64_t v) { mu_buf_add(b, &v, 8); }

static void put_str(struct mu_buf *b, const char *s, size_t len)
{
        put_u64(b, len);
        mu_buf_add(b, s, len);
}

static int writer_alignment(const struct gguf_writer *w, size_t *out, struct mu_err *err)
{
        *out = GGUF_DEFAULT_ALIGNMENT;
        for (size_t i = 0; i < w->n_kv; i++) {
                const struct wkv *kv = &w->kv[i];
                uint32_t a;
                if (strcmp(kv->key, "general.alignment"))
                        continue;
                if (kv->type != GGUF_TYPE_UINT32)
                        return mu_fail(err, MU_EINVAL,
                                       "gguf writer: general.alignment must be a u32");
                memcpy(&a, kv->scalar, 4);
                if (a == 0 || (a & (a - 1)))
                        return mu_fail(err, MU_EINVAL, "gguf writer: general.alignment %u "
                                       "is not a power of two", a);
                *out = a;
        }
        return 0;
}

/* Header, kvs and tensor infos, padded to the alignment; assigns offsets.
 * *data_size gets the padded size of the data section. */
static int build_header(struct gguf_writer *w, struct mu_buf *b, size_t *data_size,
                        struct mu_err *err)
{
        size_t align, off = 0;
        int rc;

        if (w->bad[0])
                return mu_fail(err, MU_EINVAL, "%s", w->bad);
        if ((rc = writer_alignment(w, &align, err)))
                return rc;
        mu_buf_add(b, "GGUF", 4);
        put_u32(b, 3);
        put_u64(b, w->n_t);
        put_u64(b, w->n_kv);
        for (size_t i = 0; i < w->n_kv; i++) {
                const struct wkv *kv = &w->kv[i];
                put_str(b, kv->key, strlen(kv->key));
                put_u32(b, (uint32_t)kv->type);
                if (kv->type == GGUF_TYPE_STRING) {
                        put_str(b, kv->str, kv->str_len);
                } else if (kv->type == GGUF_TYPE_ARRAY) {
                        put_u32(b, (uint32_t)kv->arr_type);
                        put_u64(b, kv->n);
                        if (kv->arr_type == GGUF_TYPE_STRING)
                                for (uint64_t j = 0; j < kv->n; j++)
                                        put_str(b, kv->strs[j], kv->str_lens[j]);
                        else
                                mu_buf_add(b, kv->arr, (size_t)kv->n * elem_size(kv->arr_type));
                } else {
                        mu_buf_add(b, kv->scalar, elem_size(kv->type));
                }
        }
        for (size_t i = 0; i < w->n_t; i++) {
                struct wtensor *t = &w->t[i];
                put_str(b, t->name, strlen(t->name));
                put_u32(b, (uint32_t)t->n_dims);
                for (int d = 0; d < t->n_dims; d++)
                        put_u64(b, (uint64_t)t->ne[d]);
                put_u32(b, (uint32_t)t->type);
                t->offset = off;
                put_u64(b, off);
                if (t->size > SIZE_MAX - off - align)
                        return mu_fail(err, MU_EINVAL, "gguf writer: tensor data too large");
                off += (t->size + align - 1) / align * align;
        }
        /* gguf-py leaves a tensor-less (vocab-only) file unpadded; so do we */
        while (w->n_t && b->len % align)
                mu_buf_addc(b, 0);
        *data_size = off;
        return 0;
}

int gguf_writer_to_memory(struct gguf_writer *w, void **out, size_t *size,
                          struct mu_err *err)
{
        struct mu_buf b = MU_BUF_INIT;
        size_t ds, base;
        int rc;

        *out = NULL;
        *size = 0;
        if ((rc = build_header(w, &b, &ds, err))) {
                mu_buf_release(&b);
                return rc;
        }
        base = b.len;
        for (size_t i = 0; i < w->n_t; i++) {
                const struct wtensor *t = &w->t[i];
                while (b.len < base + t->offset)
                        mu_buf_addc(&b, 0);
                mu_buf_add(&b, t->data, t->size);
        }
        while (b.len < base + ds)
                mu_buf_addc(&b, 0);
        *size = b.len;
        *out = mu_buf_detach(&b);
        return 0;
}

static int write_all(int fd, const void *p, size_t n, const char *path, struct mu_err *err)
{
        if (mu_write_all(fd, p, n) < 0)
                return mu_fail(err, MU_EIO, "cannot write '%s': %s", path, strerror(errno));
        return 0;
}

int gguf_writer_write(struct gguf_writer *w, const char *path, struct mu_err *err)
{
        static const uint8_t zeros[4096];
        struct mu_buf b = MU_BUF_INIT;
        size_t ds, pos = 0;
        char *tmp;
        int fd, rc;

        if ((rc = build_header(w, &b, &ds, err))) {
                mu_buf_release(&b);
                return rc;
        }
        tmp = mu_xasprintf("%s.tmp-%ld", path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                rc = mu_fail(err, MU_EIO, "cannot create '%s': %s", tmp, strerror(errno));
                mu_buf_release(&b);
                free(tmp);
                return rc;
        }
        rc = write_all(fd, b.data, b.len, tmp, err);
        mu_buf_release(&b);
        for (size_t i = 0; !rc && i <= w->n_t; i++) {
                size_t to = i < w->n_t ? w->t[i].offset : ds;
                while (!rc && pos < to) {
                        size_t n = to - pos < sizeof(zeros) ? to - pos : sizeof(zeros);
                        rc = write_all(fd, zeros, n, tmp, err);
                        pos += n;
                }
                if (!rc && i < w->n_t) {
                        rc = write_all(fd, w->t[i].data, w->t[i].size, tmp, err);
                        pos += w->t[i].size;
                }
        }
        if (!rc && fsync(fd) < 0)
                rc = mu_fail(err, MU_EIO, "cannot sync '%s': %s", tmp, strerror(errno));
        if (close(fd) < 0 && !rc)
                rc = mu_fail(err, MU_EIO, "cannot close '%s': %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path) < 0)
                rc = mu_fail(err, MU_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                             strerror(errno));
        if (rc) {
                unlink(tmp);
        } else {
                char *d = mu_xstrdup(path);
                mu_fsync_dir(dirname(d));
                free(d);
        }
        free(tmp);
        return rc;
}
