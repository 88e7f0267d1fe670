/* gguf.c -- GGUF reader (see gguf.h for the layout and the contract).
 *
 * Parsing walks a cursor over the map; every read is bounds-checked by
 * cur_need().  Limits on counts keep a hostile header from asking for huge
 * allocations before the file proves it has that much data: each kv, array
 * element and tensor info takes at least a few bytes of the file, so counts
 * are checked against the bytes remaining. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/fs.h"
#include "mullama/gguf.h"

#define GGUF_MAX_STRING (1u << 30)
#define GGUF_MAX_NAME 64  /* ggml's GGML_MAX_NAME */

struct gguf_kv {
        char *key;
        int type;                 /* enum gguf_type */
        union {
                int64_t i;
                uint64_t u;
                double f;
        } v;                      /* scalars, converted on read */
        char *str;                /* GGUF_TYPE_STRING (NUL-terminated copy) */
        size_t str_len;
        struct gguf_arr arr;      /* GGUF_TYPE_ARRAY */
        char **strs;              /* string array elements, into pool */
        size_t *str_lens;
        char *pool;               /* all elements, NUL-terminated, one block */
};

struct gguf {
        struct mu_map map;        /* owned when mapped != 0 */
        int mapped;
        const uint8_t *base;
        size_t size;
        uint32_t version;
        size_t alignment;
        size_t data_offset;
        int64_t n_kv;
        struct gguf_kv *kv;
        int64_t n_tensors;
        struct gguf_tensor_info *tensors;
};

struct cur {
        const uint8_t *p;
        size_t off, size;
        struct mu_err *err;
};

static const size_t scalar_size[GGUF_TYPE_COUNT] = {
        [GGUF_TYPE_UINT8] = 1, [GGUF_TYPE_INT8] = 1, [GGUF_TYPE_UINT16] = 2,
        [GGUF_TYPE_INT16] = 2, [GGUF_TYPE_UINT32] = 4, [GGUF_TYPE_INT32] = 4,
        [GGUF_TYPE_FLOAT32] = 4, [GGUF_TYPE_BOOL] = 1, [GGUF_TYPE_UINT64] = 8,
        [GGUF_TYPE_INT64] = 8, [GGUF_TYPE_FLOAT64] = 8,
};

const char *gguf_type_name(int t)
{
        static const char *names[GGUF_TYPE_COUNT] = {
                "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
                "array", "u64", "i64", "f64",
        };

        return t >= 0 && t < GGUF_TYPE_COUNT ? names[t] : "?";
}

static int cur_need(struct cur *c, size_t n, const char *what)
{
        if (n > c->size - c->off)
                return mu_fail(c->err, MU_EFORMAT,
                               "gguf: file truncated: %s at offset %zu needs %zu bytes, "
                               "file has %zu", what, c->off, n, c->size);
        return 0;
}

static int rd_u32(struct cur *c, uint32_t *v, const char *what)
{
        if (cur_need(c, 4, what))
                return MU_EFORMAT;
        memcpy(v, c->p + c->off, 4);
        c->off += 4;
        return 0;
}

static int rd_u64(struct cur *c, uint64_t *v, const char *what)
{
        if (cur_need(c, 8, what))
                return MU_EFORMAT;
        memcpy(v, c->p + c->off, 8);
        c->off += 8;
        return 0;
}

/* A GGUF string: u64 length + bytes; returns a pointer into the map. */
static int rd_str(struct cur *c, const char **s, size_t *len, const char *what)
{
        uint64_t n;

        if (rd_u64(c, &n, what))
                return MU_EFORMAT;
        if (n > GGUF_MAX_STRING)
                return mu_fail(c->err, MU_EFORMAT,
                               "gguf: %s at offset %zu has length %llu, over the limit",
                               what, c->off - 8, (unsigned long long)n);
        if (cur_need(c, (size_t)n, what))
                return MU_EFORMAT;
        *s = (const char *)c->p + c->off;
        *len = (size_t)n;
        c->off += (size_t)n;
        return 0;
}

/* Saturating float -> int64 (a plain cast of NaN or 1e30 is undefined). */
static int64_t f64_to_i64(double d)
{
        if (d != d)
                return 0;
        if (d >= 9223372036854775807.0)
                return INT64_MAX;
        if (d <= -9223372036854775808.0)
                return INT64_MIN;
        return (int64_t)d;
}

static int64_t scalar_i64(const uint8_t *p, int type)
{
        union {
                uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32;
                int32_t i32; uint64_t u64; int64_t i64; float f32; double f64;
        } v;

        memcpy(&v, p, scalar_size[type]);
        switch (type) {
        case GGUF_TYPE_UINT8: return v.u8;
        case GGUF_TYPE_BOOL: return v.u8 != 0;
        case GGUF_TYPE_INT8: return v.i8;
        case GGUF_TYPE_UINT16: return v.u16;
        case GGUF_TYPE_INT16: return v.i16;
        case GGUF_TYPE_UINT32: return v.u32;
        case GGUF_TYPE_INT32: return v.i32;
        case GGUF_TYPE_UINT64: return (int64_t)v.u64;
        case GGUF_TYPE_INT64: return v.i64;
        case GGUF_TYPE_FLOAT32: return f64_to_i64(v.f32);
        case GGUF_TYPE_FLOAT64: return f64_to_i64(v.f64);
        }
        return 0;
}

static double scalar_f64(const uint8_t *p, int type)
{
        float f;
        double d;

        if (type == GGUF_TYPE_FLOAT32) {
                memcpy(&f, p, 4);
                return f;
        }
        if (type == GGUF_TYPE_FLOAT64) {
                memcpy(&d, p, 8);
                return d;
        }
        if (type == GGUF_TYPE_UINT64) {
                uint64_t u;
                memcpy(&u, p, 8);
                return (double)u;
        }
        return (double)scalar_i64(p, type);
}

static int is_scalar(int t)
{
        return t >= 0 && t < GGUF_TYPE_COUNT && t != GGUF_TYPE_STRING &&
               t != GGUF_TYPE_ARRAY;
}

static int read_kv(struct gguf *g, struct cur *c, struct gguf_kv *kv, int64_t idx)
{
        const char *s;
        size_t len;
        uint32_t type;

        if (rd_str(c, &s, &len, "key"))
                return MU_EFORMAT;
        kv->key = mu_xstrndup(s, len);
        if (strlen(kv->key) != len || len == 0)
                return mu_fail(c->err, MU_EFORMAT, "gguf: key %lld has an empty or "
                               "NUL-containing name", (long long)idx);
        if (rd_u32(c, &type, "value type"))
                return MU_EFORMAT;
        if (type >= GGUF_TYPE_COUNT)
                return mu_fail(c->err, MU_EFORMAT, "gguf: key '%s' has unknown type %u",
                               kv->key, type);
        kv->type = (int)type;
        if (is_scalar(kv->type)) {
                if (cur_need(c, scalar_size[type], kv->key))
                        return MU_EFORMAT;
                if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64)
                        kv->v.f = scalar_f64(c->p + c->off, kv->type);
                else
                        kv->v.i = scalar_i64(c->p + c->off, kv->type);
                if (kv->type == GGUF_TYPE_UINT64)
                        memcpy(&kv->v.u, c->p + c->off, 8);
                c->off += scalar_size[type];
                return 0;
        }
        if (kv->type == GGUF_TYPE_STRING) {
                if (rd_str(c, &s, &len, kv->key))
                        return MU_EFORMAT;
                kv->str = mu_xstrndup(s, len);
                kv->str_len = len;
                return 0;
        }
        /* array */
        uint32_t et;
        uint64_t n;

        if (rd_u32(c, &et, "array type") || rd_u64(c, &n, "array length"))
                return MU_EFORMAT;
        if (et >= GGUF_TYPE_COUNT || et == GGUF_TYPE_ARRAY)
                return mu_fail(c->err, MU_EFORMAT,
                               "gguf: key '%s' is an array of unsupported type %u",
                               kv->key, et);
        kv->arr.type = (int)et;
        kv->arr.n = n;
        kv->arr.kv = idx;
        if (et != GGUF_TYPE_STRING) {
                size_t es = scalar_size[et];
                if (n > (c->size - c->off) / es)
                        return mu_fail(c->err, MU_EFORMAT,
                                       "gguf: array '%s' of %llu elements runs past end of "
                                       "file", kv->key, (unsigned long long)n);
                kv->arr.data = c->p + c->off;
                c->off += (size_t)n * es;
                return 0;
        }
        /* each string takes at least its 8-byte length */
        if (n > (c->size - c->off) / 8)
                return mu_fail(c->err, MU_EFORMAT,
                               "gguf: string array '%s' of %llu elements runs past end of "
                               "file", kv->key, (unsigned long long)n);
        /* pass 1 validates and sizes, pass 2 copies into one block: one
         * allocation instead of one per token */
        size_t start = c->off, total = 0;
        for (uint64_t j = 0; j < n; j++) {
                if (rd_str(c, &s, &len, kv->key)) {
                        char msg[sizeof(c->err->msg)] = "";
                        if (c->err)
                                snprintf(msg, sizeof(msg), "%s", c->err->msg + 6);
                        return mu_fail(c->err, MU_EFORMAT,
                                       "gguf: string array '%s' element %llu: %s", kv->key,
                                       (unsigned long long)j, msg);
                }
                total += len + 1;  /* cannot overflow: len <= bytes of the map */
        }
        kv->strs = mu_xmalloc(((size_t)n ? (size_t)n : 1) * sizeof(char *));
        kv->str_lens = mu_xmalloc(((size_t)n ? (size_t)n : 1) * sizeof(size_t));
        kv->pool = mu_xmalloc(total ? total : 1);
        c->off = start;
        char *p = kv->pool;
        for (uint64_t j = 0; j < n; j++) {
                uint64_t l;
                memcpy(&l, c->p + c->off, 8);
                memcpy(p, c->p + c->off + 8, (size_t)l);
                p[l] = 0;
                kv->strs[j] = p;
                kv->str_lens[j] = (size_t)l;
                p += l + 1;
                c->off += 8 + (size_t)l;
        }
        (void)g;
        return 0;
}

static int read_tensor_info(struct cur *c, struct gguf_tensor_info *t, int64_t idx)
{
        const char *s;
        size_t len;
        uint32_t nd, type;
        uint64_t off;

        if (rd_str(c, &s, &len, "tensor name"))
                return MU_EFORMAT;
        t->name = mu_xstrndup(s, len);
        if (len == 0 || strlen(t->name) != len)
                return mu_fail(c->err, MU_EFORMAT, "gguf: tensor %lld has an empty or "
                               "NUL-containing name", (long long)idx);
        if (len >= GGUF_MAX_NAME)
                return mu_fail(c->err, MU_EFORMAT, "gguf: tensor name '%.64s...' is "
                               "longer than %d bytes", t->name, GGUF_MAX_NAME - 1);
        if (rd_u32(c, &nd, t->name))
                return MU_EFORMAT;
        if (nd < 1 || nd > MU_MAX_DIMS)
                return mu_fail(c->err, MU_EFORMAT, "gguf: tensor '%s' has %u dims, "
                               "expected 1..%d", t->name, nd, MU_MAX_DIMS);
        t->n_dims = (int)nd;
        for (int d = 0; d < MU_MAX_DIMS; d++)
                t->ne[d] = 1;
        for (uint32_t d = 0; d < nd; d++) {
                uint64_t ne;
                if (rd_u64(c, &ne, t->name))
                        return MU_EFORMAT;
                if (ne > (uint64_t)INT64_MAX / 2)
                        return mu_fail(c->err, MU_EFORMAT, "gguf: tensor '%s' dim %u is "
                                       "out of range (%llu)", t->name, d,
                                       (unsigned long long)ne);
                t->ne[d] = (int64_t)ne;
        }
        if (rd_u32(c, &type, t->name) || rd_u64(c, &off, t->name))
                return MU_EFORMAT;
        const struct mu_type_info *ti = mu_type_info((int)type);
        if (!ti)
                return mu_fail(c->err, MU_EFORMAT, "gguf: tensor '%s' has unknown type %u",
                               t->name, type);
        t->type = (int)type;
        t->offset = off;
        /* element count: the product of the non-zero dims must fit an
         * int64 (as ggml requires), whether or not another dim is 0 */
        uint64_t nel = 1, nz = 1;
        for (int d = 0; d < MU_MAX_DIMS; d++) {
                uint64_t ne = (uint64_t)t->ne[d];
                if (ne && nz > (uint64_t)INT64_MAX / ne)
                        return mu_fail(c->err, MU_EFORMAT, "gguf: tensor '%s' has too many "
                                       "elements", t->name);
                nz *= ne ? ne : 1;
                nel *= ne;
        }
        if (t->ne[0] % ti->blck_size)
                return mu_fail(c->err, MU_EFORMAT,
                               "gguf: tensor '%s' row of %lld is not a multiple of the %s "
                               "block size %d", t->name, (long long)t->ne[0], ti->name,
                               ti->blck_size);
        uint64_t nblocks = nel / (uint64_t)ti->blck_size;
        if (nblocks > UINT64_MAX / (uint64_t)ti->type_size)
                return mu_fail(c->err, MU_EFORMAT, "gguf: tensor '%s' is too large",
                               t->name);
        uint64_t sz = nblocks * (uint64_t)ti->type_size;
        if (sz > SIZE_MAX)
                return mu_fail(c->err, MU_EFORMAT, "gguf: tensor '%s' is too large",
                               t->name);
        t->size = (size_t)sz;
        return 0;
}

static void free_contents(struct gguf *g)
{
        for (int64_t i = 0; g->kv && i < g->n_kv; i++) {
                struct gguf_kv *kv = &g->kv[i];
                free(kv->key);
                free(kv->str);
                free(kv->pool);
                free(kv->strs);
                free(kv->str_lens);
        }
        free(g->kv);
        for (int64_t i = 0; g->tensors && i < g->n_tensors; i++)
                free((char *)g->tensors[i].name);
        free(g->tensors);
}

void gguf_close(struct gguf *g)
{
        if (!g)
                return;
        free_contents(g);
        if (g->mapped)
                mu_unmap(&g->map);
        free(g);
}

static int cmp_strp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reject duplicate names among n records of size rec whose char * name sits
 * at byte offset name_off: sort a copy of the pointers, compare neighbours
 * (n log n, so a file with millions of kvs cannot stall us). */
static int check_unique(const void *recs, size_t n, size_t rec, size_t name_off,
                        const char *what, struct mu_err *err)
{
        const char **names;
        int rc = 0;

        if (n < 2)
                return 0;
        names = mu_xmalloc(n * sizeof(*names));
        for (size_t i = 0; i < n; i++)
                memcpy(&names[i], (const char *)recs + i * rec + name_off, sizeof(char *));
        qsort(names, n, sizeof(*names), cmp_strp);
        for (size_t i = 1; i < n && !rc; i++)
                if (!strcmp(names[i - 1], names[i]))
                        rc = mu_fail(err, MU_EFORMAT, "gguf: duplicate %s '%s'", what,
                                     names[i]);
        free(names);
        return rc;
}

static int parse(struct gguf *g, struct mu_err *err)
{
        struct cur c = {g->base, 0, g->size, err};
        uint64_t n_tensors, n_kv;
        int rc;

        if (g->size == 0)
                return mu_fail(err, MU_EFORMAT, "gguf: not a GGUF file (file is empty)");
        if (g->size < 4 || memcmp(g->base, "GGUF", 4) != 0)
                return mu_fail(err, MU_EFORMAT, "gguf: not a GGUF file (bad magic)");
        c.off = 4;
        if (rd_u32(&c, &g->version, "version"))
                return MU_EFORMAT;
        if (g->version == 1)
                return mu_fail(err, MU_EUNSUPPORTED,
                               "gguf: version 1 files are not supported (convert to v3)");
        if (g->version == 0x02000000u || g->version == 0x03000000u)
                return mu_fail(err, MU_EUNSUPPORTED,
                               "gguf: big-endian files are not supported");
        if (g->version < 2 || g->version > 3)
                return mu_fail(err, MU_EFORMAT, "gguf: unknown version %u", g->version);
        if (rd_u64(&c, &n_tensors, "tensor count") || rd_u64(&c, &n_kv, "kv count"))
                return MU_EFORMAT;
        /* a kv needs >= 8 (key len) + 4 (type) + 1 bytes; a tensor info >= 8+4+8+4+8 */
        if (n_kv > (c.size - c.off) / 13)
                return mu_fail(err, MU_EFORMAT, "gguf: kv count %llu is more than the file "
                               "can hold", (unsigned long long)n_kv);
        if (n_tensors > (c.size - c.off) / 32)
                return mu_fail(err, MU_EFORMAT, "gguf: tensor count %llu is more than the "
                               "file can hold", (unsigned long long)n_tensors);
        g->n_kv = (int64_t)n_kv;
        g->kv = mu_xcalloc((size_t)n_kv ? (size_t)n_kv : 1, sizeof(*g->kv));
        for (uint64_t i = 0; i < n_kv; i++) {
                rc = read_kv(g, &c, &g->kv[i], (int64_t)i);
                if (rc)
                        return rc;
        }
        if ((rc = check_unique(g->kv, (size_t)n_kv, sizeof(*g->kv),
                               offsetof(struct gguf_kv, key), "key", err)))
                return rc;
        g->alignment = GGUF_DEFAULT_ALIGNMENT;
        int64_t ai = gguf_find_key(g, "general.alignment");
        if (ai >= 0) {
                int64_t a;
                if (g->kv[ai].type != GGUF_TYPE_UINT32 || gguf_kv_i64(g, ai, &a))
                        return mu_fail(err, MU_EFORMAT,
                                       "gguf: general.alignment must be a u32");
                if (a <= 0 || (a & (a - 1)) != 0)
                        return mu_fail(err, MU_EFORMAT,
                                       "gguf: general.alignment %lld is not a power of two",
                                       (long long)a);
                g->alignment = (size_t)a;
        }
        g->n_tensors = (int64_t)n_tensors;
        g->tensors = mu_xcalloc((size_t)n_tensors ? (size_t)n_tensors : 1,
                                sizeof(*g->tensors));
        for (uint64_t i = 0; i < n_tensors; i++) {
                rc = read_tensor_info(&c, &g->tensors[i], (int64_t)i);
                if (rc)
                        return rc;
        }
        if ((rc = check_unique(g->tensors, (size_t)n_tensors, sizeof(*g->tensors),
                               offsetof(struct gguf_tensor_info, name), "tensor", err)))
                return rc;
        size_t data = (c.off + g->alignment - 1) / g->alignment * g->alignment;
        if (n_tensors > 0 && data > g->size)
                return mu_fail(err, MU_EFORMAT,
                               "gguf: file truncated: tensor data would start at %zu, file "
                               "has %zu bytes", data, g->size);
        g->data_offset = data;
        for (int64_t i = 0; i < g->n_tensors; i++) {
                struct gguf_tensor_info *t = &g->tensors[i];
                if (t->offset % g->alignment)
                        return mu_fail(err, MU_EFORMAT,
                                       "gguf: tensor '%s' offset %llu is not aligned to %zu",
                                       t->name, (unsigned long long)t->offset, g->alignment);
                if (t->offset > g->size - data || t->size > g->size - data - t->offset)
                        return mu_fail(err, MU_EFORMAT,
                                       "gguf: tensor '%s' data ends past end of file",
                                       t->name);
                t->data = g->base + data + t->offset;
        }
        return 0;
}

int gguf_open_memory(struct gguf **out, const void *data, size_t size,
                     struct mu_err *err)
{
        struct gguf *g = mu_xcalloc(1, sizeof(*g));
        int rc;

        *out = NULL;
        g->base = data;
        g->size = size;
        rc = parse(g, err);
        if (rc) {
                gguf_close(g);
                return rc;
        }
        *out = g;
        return 0;
}

int gguf_open(struct gguf **out, const char *path, struct mu_err *err)
{
        struct gguf *g;
        int rc;

        *out = NULL;
        g = mu_xcalloc(1, sizeof(*g));
        rc = mu_map_file(&g->map, path, err);
        if (rc) {
                free(g);
                return rc;
        }
        g->mapped = 1;
        g->base = g->map.data;
        g->size = g->map.size;
        rc = parse(g, err);
        if (rc) {
                mu_err_prefix(err, "%s", path);
                gguf_close(g);
                return rc;
        }
        *out = g;
        return 0;
}

uint32_t gguf_version(const struct gguf *g) { return g->version; }
size_t gguf_alignment(const struct gguf *g) { return g->alignment; }
size_t gguf_data_offset(const struct gguf *g) { return g->data_offset; }
size_t gguf_size(const struct gguf *g) { return g->size; }
const uint8_t *gguf_base(const struct gguf *g) { return g->base; }

/* ---- metadata ----------------------------------------------------------- */

int64_t gguf_n_kv(const struct gguf *g) { return g->n_kv; }

int64_t gguf_find_key(const struct gguf *g, const char *key)
{
        for (int64_t i = 0; i < g->n_kv; i++)
                if (!strcmp(g->kv[i].key, key))
                        return i;
        return -1;
}

const char *gguf_key(const struct gguf *g, int64_t i)
{
        return i >= 0 && i < g->n_kv ? g->kv[i].key : NULL;
}

int gguf_kv_type(const struct gguf *g, int64_t i)
{
        return i >= 0 && i < g->n_kv ? g->kv[i].type : -1;
}

int gguf_kv_i64(const struct gguf *g, int64_t i, int64_t *out)
{
        const struct gguf_kv *kv;

        if (i < 0 || i >= g->n_kv)
                return MU_ENOTFOUND;
        kv = &g->kv[i];
        if (!is_scalar(kv->type))
                return MU_EFORMAT;
        if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64)
                return MU_EFORMAT;
        *out = kv->v.i;
        return 0;
}

int gguf_kv_f64(const struct gguf *g, int64_t i, double *out)
{
        const struct gguf_kv *kv;

        if (i < 0 || i >= g->n_kv)
                return MU_ENOTFOUND;
        kv = &g->kv[i];
        if (!is_scalar(kv->type))
                return MU_EFORMAT;
        if (kv->type == GGUF_TYPE_FLOAT32 || kv->type == GGUF_TYPE_FLOAT64)
                *out = kv->v.f;
        else if (kv->type == GGUF_TYPE_UINT64)
                *out = (double)kv->v.u;
        else
                *out = (double)kv->v.i;
        return 0;
}

int gguf_get_i64(const struct gguf *g, const char *key, int64_t *out)
{
        return gguf_kv_i64(g, gguf_find_key(g, key), out);
}

int gguf_get_f64(const struct gguf *g, const char *key, double *out)
{
        return gguf_kv_f64(g, gguf_find_key(g, key), out);
}

int gguf_get_bool(const struct gguf *g, const char *key, int *out)
{
        int64_t v;
        int rc = gguf_get_i64(g, key, &v);

        if (!rc)
                *out = v != 0;
        return rc;
}

const char *gguf_kv_str(const struct gguf *g, int64_t i, size_t *len)
{
        if (i < 0 || i >= g->n_kv || g->kv[i].type != GGUF_TYPE_STRING)
                return NULL;
        if (len)
                *len = g->kv[i].str_len;
        return g->kv[i].str;
}

const char *gguf_get_str(const struct gguf *g, const char *key)
{
        return gguf_kv_str(g, gguf_find_key(g, key), NULL);
}

int gguf_kv_arr(const struct gguf *g, int64_t i, struct gguf_arr *out)
{
        if (i < 0 || i >= g->n_kv)
                return MU_ENOTFOUND;
        if (g->kv[i].type != GGUF_TYPE_ARRAY)
                return MU_EFORMAT;
        *out = g->kv[i].arr;
        return 0;
}

int gguf_get_arr(const struct gguf *g, const char *key, struct gguf_arr *out)
{
        return gguf_kv_arr(g, gguf_find_key(g, key), out);
}

int64_t gguf_arr_i64(const struct gguf_arr *a, uint64_t j)
{
        if (j >= a->n || !a->data || !is_scalar(a->type))
                return 0;
        return scalar_i64((const uint8_t *)a->data + j * scalar_size[a->type], a->type);
}

double gguf_arr_f64(const struct gguf_arr *a, uint64_t j)
{
        if (j >= a->n || !a->data || !is_scalar(a->type))
                return 0;
        return scalar_f64((const uint8_t *)a->data + j * scalar_size[a->type], a->type);
}

float gguf_arr_f32(const struct gguf_arr *a, uint64_t j)
{
        float f;

        if (a->type == GGUF_TYPE_FLOAT32 && j < a->n && a->data) {
                memcpy(&f, (const uint8_t *)a->data + j * 4, 4);
                return f;
        }
        return (float)gguf_arr_f64(a, j);
}

const char *gguf_arr_str(const struct gguf *g, const struct gguf_arr *a, uint64_t j,
                         size_t *len)
{
        const struct gguf_kv *kv;

        if (a->kv < 0 || a->kv >= g->n_kv)
                return NULL;
        kv = &g->kv[a->kv];
        if (kv->type != GGUF_TYPE_ARRAY || kv->arr.type != GGUF_TYPE_STRING ||
            j >= kv->arr.n)
                return NULL;
        if (len)
                *len = kv->str_lens[j];
        return kv->strs[j];
}

/* ---- tensors ------------------------------------------------------------ */

int64_t gguf_n_tensors(const struct gguf *g) { return g->n_tensors; }

int64_t gguf_find_tensor(const struct gguf *g, const char *name)
{
        for (int64_t i = 0; i < g->n_tensors; i++)
                if (!strcmp(g->tensors[i].name, name))
                        return i;
        return -1;
}

const struct gguf_tensor_info *gguf_tensor(const struct gguf *g, int64_t i)
{
        return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

void gguf_tensor_view(const struct gguf *g, int64_t i, struct mu_tensor *out)
{
        const struct gguf_tensor_info *t = gguf_tensor(g, i);

        memset(out, 0, sizeof(*out));
        if (!t)
                return;
        out->name = t->name;
        out->type = t->type;
        out->n_dims = t->n_dims;
        memcpy(out->ne, t->ne, sizeof(out->ne));
        out->data = t->data;
        out->size = t->size;
}
