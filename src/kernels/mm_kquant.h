/* mm_kquant.h -- the AVX-512 small-batch kernels of the K-quants
 * (mm_kquant_avx512.c), which cpu_avx512.c puts in its table as quant_fns.mm
 * (kernels.h has the contract).  Only x86-64 builds with AVX-512 VNNI flags
 * define them; the table refers to them only there. */
#ifndef MULLAMA_MM_KQUANT_H
#define MULLAMA_MM_KQUANT_H

#include <stddef.h>

void q2_k_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y,
                    size_t ys);
void q3_k_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y,
                    size_t ys);
void q4_k_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y,
                    size_t ys);
void q5_k_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y,
                    size_t ys);
void q6_k_mm_avx512(int n, int nr, int nt, float *s, size_t ss, const void *x, size_t xs, const void *y,
                    size_t ys);

#endif
