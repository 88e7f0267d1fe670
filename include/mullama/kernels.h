/* kernels.h -- what the engine may ask of the CPU kernels.
 *
 * Per type: dequantize a row, quantize a row (the reference quantizer, also
 * used by `create --quantize`), and a dot product of a weight row against an
 * activation row already quantized to the type's vec_dot_type (Q8_0 for
 * Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F32 for
 * F32/F16/BF16).  Every function has a
 * scalar reference in cpu_kernels_scalar; SIMD tables (avx2, avx512)
 * live in their own translation units and are chosen once at run time
 * (cpuid; MULLAMA_CPU=scalar|avx2|avx512 overrides).  A SIMD table may leave
 * an entry NULL: the scalar one is used then.
 *
 * matmul() is the one entry the engine uses for weight x activations; it
 * quantizes the activations once per call, splits rows over the pool, and may
 * use BLAS for prompt batches (compiled in, off by default: see matmul.c). */
#ifndef MULLAMA_KERNELS_H
#define MULLAMA_KERNELS_H

#include <stdint.h>
#include <string.h>

#include "mullama/types.h"

struct mu_pool;

typedef void (*quant_to_float_fn)(const void *x, float *y, int64_t n);
typedef void (*quant_from_float_fn)(const float *x, void *y, int64_t n);
/* s = sum_i x[i] * y[i] over n elements (n a multiple of the block size). */
typedef void (*quant_vec_dot_fn)(int n, float *s, const void *x, const void *y);

/* Optional: one weight row x against 4 activation rows at once:
 * s[k * s_stride] = x . (y + k * y_stride) for k < 4 (y_stride in bytes).
 * Decodes each weight block once for 4 tokens (prompt processing). */
typedef void (*quant_vec_dot4_fn)(int n, float *s, size_t s_stride, const void *x, const void *y,
                                  size_t y_stride);

/* Optional: nr consecutive weight rows (x_stride bytes apart) against one
 * activation row: s[r] = (x + r * x_stride) . y for r < nr.  Token
 * generation: each activation block is loaded once for several rows.  A row's
 * result must not depend on nr or on its place in the call (1 and 2 threads
 * give the same bits). */
typedef void (*quant_gemv_fn)(int n, int nr, float *s, const void *x, size_t x_stride,
                              const void *y);

/* Optional: a small batch (2..63 tokens: short prompts, decode groups),
 * nr weight rows against nt activation rows:
 *   s[t * s_stride + r] = (x + r * x_stride) . (y + t * y_stride)
 * for r < nr, t < nt (any nr, nt >= 1; strides in floats for s, bytes for
 * x and y).  Each result must have the bits of the path it replaces (and of
 * llama.cpp's CPU backend on such batches): tokens 0..4k-1 in groups of 4
 * those of the scalar table's vec_dot4 where it has one (Q4_K), else of
 * vec_dot; the last nt % 4 tokens those of vec_dot.  The point: decode a
 * weight block once for several tokens and load an activation block once
 * for several rows (register tiles). */
typedef void (*quant_mm_fn)(int n, int nr, int nt, float *s, size_t s_stride, const void *x,
                            size_t x_stride, const void *y, size_t y_stride);

struct quant_fns {
        quant_to_float_fn to_float;
        quant_from_float_fn from_float;
        quant_vec_dot_fn vec_dot;
        int vec_dot_type;  /* type y must be in for vec_dot */
        quant_vec_dot4_fn vec_dot4;  /* may be NULL (matmul loops vec_dot) */
        quant_gemv_fn gemv;          /* may be NULL (matmul loops vec_dot) */
        quant_mm_fn mm;              /* may be NULL (matmul uses vec_dot4) */
};

struct cpu_kernels {
        const char *name;  /* "scalar", "avx2", "avx512" */
        struct quant_fns q[MU_TYPE_COUNT];
        /* Optional: y = silu(g) * u with the bits of the scalar op_silu_mul
         * (ops.c, llama.cpp's AVX-512 swiglu); NULL: use that. */
        void (*silu_mul)(float *y, const float *g, const float *u, int n);
};

extern const struct cpu_kernels cpu_kernels_scalar;

/* The selected table (cpuid once; MULLAMA_CPU override).  Entries missing
 * in a SIMD table are filled from the scalar one, so every supported type has
 * all three functions.  Thread-safe after the first call. */
const struct cpu_kernels *cpu_kernels_get(void);
/* Force a table by name for tests ("scalar", "avx2", "avx512"); returns -1
 * when this CPU cannot run it or it was not built. */
int cpu_kernels_force(const char *name);
/* Names of the tables this binary has and this CPU can run, e.g.
 * {"scalar", "avx2", "avx512", NULL}. */
const char *const *cpu_kernels_available(void);
/* "cpu(avx512) blas vulkan": what --version prints. */
const char *mu_backends(void);

/* Can the engine run tensors of this type (dequantize + dot)? */
int quant_supported(int type);

/* n is a multiple of the block.  Dequantize uses cpu_kernels_get(); quantize
 * always uses the scalar reference (bytes independent of the CPU). */
void quant_dequantize_row(int type, const void *x, float *y, int64_t n);
void quant_quantize_row(int type, const float *x, void *y, int64_t n);

/* ---- matmul ----------------------------------------------------------- */

/* Scratch space for quantized activations, owned by one session. */
struct matmul_ws;
struct matmul_ws *matmul_ws_create(void);
void matmul_ws_free(struct matmul_ws *ws);

/* y[t][r] = sum_c w[r][c] * x[t][c] for t < n_tok, r < w->ne[1], c < w->ne[0].
 * x is [n_tok][ne0] floats, y is [n_tok][ne1] floats (row-major, dense).
 * The type of w must be quant_supported().  Runs on pool (NULL: 1 thread). */
void matmul(struct mu_pool *pool, struct matmul_ws *ws, const struct mu_tensor *w,
            const float *x, int n_tok, float *y);
/* y[i] = w[i] x for nw weights with the same ne[0] sharing one input (Q/K/V,
 * gate/up).  For one token: x is quantized once per vec_dot type and all
 * rows run in one pool job (gemv.c); for more, one matmul() per weight. */
void matmul_multi(struct mu_pool *pool, struct matmul_ws *ws, int nw, const struct mu_tensor *const *w,
                  const float *x, int n_tok, float *const *y);
/* matmul() for n_tok == 1 (what matmul_multi() and matmul() call). */
void matmul_vec(struct mu_pool *pool, struct matmul_ws *ws, int nw, const struct mu_tensor *const *w,
                const float *x, float *const *y);

/* ---- half precision ---------------------------------------------------- */

static inline float mu_fp16_to_fp32(uint16_t h)
{
        uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f,
                 man = h & 0x3ff, bits;
        float f;

        if (exp == 0) {
                if (man == 0) {
                        bits = sign;
                } else { /* subnormal: normalise */
                        exp = 127 - 15 + 1;
                        while (!(man & 0x400)) {
                                man <<= 1;
                                exp--;
                        }
                        man &= 0x3ff;
                        bits = sign | (exp << 23) | (man << 13);
                }
        } else if (exp == 31) {
                bits = sign | 0x7f800000u | (man << 13);
        } else {
                bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
        }
        memcpy(&f, &bits, 4);
        return f;
}

/* Round to nearest even, like the F16C instruction and ggml. */
static inline uint16_t mu_fp32_to_fp16(float f)
{
        uint32_t x, sign, mant;
        int32_t exp;

        memcpy(&x, &f, 4);
        sign = (x >> 16) & 0x8000;
        exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
        mant = x & 0x7fffff;
        if (((x >> 23) & 0xff) == 0xff) /* inf / nan */
                return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
        if (exp >= 31)
                return (uint16_t)(sign | 0x7c00);
        if (exp <= 0) {
                if (exp < -10)
                        return (uint16_t)sign;
                mant |= 0x800000;
                uint32_t shift = (uint32_t)(14 - exp);
                uint32_t half = 1u << (shift - 1);
                uint32_t r = mant >> shift;
                uint32_t rem = mant & ((1u << shift) - 1);
                if (rem > half || (rem == half && (r & 1)))
                        r++;
                return (uint16_t)(sign | r);
        }
        uint32_t r = ((uint32_t)exp << 10) | (mant >> 13);
        uint32_t rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
                r++; /* may carry into the exponent: still correct */
        return (uint16_t)(sign | r);
}

static inline float mu_bf16_to_fp32(uint16_t h)
{
        uint32_t bits = (uint32_t)h << 16;
        float f;

        memcpy(&f, &bits, 4);
        return f;
}

static inline uint16_t mu_fp32_to_bf16(float f)
{
        uint32_t x;

        memcpy(&x, &f, 4);
        if ((x & 0x7fffffff) > 0x7f800000) /* nan */
                return (uint16_t)((x >> 16) | 64);
        return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

#endif
