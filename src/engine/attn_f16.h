/* attn_f16.h -- one attention row over an F16 KV cache, rounded the way
 * llama.cpp's CPU flash attention rounds it (attn_f16.c). */
#ifndef MULLAMA_ATTN_F16_H
#define MULLAMA_ATTN_F16_H

#include <stddef.h>
#include <stdint.h>

struct attn_f16_row {
        const char *k, *v;       /* this KV head's K and V rows at position 0 (f16) */
        size_t k_stride, v_stride; /* bytes from one position to the next */
        int hdk, hdv;            /* head dims; hdk a multiple of 64, hdv of 16 */
        float scale, cap;        /* KQ scale; tanh soft-cap (0: none) */
};

/* The variants, all giving the scalar reference's bits. */
enum attn_f16_isa {
        ATTN_F16_SCALAR = 0, /* the reference; MULLAMA_CPU=scalar */
        ATTN_F16_AVX2 = 1,   /* AVX2/FMA/F16C, one position at a time */
        ATTN_F16_AVX512 = 2, /* AVX-512, 16 positions at a time (attn_f16_avx512.c) */
};

/* The variant for a kernel table's name ("scalar", "avx2", "avx512", "amx",
 * ...; NULL: scalar): the table was picked from cpuid, so its ISA is there. */
enum attn_f16_isa attn_f16_isa(const char *kernel_name);

/* out[hdv] = softmax over positions [lo, hi] of (q . k_p) * scale, times V.
 * q16 (hdk) and acc16 (hdv) are scratch.  simd: an enum attn_f16_isa (a
 * variant this build lacks runs the next one down). */
void attn_f16(const struct attn_f16_row *r, const float *q, int lo, int hi, uint16_t *q16,
              uint16_t *acc16, float *out, int simd);

/* nq query heads over the same KV head (GQA): head i's query at
 * q + i * q_stride, multiplied by qmul in f32 before its f16 rounding (1:
 * none; the q-scaled architectures pass the scale here and 1 in r->scale),
 * its output at out + i * out_stride.  Each head's bits are attn_f16's for
 * that query; the AVX-512 variant does several heads per pass over K and V.
 * q16 (hdk), acc16 (hdv) and qf (hdk floats) are scratch. */
void attn_f16_heads(const struct attn_f16_row *r, const float *q, size_t q_stride, float qmul,
                    int nq, int lo, int hi, uint16_t *q16, uint16_t *acc16, float *qf, float *out,
                    size_t out_stride, int simd);

/* One query row of attn_f16_rows: its query (hdk floats), its output (hdv
 * floats) and its own positions lo..hi. */
struct attn_f16_q {
        const float *q;
        float *out;
        int lo, hi;
};

/* n query rows over the same KV head, each with its own positions (the
 * tokens of a prompt batch x the query heads of one KV head: token t sees
 * positions up to p0 + t, and from its own lo in a sliding window), q
 * multiplied by qmul as in attn_f16_heads.  Each row's bits are attn_f16's
 * for that row alone; the AVX-512 variant walks the union of the rows'
 * positions once for up to 32 rows (attn_f16_avx512.c).  q16 (hdk), acc16
 * (hdv) and qf (hdk floats) are scratch for the other variants. */
void attn_f16_rows(const struct attn_f16_row *r, const struct attn_f16_q *rows, int n, float qmul,
                   uint16_t *q16, uint16_t *acc16, float *qf, int simd);

/* attn_f16_avx512.c (x86-64 builds only): attn_f16_heads' and
 * attn_f16_rows' AVX-512 bodies; -1 when the head dims are out of their
 * range (> 512), else 0.  attn_f16_exp16:
 * y[16] = expf(x[16]) with glibc's bits (tests/test_attn.c checks it). */
int attn_f16_avx512(const struct attn_f16_row *r, const float *q, size_t q_stride, float qmul,
                    int nq, int lo, int hi, float *out, size_t out_stride);
int attn_f16_rows_avx512(const struct attn_f16_row *r, const struct attn_f16_q *rows, int n,
                         float qmul);
void attn_f16_exp16(const float *x, float *y);

#endif
