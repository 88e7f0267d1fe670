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

/* out[hdv] = softmax over positions [lo, hi] of (q . k_p) * scale, times V.
 * q16 (hdk) and acc16 (hdv) are scratch.  simd: use the AVX2/F16C variant
 * (same bits as the scalar reference; the caller checks the CPU). */
void attn_f16(const struct attn_f16_row *r, const float *q, int lo, int hi, uint16_t *q16,
              uint16_t *acc16, float *out, int simd);

#endif
