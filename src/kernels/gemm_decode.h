/* gemm_decode.h -- one file block of a weight row -> the gemm panel format:
 * unsigned codes in element order (signed bytes for Q8_0) and per group
 * value = wd * code + wm (see gemm.h).  Included by gemm.c and by the SIMD
 * files, which compile it with their own flags (the loops are written for
 * the auto-vectorizer).  The includer defines GEMM_H2F(uint16_t) -> float. */
#ifndef MULLAMA_GEMM_DECODE_H
#define MULLAMA_GEMM_DECODE_H

#include <stdint.h>
#include <string.h>

#include "kernels/quant_blocks.h"
#include "mullama/types.h"

/* Block b of row: codes (32 or 256 bytes), wd and wm (one per group). */
static inline void gemm_decode_block(int type, const void *row, int64_t b, uint8_t *restrict c,
                                     float *restrict wd, float *restrict wm)
{
        switch (type) {
        case MU_TYPE_Q4_0: {
                const struct block_q4_0 *x = (const struct block_q4_0 *)row + b;
                for (int i = 0; i < 16; i++) {
                        c[i] = x->qs[i] & 15;
                        c[i + 16] = x->qs[i] >> 4;
                }
                wd[0] = GEMM_H2F(x->d);
                wm[0] = -8.0f * wd[0];
                break;
        }
        case MU_TYPE_Q4_1: {
                const struct block_q4_1 *x = (const struct block_q4_1 *)row + b;
                for (int i = 0; i < 16; i++) {
                        c[i] = x->qs[i] & 15;
                        c[i + 16] = x->qs[i] >> 4;
                }
                wd[0] = GEMM_H2F(x->d);
                wm[0] = GEMM_H2F(x->m);
                break;
        }
        case MU_TYPE_Q5_0:
        case MU_TYPE_Q5_1: {
                const uint8_t *qs, *qhp;
                uint32_t qh;
                if (type == MU_TYPE_Q5_0) {
                        const struct block_q5_0 *x = (const struct block_q5_0 *)row + b;
                        qs = x->qs;
                        qhp = x->qh;
                        wd[0] = GEMM_H2F(x->d);
                        wm[0] = -16.0f * wd[0];
                } else {
                        const struct block_q5_1 *x = (const struct block_q5_1 *)row + b;
                        qs = x->qs;
                        qhp = x->qh;
                        wd[0] = GEMM_H2F(x->d);
                        wm[0] = GEMM_H2F(x->m);
                }
                memcpy(&qh, qhp, 4);
                for (int i = 0; i < 16; i++) {
                        c[i] = (uint8_t)((qs[i] & 15) | ((qh >> i) & 1) << 4);
                        c[i + 16] = (uint8_t)((qs[i] >> 4) | ((qh >> (i + 16)) & 1) << 4);
                }
                break;
        }
        case MU_TYPE_Q8_0: {
                const struct block_q8_0 *x = (const struct block_q8_0 *)row + b;
                memcpy(c, x->qs, 32);
                wd[0] = GEMM_H2F(x->d);
                wm[0] = 0.0f;
                break;
        }
        case MU_TYPE_Q2_K: {
                const struct block_q2_k *x = (const struct block_q2_k *)row + b;
                float d = GEMM_H2F(x->d), dmin = GEMM_H2F(x->dmin);
                for (int h = 0; h < 2; h++)
                        for (int j = 0; j < 4; j++)
                                for (int l = 0; l < 32; l++)
                                        c[128 * h + 32 * j + l] = (x->qs[32 * h + l] >> (2 * j)) & 3;
                for (int g = 0; g < 16; g++) {
                        wd[g] = d * (float)(x->scales[g] & 15);
                        wm[g] = -dmin * (float)(x->scales[g] >> 4);
                }
                break;
        }
        case MU_TYPE_Q3_K: {
                const struct block_q3_k *x = (const struct block_q3_k *)row + b;
                float d = GEMM_H2F(x->d);
                int8_t sc[16];
                quant_k3_scales(x->scales, sc);
                for (int h = 0; h < 2; h++)
                        for (int j = 0; j < 4; j++)
                                for (int l = 0; l < 32; l++) {
                                        int e = 128 * h + 32 * j + l;
                                        int hb = (x->hmask[l] >> (e / 32)) & 1;
                                        c[e] = (uint8_t)(((x->qs[32 * h + l] >> (2 * j)) & 3) | hb << 2);
                                }
                for (int g = 0; g < 16; g++) {
                        wd[g] = d * (float)sc[g];
                        wm[g] = -4.0f * wd[g];
                }
                break;
        }
        case MU_TYPE_Q4_K:
        case MU_TYPE_Q5_K: {
                const uint8_t *qs, *scales, *qh = NULL;
                float d, dmin;
                if (type == MU_TYPE_Q4_K) {
                        const struct block_q4_k *x = (const struct block_q4_k *)row + b;
                        qs = x->qs;
                        scales = x->scales;
                        d = GEMM_H2F(x->d);
                        dmin = GEMM_H2F(x->dmin);
                } else {
                        const struct block_q5_k *x = (const struct block_q5_k *)row + b;
                        qs = x->qs;
                        qh = x->qh;
                        scales = x->scales;
                        d = GEMM_H2F(x->d);
                        dmin = GEMM_H2F(x->dmin);
                }
                for (int ch = 0; ch < 4; ch++)
                        for (int l = 0; l < 32; l++) {
                                c[64 * ch + l] = qs[32 * ch + l] & 15;
                                c[64 * ch + 32 + l] = qs[32 * ch + l] >> 4;
                        }
                if (qh)
                        for (int ch = 0; ch < 4; ch++)
                                for (int l = 0; l < 32; l++) {
                                        c[64 * ch + l] |= (uint8_t)(((qh[l] >> (2 * ch)) & 1) << 4);
                                        c[64 * ch + 32 + l] |= (uint8_t)(((qh[l] >> (2 * ch + 1)) & 1) << 4);
                                }
                for (int j = 0; j < 8; j++) {
                        uint8_t sc, m;
                        quant_k4_scale_min(j, scales, &sc, &m);
                        wd[j] = d * (float)sc;
                        wm[j] = -dmin * (float)m;
                }
                break;
        }
        case MU_TYPE_Q6_K: {
                const struct block_q6_k *x = (const struct block_q6_k *)row + b;
                float d = GEMM_H2F(x->d);
                for (int h = 0; h < 2; h++) {
                        const uint8_t *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
                        uint8_t *o = c + 128 * h;
                        for (int l = 0; l < 32; l++) {
                                o[l] = (uint8_t)((ql[l] & 15) | (qh[l] & 3) << 4);
                                o[l + 32] = (uint8_t)((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4);
                                o[l + 64] = (uint8_t)((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4);
                                o[l + 96] = (uint8_t)((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4);
                        }
                }
                for (int g = 0; g < 16; g++) {
                        wd[g] = d * (float)x->scales[g];
                        wm[g] = -32.0f * wd[g];
                }
                break;
        }
        default:
                break;
        }
}

#endif
