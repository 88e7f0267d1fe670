/* gguf.h -- GGUF v2/v3 reader over a read-only mmap, and a writer.
 *
 * File layout (all little-endian):
 *   u32 magic "GGUF", u32 version (2 or 3), u64 n_tensors, u64 n_kv,
 *   n_kv x { string key, u32 type, value }            value by type:
 *       u8 i8 u16 i16 u32 i32 f32 bool(u8) u64 i64 f64, string = u64 len + bytes,
 *       array = u32 elem type + u64 n + n values (no nested arrays of arrays
 *       in practice; we accept them one level deep only)
 *   n_tensors x { string name, u32 n_dims, n_dims x u64 ne, u32 type, u64 offset }
 *   padding to general.alignment (default 32), then the tensor data; each
 *   tensor's offset is relative to the start of the data and aligned.
 *
 * The reader treats the file as hostile: every count, length, offset and
 * offset+size is checked against the mapped size before use, and a bad file
 * gives one error naming what is wrong.  Nothing points past the map.
 * Keys, string values and tensor names are copied (NUL-terminated) into the
 * struct gguf; numeric array payloads and tensor data stay in the map (they
 * may be unaligned: read them with the gguf_arr_* accessors or memcpy). */
#ifndef MULLAMA_GGUF_H
#define MULLAMA_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/mullama.h"
#include "mullama/types.h"

enum gguf_type {
        GGUF_TYPE_UINT8 = 0,
        GGUF_TYPE_INT8 = 1,
        GGUF_TYPE_UINT16 = 2,
        GGUF_TYPE_INT16 = 3,
        GGUF_TYPE_UINT32 = 4,
        GGUF_TYPE_INT32 = 5,
        GGUF_TYPE_FLOAT32 = 6,
        GGUF_TYPE_BOOL = 7,
        GGUF_TYPE_STRING = 8,
        GGUF_TYPE_ARRAY = 9,
        GGUF_TYPE_UINT64 = 10,
        GGUF_TYPE_INT64 = 11,
        GGUF_TYPE_FLOAT64 = 12,
        GGUF_TYPE_COUNT
};

#define GGUF_DEFAULT_ALIGNMENT 32

const char *gguf_type_name(int t);  /* "u32", "string", "array", ... */

struct gguf;

/* ---- opening ------------------------------------------------------------ */

/* Map and validate path.  On failure *out is NULL and err says why. */
int gguf_open(struct gguf **out, const char *path, struct mu_err *err);
/* Parse a caller-owned buffer (borrowed until gguf_close). */
int gguf_open_memory(struct gguf **out, const void *data, size_t size,
                     struct mu_err *err);
void gguf_close(struct gguf *g);  /* NULL is a no-op */

uint32_t gguf_version(const struct gguf *g);
size_t gguf_alignment(const struct gguf *g);
size_t gguf_data_offset(const struct gguf *g);  /* start of tensor data */
size_t gguf_size(const struct gguf *g);         /* bytes mapped */
const uint8_t *gguf_base(const struct gguf *g); /* start of the map */

/* ---- metadata ----------------------------------------------------------- */

int64_t gguf_n_kv(const struct gguf *g);
int64_t gguf_find_key(const struct gguf *g, const char *key);  /* -1: absent */
const char *gguf_key(const struct gguf *g, int64_t i);
int gguf_kv_type(const struct gguf *g, int64_t i);     /* enum gguf_type */

/* Scalar getters by key.  They convert between integer widths (and accept a
 * bool as 0/1); gguf_get_f64 also accepts integers.  Return 0, MU_ENOTFOUND
 * when the key is absent, MU_EFORMAT when its type does not fit. */
int gguf_get_i64(const struct gguf *g, const char *key, int64_t *out);
int gguf_get_f64(const struct gguf *g, const char *key, double *out);
int gguf_get_bool(const struct gguf *g, const char *key, int *out);
/* NULL when absent or not a string.  Borrowed until gguf_close. */
const char *gguf_get_str(const struct gguf *g, const char *key);
/* Same, by index, with the length (strings may contain NUL bytes). */
const char *gguf_kv_str(const struct gguf *g, int64_t i, size_t *len);
/* Scalar value of kv i as int64 / double (any numeric or bool type). */
int gguf_kv_i64(const struct gguf *g, int64_t i, int64_t *out);
int gguf_kv_f64(const struct gguf *g, int64_t i, double *out);

/* Arrays.  For kv i of type GGUF_TYPE_ARRAY: element type and count. */
struct gguf_arr {
        int type;          /* element enum gguf_type */
        uint64_t n;
        const void *data;  /* numeric payload in the map (maybe unaligned);
                            * NULL for string arrays */
        int64_t kv;        /* index of the kv, for gguf_arr_str() */
};
/* Return 0, MU_ENOTFOUND, or MU_EFORMAT when the key is not an array. */
int gguf_get_arr(const struct gguf *g, const char *key, struct gguf_arr *out);
int gguf_kv_arr(const struct gguf *g, int64_t i, struct gguf_arr *out);
/* Element j of a numeric array converted; 0 for out-of-range/strings. */
int64_t gguf_arr_i64(const struct gguf_arr *a, uint64_t j);
double gguf_arr_f64(const struct gguf_arr *a, uint64_t j);
float gguf_arr_f32(const struct gguf_arr *a, uint64_t j);
/* Element j of a string array (NUL-terminated copy; len optional). */
const char *gguf_arr_str(const struct gguf *g, const struct gguf_arr *a, uint64_t j,
                         size_t *len);

/* ---- tensors ------------------------------------------------------------ */

struct gguf_tensor_info {
        const char *name;
        int type;                 /* enum mu_type */
        int n_dims;
        int64_t ne[MU_MAX_DIMS];  /* unused dims are 1 */
        uint64_t offset;          /* relative to gguf_data_offset() */
        size_t size;              /* bytes */
        const void *data;         /* in the map */
};

int64_t gguf_n_tensors(const struct gguf *g);
int64_t gguf_find_tensor(const struct gguf *g, const char *name);  /* -1 */
const struct gguf_tensor_info *gguf_tensor(const struct gguf *g, int64_t i);
/* Fill a struct mu_tensor view (borrowed from g). */
void gguf_tensor_view(const struct gguf *g, int64_t i, struct mu_tensor *out);

/* ---- writer ------------------------------------------------------------- */

/* Build a GGUF v3 file in memory (metadata) and write it out, streaming
 * tensor data from caller buffers.  Keys keep insertion order; setting an
 * existing key replaces its value in place.  Layout as gguf-py/ggml write
 * it (so copying every kv and tensor of a file reproduces it byte for
 * byte): tensor offsets in add order, each tensor's data zero-padded to the
 * alignment, which is general.alignment when set (set_alignment sets that
 * key) or 32.  Setters cannot fail; a bad argument (empty key, bad element
 * type, alignment not a power of two) makes the next write fail with
 * MU_EINVAL naming it. */
struct gguf_writer;

struct gguf_writer *gguf_writer_create(void);
void gguf_writer_free(struct gguf_writer *w);
void gguf_writer_set_alignment(struct gguf_writer *w, size_t alignment);

void gguf_writer_set_u8(struct gguf_writer *w, const char *key, uint8_t v);
void gguf_writer_set_i8(struct gguf_writer *w, const char *key, int8_t v);
void gguf_writer_set_u16(struct gguf_writer *w, const char *key, uint16_t v);
void gguf_writer_set_i16(struct gguf_writer *w, const char *key, int16_t v);
void gguf_writer_set_u32(struct gguf_writer *w, const char *key, uint32_t v);
void gguf_writer_set_i32(struct gguf_writer *w, const char *key, int32_t v);
void gguf_writer_set_u64(struct gguf_writer *w, const char *key, uint64_t v);
void gguf_writer_set_i64(struct gguf_writer *w, const char *key, int64_t v);
void gguf_writer_set_f32(struct gguf_writer *w, const char *key, float v);
void gguf_writer_set_f64(struct gguf_writer *w, const char *key, double v);
void gguf_writer_set_bool(struct gguf_writer *w, const char *key, int v);
void gguf_writer_set_str(struct gguf_writer *w, const char *key, const char *v);
/* Numeric array: n elements of elem_type, copied. */
void gguf_writer_set_arr(struct gguf_writer *w, const char *key, int elem_type,
                         const void *data, uint64_t n);
void gguf_writer_set_arr_str(struct gguf_writer *w, const char *key,
                             const char *const *strs, uint64_t n);
/* Copy kv i of g (any type, arrays included). */
void gguf_writer_copy_kv(struct gguf_writer *w, const struct gguf *g, int64_t i);
void gguf_writer_remove_kv(struct gguf_writer *w, const char *key);

/* Add a tensor; data (size bytes, == mu_row_size * rows) is borrowed until
 * gguf_writer_write() returns.  Returns MU_EINVAL on a bad shape/type. */
int gguf_writer_add_tensor(struct gguf_writer *w, const char *name, int type,
                           int n_dims, const int64_t *ne, const void *data,
                           size_t size, struct mu_err *err);

/* Write to path atomically (path.tmp-PID, fsync, rename). */
int gguf_writer_write(struct gguf_writer *w, const char *path, struct mu_err *err);
/* Serialise into a heap buffer (tests, fuzz seeds).  Caller frees *out. */
int gguf_writer_to_memory(struct gguf_writer *w, void **out, size_t *size,
                          struct mu_err *err);

#endif
