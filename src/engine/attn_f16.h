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

/* attn_f16_avx512.c (x86-64 builds only): attn_f16's AVX-512 body; -1 when
 * the head dims are out of its range (> 512), else 0.  attn_f16_exp16:
 * y[16] = expf(x[16]) with glibc's bits (tests/test_attn.c checks it). */
int attn_f16_avx512(const struct attn_f16_row *r, const float *q, int lo, int hi, uint16_t *q16,
                    float *out);
void attn_f16_exp16(const float *x, float *y);

#endif
