/* test_vulkan.c -- the Vulkan backend against the CPU engine, on the device
 * MULLAMA_VULKAN_DEVICE names, else the first one there is (lavapipe on a
 * machine without a GPU).  Kernels: the exact-rounding helpers (division,
 * sqrt, FMA, glibc's expf, ggml's exp) against the CPU's results over 65536
 * inputs; every matmul type (1 token and prompt chunks) against the scalar
 * CPU's matmul(), bit for bit (Q2_K, Q3_K, Q5_K: a normalized-error bound);
 * RMSNorm, RoPE (normal and NeoX), SwiGLU/GeGLU, add, softcap, and K/V
 * store + attention (GQA, sliding window, soft-cap) against a scalar
 * reference.  Models: with 1, half and all blocks offloaded, the hidden
 * states bit-identical to the CPU engine's on its scalar table and all 32
 * greedy tokens equal (stories260K, SmolLM2 Q4_1, gemma-3 Q4_K_M); against
 * the default SIMD table, within a stated tolerance; and a context shift.
 * No device: SKIP. */
#include <dlfcn.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attn_f16.h"
#include "engine/engine.h"
#include "mullama/kernels.h"
#include "mullama/model.h"
#include "mullama/vulkan.h"
#include "test.h"

#ifdef MU_HAVE_VULKAN
#include "kernels/vulkan_impl.h"

/* The device: MULLAMA_VULKAN_DEVICE, else the first one there is, set in
 * the environment for the duration of the test (model_load picks CPU
 * devices only when named there) and unset by vk_done(). */
static int env_ours;

static struct mu_vk *vk_open(void)
{
        struct mu_err err = {0};
        struct mu_vk_device d[8];
        struct mu_vk *c = NULL;

        /* Under ASan: keep Mesa's lavapipe (and its LLVM) loaded for the
         * whole run, so the few blocks LLVM never frees stay attributable
         * to it (tests/lsan.supp) instead of to an unloaded module. */
        if (getenv("MULLAMA_ASAN"))
                (void)dlopen("libvulkan_lvp.so", RTLD_LAZY | RTLD_NODELETE);
        if (!getenv("MULLAMA_VULKAN_DEVICE")) {
                if (mu_vk_devices(d, 8, &err) <= 0)
                        return NULL;
                setenv("MULLAMA_VULKAN_DEVICE", "0", 1);
                env_ours = 1;
        }
        if (mu_vk_init(&c, &err) < 0) {
                fprintf(stderr, "  vulkan: %s\n", err.msg);
                return NULL;
        }
        return c;
}

static void vk_done(struct mu_vk *c)
{
        mu_vk_free(c);
        if (env_ours)
                unsetenv("MULLAMA_VULKAN_DEVICE");
        env_ours = 0;
}

#define NEED_VK(c)                                                                 \
        struct mu_vk *c = vk_open();                                               \
        if (!c) {                                                                  \
                vk_done(NULL);                                                     \
                TEST_SKIP("no Vulkan device (install mesa-vulkan-drivers for lavapipe)"); \
        }

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static double nmse(const float *a, const float *ref, size_t n)
{
        double e = 0, r = 0;
        for (size_t i = 0; i < n; i++) {
                e += ((double)a[i] - ref[i]) * ((double)a[i] - ref[i]);
                r += (double)ref[i] * ref[i];
        }
        return r > 0 ? e / r : e;
}

static struct vk_buf *buf_with(struct mu_vk *c, struct vk_buf *b, const void *data, size_t n)
{
        struct mu_err err = {0};

        CHECK(vk_buf_create(c, b, n, 0, &err) == 0);
        if (data)
                CHECK(vk_upload(c, b, 0, data, n, &err) == 0);
        return b;
}

/* Record one op, run it. */
static void run1(struct mu_vk *c, enum vk_pipe p, struct vk_buf *const *bufs, const void *pc,
                 uint32_t pcs, uint32_t gx, uint32_t gy)
{
        struct mu_err err = {0};
        struct vk_graph g = {0};

        CHECK(vk_graph_begin(c, &g, 4, &err) == 0);
        vk_op(c, &g, p, bufs, pc, pcs, gx, gy);
        CHECK(vk_graph_end(&g, &err) == 0);
        CHECK_MSG(vk_graph_run(c, &g, &err) == 0, "%s", err.msg);
        vk_graph_free(c, &g);
}

static void download(struct mu_vk *c, struct vk_buf *b, float *dst, size_t n)
{
        struct mu_err err = {0};
        CHECK(vk_download(c, b, 0, dst, n * sizeof(float), &err) == 0);
}

/* ---- matmul ------------------------------------------------------------- */

/* GPU (quantize activations + matmul) against the CPU's matmul(); also
 * against a float64 dot of the dequantized weights with the unrounded
 * activations, where GPU and CPU must be equally close. */
static void mm_case(struct mu_vk *c, int type, int ncols, int nrows, int ntok, double bound)
{
        struct mu_err err = {0};
        size_t rb = mu_row_size(type, ncols);
        float *wf = malloc(sizeof(float) * (size_t)ncols * nrows);
        float *x = malloc(sizeof(float) * (size_t)ncols * ntok);
        float *yc = malloc(sizeof(float) * (size_t)nrows * ntok);
        float *yg = malloc(sizeof(float) * (size_t)nrows * ntok);
        float *yd = malloc(sizeof(float) * (size_t)nrows * ntok);
        float *row = malloc(sizeof(float) * (size_t)ncols);
        uint8_t *w = malloc(rb * nrows);
        struct vk_buf bw, bx, bq, bs, by;

        for (size_t i = 0; i < (size_t)ncols * nrows; i++)
                wf[i] = frand() * (1 + (i % 7 == 0) * 3);
        for (size_t i = 0; i < (size_t)ncols * ntok; i++)
                x[i] = frand() * (1 + (i % 13 == 0) * 5);
        for (int r = 0; r < nrows; r++)
                quant_quantize_row(type, wf + (size_t)r * ncols, w + rb * r, ncols);
        struct mu_tensor t = {.type = type, .n_dims = 2, .ne = {ncols, nrows, 1, 1}, .data = w,
                              .size = rb * nrows};
        /* the CPU on the scalar table, all tokens in one matmul (its prompt
         * path: Q4_K's vec_dot4 for groups of 4), which the GPU reproduces
         * bit for bit for every type but Q2_K, Q3_K and Q5_K */
        char was[16];
        snprintf(was, sizeof(was), "%s", cpu_kernels_get()->name);
        CHECK_EQ_INT(cpu_kernels_force("scalar"), 0);
        struct matmul_ws *ws = matmul_ws_create();
        matmul(NULL, ws, &t, x, ntok, yc);
        matmul_ws_free(ws);
        cpu_kernels_force(was);
        for (int r = 0; r < nrows; r++) {
                quant_dequantize_row(type, w + rb * r, row, ncols);
                for (int k = 0; k < ntok; k++) {
                        double a = 0;
                        for (int j = 0; j < ncols; j++)
                                a += (double)row[j] * x[(size_t)k * ncols + j];
                        yd[(size_t)k * nrows + r] = (float)a;
                }
        }

        buf_with(c, &bw, w, rb * nrows);
        buf_with(c, &bx, x, sizeof(float) * (size_t)ncols * ntok);
        buf_with(c, &bq, NULL, sizeof(float) * (size_t)ncols * ntok);
        buf_with(c, &bs, NULL, sizeof(float) * (size_t)ncols * ntok / 32 * 2 + 16);
        buf_with(c, &by, NULL, sizeof(float) * (size_t)nrows * ntok);
        struct vk_graph g = {0};
        CHECK(vk_graph_begin(c, &g, 4, &err) == 0);
        struct vk_buf *src = &bx;
        int qp = vk_quant_pipe(type);
        if (qp >= 0) {
                struct { uint32_t n, xoff, qoff, soff; } qpc = {(uint32_t)(ncols * ntok), 0, 0, 0};
                struct vk_buf *qb[VK_NBIND] = {&bx, &bq, &bs};
                uint32_t qk = qp == VKP_Q8_K ? 256 : 32;
                vk_op(c, &g, (enum vk_pipe)qp, qb, &qpc, sizeof(qpc), (qpc.n / qk + 63) / 64, 1);
                src = &bq;
        }
        struct { uint32_t ncols, nrows, ntok, woff, row_bytes, xoff, yoff, ystride, xsoff, ntok4; }
                pc = {(uint32_t)ncols, (uint32_t)nrows, (uint32_t)ntok, 0, (uint32_t)rb, 0, 0,
                      (uint32_t)nrows, 0, ntok > 1 ? (uint32_t)ntok & ~3u : 0};
        struct vk_buf *mb[VK_NBIND] = {&bw, src, &by, &bs};
        vk_op(c, &g, (enum vk_pipe)vk_mm_pipe(type), mb, &pc, sizeof(pc), (nrows + 63) / 64,
              (ntok + 7) / 8);
        CHECK(vk_graph_end(&g, &err) == 0);
        CHECK_MSG(vk_graph_run(c, &g, &err) == 0, "%s", err.msg);
        CHECK(vk_download(c, &by, 0, yg, sizeof(float) * (size_t)nrows * ntok, &err) == 0);
        int exact = type != MU_TYPE_Q2_K && type != MU_TYPE_Q3_K && type != MU_TYPE_Q5_K;
        if (exact) {
                int nd = 0;
                for (size_t i = 0; i < (size_t)nrows * ntok; i++)
                        if (memcmp(&yg[i], &yc[i], sizeof(float)) && nd++ < 2 && getenv("VKDBG"))
                                fprintf(stderr, "    [%zu] gpu %.9g cpu %.9g f64 %.9g\n", i, yg[i], yc[i], yd[i]);
                CHECK_MSG(nd == 0, "matmul %s %dx%d, %d tokens: %d of %d results differ from the "
                          "scalar CPU's bits", mu_type_name(type), nrows, ncols, ntok, nd,
                          nrows * ntok);
        }
        double e = nmse(yg, yc, (size_t)nrows * ntok);
        CHECK_MSG(e <= bound, "matmul %s %dx%d, %d tokens: nmse %.3g > %.3g", mu_type_name(type),
                  nrows, ncols, ntok, e, bound);
        double eg = nmse(yg, yd, (size_t)nrows * ntok), ec = nmse(yc, yd, (size_t)nrows * ntok);
        CHECK_MSG(eg <= ec * 1.01 + 1e-12 && eg < 1e-3, "matmul %s vs float64: gpu nmse %.3g, "
                  "cpu %.3g", mu_type_name(type), eg, ec);
        vk_graph_free(c, &g);
        vk_buf_free(c, &bw);
        vk_buf_free(c, &bx);
        vk_buf_free(c, &bq);
        vk_buf_free(c, &bs);
        vk_buf_free(c, &by);
        free(wf);
        free(x);
        free(yc);
        free(yg);
        free(yd);
        free(row);
        free(w);
}

TEST(vulkan_matmul_types)
{
        NEED_VK(c);
        /* the GPU sees the same quantized activations as the CPU: only
         * summation order differs, so the bound is tight for every type */
        static const int types[] = {MU_TYPE_F32, MU_TYPE_F16, MU_TYPE_BF16, MU_TYPE_Q4_0,
                                    MU_TYPE_Q4_1, MU_TYPE_Q5_0, MU_TYPE_Q5_1, MU_TYPE_Q8_0,
                                    MU_TYPE_Q2_K, MU_TYPE_Q3_K, MU_TYPE_Q4_K, MU_TYPE_Q5_K,
                                    MU_TYPE_Q6_K};
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                mm_case(c, types[i], 512, 70, 1, 1e-9);
                mm_case(c, types[i], 256, 33, 11, 1e-9);  /* odd row sizes (Q3_K, Q6_K) */
        }
        mm_case(c, MU_TYPE_F32, 172, 20, 3, 1e-10);  /* a row length no block divides */
        vk_done(c);
}

/* ---- exact rounding helpers (common.glsl) ------------------------------ */

/* div_rn, sqrt_rn, expf_glibc and expf_ggml against the CPU's a / b, sqrtf,
 * expf and (through op_silu_mul) ggml's exp, over many inputs: every result
 * bit-identical. */
static int fmath_run(struct mu_vk *c, uint32_t op, const float *a, const float *b, float *y,
                     int n)
{
        struct vk_buf ba, bb, by;
        buf_with(c, &ba, a, sizeof(float) * (size_t)n);
        buf_with(c, &bb, b, sizeof(float) * (size_t)n);
        buf_with(c, &by, NULL, sizeof(float) * (size_t)n);
        struct { uint32_t n, op; } pc = {(uint32_t)n, op};
        struct vk_buf *bufs[VK_NBIND] = {&ba, &bb, &by};
        run1(c, VKP_FMATH, bufs, &pc, sizeof(pc), (uint32_t)(n + 63) / 64, 1);
        download(c, &by, y, (size_t)n);
        vk_buf_free(c, &ba);
        vk_buf_free(c, &bb);
        vk_buf_free(c, &by);
        return 0;
}

/* Dekker's product and the emulated FMA give the CPU's fmaf residual
 * a b - fl(a b) exactly; the device's own fma() is only reported (lavapipe's
 * is not fused: the residual comes out 0, which is why common.glsl never
 * relies on it). */
TEST(vulkan_fma_emulation)
{
        NEED_VK(c);
        enum { N = 4096 };
        float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
        float *y = malloc(sizeof(float) * N);
        int fused = 0;

        for (int i = 0; i < N; i++)
                a[i] = ldexpf(frand(), (int)(frand() * 30)), b[i] = ldexpf(frand(), (int)(frand() * 30));
        for (uint32_t op = 5; op < 8; op++) {
                int nd = 0;
                fmath_run(c, op, a, b, y, N);
                for (int i = 0; i < N; i++) {
                        float want = fmaf(a[i], b[i], -(a[i] * b[i]));
                        nd += memcmp(&y[i], &want, sizeof(float)) != 0;
                }
                if (op == 5)
                        fused = nd == 0;
                else
                        CHECK_MSG(nd == 0, "%s: %d of %d residuals differ from fmaf's",
                                  op == 6 ? "two_prod" : "fma_rn", nd, N);
        }
        fprintf(stderr, "  the device's fma() is %sfused\n", fused ? "" : "not ");
        free(a);
        free(b);
        free(y);
        vk_done(c);
}

TEST(vulkan_exact_rounding)
{
        NEED_VK(c);
        enum { N = 1 << 16 };
        float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
        float *y = malloc(sizeof(float) * N), *ref = malloc(sizeof(float) * N);
        static const char *name[] = {"a / b", "sqrtf", "expf (glibc)", "exp (ggml)",
                                     "(double)a / 7"};

        for (uint32_t op = 0; op < 5; op++) {
                for (int i = 0; i < N; i++) {
                        /* wide exponent range, plus the cases the kernels meet:
                         * amax / 127, 127 / amax, 1 / x */
                        float u = frand(), v = frand();
                        a[i] = ldexpf(u, (int)(frand() * 20));
                        b[i] = ldexpf(v == 0 ? 1 : v, (int)(frand() * 20));
                        if (i % 4 == 1)
                                b[i] = 127.0f;
                        if (i % 4 == 2)
                                a[i] = i % 8 == 2 ? 127.0f : 1.0f;
                        if (op == 1)
                                a[i] = fabsf(a[i]);
                        if (op == 2 || op == 3)
                                a[i] = frand() * (i % 2 ? 20.0f : 100.0f);
                        if (op == 4)  /* a float-float pair: b below half an ulp of a */
                                b[i] = a[i] * ldexpf(frand(), -25);
                }
                for (int i = 0; i < N; i++) {
                        if (op == 0)
                                ref[i] = a[i] / b[i];
                        else if (op == 1)
                                ref[i] = sqrtf(a[i]);
                        else if (op == 2)
                                ref[i] = expf(a[i]);
                        else if (op == 4)
                                ref[i] = (float)(((double)a[i] + b[i]) / 7);
                }
                if (op == 3) {  /* op_silu_mul(g = -a, u = 1) = -a / (1 + exp(a)) */
                        float *g = malloc(sizeof(float) * N), *one = malloc(sizeof(float) * N);
                        for (int i = 0; i < N; i++)
                                g[i] = -a[i], one[i] = 1;
                        op_silu_mul(ref, g, one, N);
                        fmath_run(c, 3, a, b, y, N);
                        for (int i = 0; i < N; i++)
                                y[i] = g[i] / (1.0f + y[i]);
                        free(g);
                        free(one);
                } else {
                        fmath_run(c, op, a, b, y, N);
                }
                int nd = 0, first = -1, nsub = 0;
                for (int i = 0; i < N; i++) {
                        if (!memcmp(&y[i], &ref[i], sizeof(float)))
                                continue;
                        /* subnormal results: the device rounds twice (or
                         * flushes); exp() there only feeds sums where such
                         * a term vanishes (a softmax sum >= 1, an f16 value) */
                        if (fabsf(ref[i]) < FLT_MIN && fabsf(y[i]) < FLT_MIN) {
                                nsub++;
                                continue;
                        }
                        if (nd++ == 0)
                                first = i;
                }
                if (nsub)
                        fprintf(stderr, "  %s: %d subnormal results differ (not counted)\n",
                                name[op], nsub);
                /* glibc's expf rounds its double result: where that lies within
                 * ~2^-48 of a float midpoint, the float-float emulation may
                 * round the other way (measured: 1 of these 65536 inputs,
                 * -0x1.a420f4p+4, glibc's y 0x1.15c0430000012p-38) */
                if (op == 2 && nd > 0 && nd <= 2)
                        fprintf(stderr, "  %s: %d of %d results differ by one ulp (a double "
                                "result at a float midpoint; first: %a)\n", name[op], nd, N,
                                a[first]);
                else
                CHECK_MSG(nd == 0, "%s: %d of %d results differ from the CPU's (first: a %a b %a, "
                          "got %a, want %a)", name[op], nd, N, first >= 0 ? a[first] : 0,
                          first >= 0 ? b[first] : 0, first >= 0 ? y[first] : 0,
                          first >= 0 ? ref[first] : 0);
        }
        free(a);
        free(b);
        free(y);
        free(ref);
        vk_done(c);
}

/* ---- the other kernels ------------------------------------------------- */

TEST(vulkan_rmsnorm_add_softcap_glu)
{
        NEED_VK(c);
        enum { N = 200, R = 3 };
        float x[N * R], w[N], ref[N * R], got[N * R], u[N * R];
        struct vk_buf bx, bw, by, bu, bt;

        for (int i = 0; i < N * R; i++)
                x[i] = frand() * 3, u[i] = frand();
        for (int i = 0; i < N; i++)
                w[i] = frand();
        buf_with(c, &bx, x, sizeof(x));
        buf_with(c, &bw, w, sizeof(w));
        buf_with(c, &by, NULL, sizeof(x));
        buf_with(c, &bu, u, sizeof(u));
        /* rmsnorm with and without weight */
        for (int hw = 0; hw < 2; hw++) {
                struct { uint32_t n, xoff, xstride, yoff, ystride, woff, has_w; float eps; } pc =
                        {N, 0, N, 0, N, 0, (uint32_t)hw, 1e-5f};
                struct vk_buf *b[VK_NBIND] = {&bx, &by, &bw};
                run1(c, VKP_RMSNORM, b, &pc, sizeof(pc), R, 1);
                download(c, &by, got, N * R);
                for (int r = 0; r < R; r++)
                        op_rmsnorm(ref + r * N, x + r * N, hw ? w : NULL, N, 1e-5f);
                CHECK_MSG(!memcmp(got, ref, sizeof(got)), "rmsnorm (w %d): not the CPU's bits, "
                          "nmse %g", hw, nmse(got, ref, N * R));
        }
        /* add with broadcast (a bias) */
        {
                struct { uint32_t n, yoff, xoff, xlen; } pc = {N * R, 0, 0, N};
                struct vk_buf *b[VK_NBIND] = {&by, &bw};
                float base[N * R];
                download(c, &by, base, N * R);
                run1(c, VKP_ADD, b, &pc, sizeof(pc), (N * R + 63) / 64, 1);
                download(c, &by, got, N * R);
                for (int i = 0; i < N * R; i++)
                        ref[i] = base[i] + w[i % N];
                CHECK(nmse(got, ref, N * R) == 0);
        }
        /* softcap */
        {
                struct { uint32_t n, xoff; float cap; } pc = {N * R, 0, 2.5f};
                struct vk_buf bc;
                buf_with(c, &bc, x, sizeof(x));
                struct vk_buf *b[VK_NBIND] = {&bc};
                run1(c, VKP_SOFTCAP, b, &pc, sizeof(pc), (N * R + 63) / 64, 1);
                download(c, &bc, got, N * R);
                memcpy(ref, x, sizeof(x));
                op_softcap(ref, N * R, 2.5f);
                CHECK_MSG(nmse(got, ref, N * R) < 1e-12, "softcap nmse %g", nmse(got, ref, N * R));
                vk_buf_free(c, &bc);
        }
        /* SwiGLU and GeGLU (the CPU's fp16 GELU table, uploaded) */
        {
                float *tab = malloc(65536 * sizeof(float));
                for (int i = 0; i < 65536; i++)
                        tab[i] = mu_fp16_to_fp32(mu_fp32_to_fp16(op_gelu(mu_fp16_to_fp32((uint16_t)i))));
                buf_with(c, &bt, tab, 65536 * sizeof(float));
                free(tab);
                for (int gelu = 0; gelu < 2; gelu++) {
                        struct { uint32_t n, ntok, goff, gstride, uoff, ustride, yoff, ystride, gelu; }
                                pc = {N, R, 0, N, 0, N, 0, N, (uint32_t)gelu};
                        struct vk_buf *b[VK_NBIND] = {&bx, &bu, &by, &bt};
                        run1(c, VKP_GLU, b, &pc, sizeof(pc), (N * R + 63) / 64, 1);
                        download(c, &by, got, N * R);
                        for (int r = 0; r < R; r++)  /* per row, as forward.c */
                                if (gelu)
                                        op_gelu_mul(ref + r * N, x + r * N, u + r * N, N);
                                else
                                        op_silu_mul(ref + r * N, x + r * N, u + r * N, N);
                        CHECK_MSG(!memcmp(got, ref, sizeof(got)), "glu(%d): not the CPU's bits, "
                                  "nmse %g", gelu, nmse(got, ref, N * R));
                }
                vk_buf_free(c, &bt);
        }
        vk_buf_free(c, &bx);
        vk_buf_free(c, &bw);
        vk_buf_free(c, &by);
        vk_buf_free(c, &bu);
        vk_done(c);
}

TEST(vulkan_rope)
{
        NEED_VK(c);
        enum { T = 3, H = 4, HD = 16, NROT = 12, CTX = 40, P0 = 29 };
        float x[T * H * HD], ref[T * H * HD], got[T * H * HD], cs[CTX * NROT];
        struct vk_buf bx, bc, bp;
        struct mu_err err = {0};
        uint32_t p0 = P0;

        buf_with(c, &bp, NULL, 256);
        CHECK(vk_upload(c, &bp, 0, &p0, 4, &err) == 0);
        for (int neox = 0; neox < 2; neox++) {
                struct rope_params rp = {NROT, neox, 10000.0f, 0.5f, 1.0f, NULL};
                for (int p = 0; p < CTX; p++)
                        op_rope_cache(cs + p * NROT, (float)p, &rp);
                for (int i = 0; i < T * H * HD; i++)
                        x[i] = ref[i] = frand();
                for (int t = 0; t < T; t++)
                        for (int h = 0; h < H; h++)
                                op_rope_apply(ref + (t * H + h) * HD, cs + (P0 + t) * NROT, NROT, neox);
                buf_with(c, &bx, x, sizeof(x));
                buf_with(c, &bc, cs, sizeof(cs));
                struct { uint32_t ntok, nhead, hd, nrot, neox, xoff, csoff; } pc =
                        {T, H, HD, NROT, (uint32_t)neox, 0, 0};
                struct vk_buf *b[VK_NBIND] = {&bx, &bc, &bp};
                run1(c, VKP_ROPE, b, &pc, sizeof(pc), (T * H * NROT / 2 + 63) / 64, 1);
                download(c, &bx, got, T * H * HD);
                CHECK_MSG(!memcmp(got, ref, sizeof(got)), "rope neox=%d: not the CPU's bits, "
                          "nmse %g", neox, nmse(got, ref, T * H * HD));
                vk_buf_free(c, &bx);
                vk_buf_free(c, &bc);
        }
        vk_buf_free(c, &bp);
        vk_done(c);
}

/* kv_store + attention (GQA, soft-cap, sliding window).  The f16 mode (an
 * fp16 cache, head sizes of 64) against the CPU's attn_f16(), bit for bit
 * without a soft-cap (with one, tanh is the device's: nmse); q scaled first
 * (gemma's graph) or not.  The f32-sum mode (other head sizes) against a
 * double reference over the fp16-rounded K/V. */
TEST(vulkan_attention)
{
        NEED_VK(c);
        enum { T = 4, NH = 4, NKV = 2, HD = 64, CTX = 64, P0 = 37, SWA = 20 };
        const int kd = NKV * HD;
        float *k = malloc(sizeof(float) * CTX * kd), *v = malloc(sizeof(float) * CTX * kd);
        uint16_t *k16 = malloc(2 * CTX * kd), *v16 = malloc(2 * CTX * kd), q16[HD], acc16[HD];
        float q[T * NH * HD], ref[T * NH * HD], got[T * NH * HD], qf[HD];
        struct vk_buf bk, bv, kc, vc, bq, bp, bo, bs;
        struct mu_err err = {0};

        for (int i = 0; i < CTX * kd; i++) {
                k[i] = frand() * 2, v[i] = frand();
                k16[i] = mu_fp32_to_fp16(k[i]);
                v16[i] = mu_fp32_to_fp16(v[i]);
        }
        for (int i = 0; i < T * NH * HD; i++)
                q[i] = frand();
        buf_with(c, &bk, k, sizeof(float) * CTX * kd);
        buf_with(c, &bv, v, sizeof(float) * CTX * kd);
        buf_with(c, &kc, NULL, 2 * CTX * kd);
        buf_with(c, &vc, NULL, 2 * CTX * kd);
        buf_with(c, &bq, q, sizeof(q));
        buf_with(c, &bp, NULL, 256);
        buf_with(c, &bo, NULL, sizeof(q));
        buf_with(c, &bs, NULL, sizeof(float) * T * NH * CTX);
        /* store all CTX rows from position 0 */
        uint32_t p = 0;
        CHECK(vk_upload(c, &bp, 0, &p, 4, &err) == 0);
        struct { uint32_t ntok, dim, xoff, f16; } sk = {CTX, (uint32_t)kd, 0, 1};
        struct vk_buf *b1[VK_NBIND] = {&bk, &kc, &bp}, *b2[VK_NBIND] = {&bv, &vc, &bp};
        run1(c, VKP_KV_STORE, b1, &sk, sizeof(sk), (CTX * kd / 2 + 63) / 64, 1);
        run1(c, VKP_KV_STORE, b2, &sk, sizeof(sk), (CTX * kd / 2 + 63) / 64, 1);
        p = P0;
        CHECK(vk_upload(c, &bp, 0, &p, 4, &err) == 0);
        /* modes: 0 f16, 1 f16 with q scaled first + sliding window, 2 f16
         * soft-capped, 3 the f32-sum mode soft-capped + sliding window */
        for (int mode = 0; mode < 4; mode++) {
                const float scale = 1 / sqrtf(HD), cap = mode >= 2 ? 3.0f : 0;
                const int swa = mode == 1 || mode == 3 ? SWA : 0, f16m = mode < 3;
                const float qmul = mode == 1 ? scale : 1.0f, sc1 = mode == 1 ? 1.0f : scale;
                struct {
                        uint32_t nhead, group, hdk, hdv, kdim, vdim, f16, n_swa, sstride, mode;
                        float qmul, sscale, cap;
                } ap = {NH, NH / NKV, HD, HD, (uint32_t)kd, (uint32_t)kd, 1, (uint32_t)swa, CTX,
                        (uint32_t)f16m, qmul, f16m && cap > 0 ? sc1 / cap : sc1, cap};
                struct vk_buf *b[VK_NBIND] = {&bq, &kc, &vc, &bp, &bo, &bs};
                run1(c, VKP_ATTN, b, &ap, sizeof(ap), T * NH, 1);
                download(c, &bo, got, T * NH * HD);
                for (int t = 0; t < T; t++)
                        for (int h = 0; h < NH; h++) {
                                int pos = P0 + t, kvh = h / (NH / NKV);
                                int lo = swa && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
                                const float *qh = q + (t * NH + h) * HD;
                                if (f16m) {
                                        struct attn_f16_row r = {
                                                (const char *)(k16 + kvh * HD),
                                                (const char *)(v16 + kvh * HD), 2 * (size_t)kd,
                                                2 * (size_t)kd, HD, HD, sc1, cap};
                                        for (int i = 0; i < HD; i++)
                                                qf[i] = qh[i] * qmul;
                                        attn_f16(&r, qf, lo, pos, q16, acc16,
                                                 ref + (t * NH + h) * HD, 0);
                                        continue;
                                }
                                double sc[CTX], mx = -1e30, l = 0;
                                for (int j = lo; j <= pos; j++) {
                                        double s = 0;
                                        for (int i = 0; i < HD; i++)
                                                s += (double)mu_fp16_to_fp32(k16[j * kd + kvh * HD + i]) *
                                                     (qh[i] * scale);
                                        if (cap > 0)
                                                s = tanh(s / cap) * cap;
                                        sc[j] = s;
                                        mx = s > mx ? s : mx;
                                }
                                for (int j = lo; j <= pos; j++)
                                        l += (sc[j] = exp(sc[j] - mx));
                                for (int i = 0; i < HD; i++) {
                                        double a = 0;
                                        for (int j = lo; j <= pos; j++)
                                                a += sc[j] * mu_fp16_to_fp32(v16[j * kd + kvh * HD + i]);
                                        ref[(t * NH + h) * HD + i] = (float)(a / l);
                                }
                        }
                if (mode < 2)
                        CHECK_MSG(!memcmp(got, ref, sizeof(got)), "attention mode %d: not "
                                  "attn_f16's bits, nmse %g", mode, nmse(got, ref, T * NH * HD));
                else
                        CHECK_MSG(nmse(got, ref, T * NH * HD) < (mode == 2 ? 1e-5 : 1e-11),
                                  "attention mode %d nmse %g", mode, nmse(got, ref, T * NH * HD));
        }
        struct vk_buf *all[] = {&bk, &bv, &kc, &vc, &bq, &bp, &bo, &bs};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                vk_buf_free(c, all[i]);
        free(k);
        free(v);
        free(k16);
        free(v16);
        vk_done(c);
}

/* ---- whole models ----------------------------------------------------- */

static int argmax(const float *x, int n)
{
        int b = 0;
        for (int i = 1; i < n; i++)
                if (x[i] > x[b])
                        b = i;
        return b;
}

/* Greedy tokens on the CPU engine; then with n_gpu blocks offloaded, one
 * batch over the prompt and then one token at a time (as the CPU decoded)
 * gives the final hidden state at every position, and the argmax of the
 * output layer there must be the next CPU token: exactly the condition for
 * the offloaded model's greedy output to equal the CPU's, without the
 * device's output layer for every step (lavapipe is slow on big vocabs).
 *
 * exact: the CPU runs the scalar table (MULLAMA_CPU=scalar), whose roundings
 * the shaders reproduce: the hidden states of the same batches on a CPU-only
 * model must be equal bit for bit and every one of the n_gen steps must
 * agree.  Otherwise (the default SIMD table, whose sums round differently):
 * a step where the CPU's own top-2 logits are within 0.01 may differ and is
 * reported; so may up to `allowed` others (each printed).  Returns the
 * number of steps that differ.  n_gen (up to N_GEN) steps are generated. */
enum { N_GEN = 32 };

static int greedy_case(const char *path, const int32_t *prompt, int np, int n_gpu_req,
                       int exact, int allowed, int n_gen)
{
        struct mu_err err = {0};
        struct model_params mp = model_default_params();
        struct session_params sp = session_default_params();
        struct model *cm = NULL, *gm = NULL;
        struct session *cs = NULL, *gs = NULL;
        int32_t toks[256];
        float gap[N_GEN];  /* the CPU's top-1 minus top-2 logit at each step */
        char was[16] = "";
        int differ = 0;

        if (exact) {
                snprintf(was, sizeof(was), "%s", cpu_kernels_get()->name);
                CHECK_EQ_INT(cpu_kernels_force("scalar"), 0);
        }
        sp.n_ctx = 128;
        sp.n_batch = 64;
        sp.n_threads = 2;
        CHECK(model_load(&cm, path, &mp, &err) == 0);
        CHECK(session_create(&cs, cm, &sp, &err) == 0);
        if (!cs)
                goto out;
        memcpy(toks, prompt, sizeof(int32_t) * np);
        CHECK(session_eval(cs, toks, np, &err) == 0);
        for (int i = 0; i < n_gen; i++) {
                const float *lg = session_logits(cs);
                int V = model_n_vocab(cm), a = argmax(lg, V);
                float second = -INFINITY;
                for (int j = 0; j < V; j++)
                        if (j != a && lg[j] > second)
                                second = lg[j];
                gap[i] = lg[a] - second;
                toks[np + i] = a;
                if (i + 1 < n_gen)
                        CHECK(session_eval(cs, &toks[np + i], 1, &err) == 0);
        }
        const int L = model_n_layer(cm);
        int n_gpu = n_gpu_req == -2 ? L / 2 : n_gpu_req;
        mp.n_gpu_layers = n_gpu;
        CHECK(model_load(&gm, path, &mp, &err) == 0);
        if (!gm)
                goto out;
        CHECK_MSG(model_gpu_layers(gm) == (n_gpu < 0 || n_gpu > L ? L : n_gpu),
                  "%s: %d blocks offloaded, asked %d", path, model_gpu_layers(gm), n_gpu);
        CHECK(model_gpu_mem(gm) > 0);
        CHECK(session_create(&gs, gm, &sp, &err) == 0);
        if (!gs)
                goto out;
        /* final hidden states for every position, output layer on the CPU;
         * the same batches on the CPU-only model when exact */
        int n = np + n_gen - 1, E = model_n_embd(gm), V = model_n_vocab(gm);
        float *hid = malloc(sizeof(float) * (size_t)n * E);
        float *chid = exact ? malloc(sizeof(float) * (size_t)n * E) : NULL;
        if (exact)
                session_truncate(cs, 0);
        for (int i = 0; i < n;) {
                int nb = i == 0 ? np : 1;
                CHECK_MSG(forward_batch(gs, toks + i, nb, 0, &err) == 0, "%s", err.msg);
                memcpy(hid + (size_t)i * E, gs->x, sizeof(float) * (size_t)nb * E);
                gs->n_past += nb;
                if (exact) {
                        CHECK(forward_batch(cs, toks + i, nb, 0, &err) == 0);
                        memcpy(chid + (size_t)i * E, cs->x, sizeof(float) * (size_t)nb * E);
                        cs->n_past += nb;
                }
                i += nb;
        }
        if (exact) {
                int first = -1, nd = 0;
                float md = 0;
                for (size_t i = 0; i < (size_t)n * E; i++)
                        if (memcmp(&hid[i], &chid[i], sizeof(float))) {
                                if (first < 0)
                                        first = (int)(i / E);
                                nd++;
                                md = fmaxf(md, fabsf(hid[i] - chid[i]));
                        }
                CHECK_MSG(nd == 0, "%s, %d gpu blocks: %d hidden-state floats differ from the "
                          "scalar CPU's (first at position %d, max |diff| %g)", path,
                          model_gpu_layers(gm), nd, first, md);
        }
        float *xn = malloc(sizeof(float) * E), *lg = malloc(sizeof(float) * V);
        int agree = 0, ties = 0, other = 0;
        for (int i = np - 1; i < n; i++) {
                int step = i - (np - 1);
                op_rmsnorm(xn, hid + (size_t)i * E, gm->output_norm.data, E, gm->hp.norm_eps);
                matmul(NULL, gs->ws, &gm->output, xn, 1, lg);
                if (gm->hp.final_softcap > 0)
                        op_softcap(lg, V, gm->hp.final_softcap);
                if (argmax(lg, V) == toks[i + 1]) {
                        agree++;
                        continue;
                }
                differ++;
                if (exact)
                        CHECK_MSG(0, "%s with %d gpu blocks (scalar CPU): step %d chose %d, the "
                                  "CPU %d", path, model_gpu_layers(gm), step, argmax(lg, V),
                                  toks[i + 1]);
                else if (gap[step] < 1e-2f)
                        ties++;  /* a near tie: float summation order decides it */
                else if (++other > allowed)
                        CHECK_MSG(0, "%s with %d gpu blocks: step %d chose %d, the CPU %d "
                                  "(CPU top-2 gap %.4f)", path, model_gpu_layers(gm), step,
                                  argmax(lg, V), toks[i + 1], gap[step]);
                else
                        fprintf(stderr, "  %s, %d gpu blocks: step %d differs (CPU top-2 gap "
                                "%.4f; allowed)\n", path, model_gpu_layers(gm), step, gap[step]);
        }
        fprintf(stderr, "  %s, %d gpu blocks, %s CPU table: %d of %d steps agree%s\n", path,
                model_gpu_layers(gm), cpu_kernels_get()->name, agree, n_gen,
                exact ? ", hidden states bit-identical" : "");
        if (ties)
                fprintf(stderr, "  %s, %d gpu blocks: %d differ at a near tie (CPU top-2 gap "
                        "< 0.01)\n", path, model_gpu_layers(gm), ties);
        /* the device's own output layer: logits of the last position */
        if (model_gpu_output(gm)) {
                session_truncate(gs, 0);
                CHECK(session_eval(gs, toks, np, &err) == 0);
                CHECK_EQ_INT(argmax(session_logits(gs), V), toks[np]);
                if (exact) {
                        session_truncate(cs, 0);
                        CHECK(session_eval(cs, toks, np, &err) == 0);
                        CHECK_MSG(!memcmp(session_logits(gs), session_logits(cs),
                                          sizeof(float) * (size_t)V),
                                  "%s: the device's logits differ from the scalar CPU's", path);
                }
        }
        free(xn);
        free(lg);
        free(hid);
        free(chid);
out:
        session_free(cs);
        session_free(gs);
        model_free(cm);
        model_free(gm);
        if (exact)
                cpu_kernels_force(was);
        return differ;
}

/* The models at 1, half and all blocks: bit-identical to the scalar CPU
 * (every step; MULLAMA_VK_GREEDY=exact runs only these, =simd only the
 * others, for measuring). */
static int want(const char *which)
{
        const char *e = getenv("MULLAMA_VK_GREEDY");
        return !e || !*e || !strcmp(e, which);
}

/* Under ASan (minutes a token on lavapipe) the real models run the exact
 * all-blocks case only: every shader still runs; the other cases' numbers
 * are the plain build's to check. */
static int first_case(void)
{
        return getenv("MULLAMA_ASAN") ? 2 : 0;
}

/* ...and generate 6 steps there, not N_GEN (the scalar CPU under ASan runs
 * some seconds a token): every shader and host path still runs; all N_GEN
 * steps are the plain build's to check. */
static int real_model_steps(void)
{
        return getenv("MULLAMA_ASAN") ? 6 : N_GEN;
}

TEST(vulkan_greedy_stories260K)
{
        NEED_MODEL(path, "stories260K.gguf");
        NEED_VK(c);
        mu_vk_free(c);
        static const int32_t prompt[] = {1, 403, 407, 261, 378};  /* arbitrary ids */
        for (int k = 0; k < 3; k++) {
                if (want("exact"))
                        greedy_case(path, prompt, 5, (int[]){1, -2, -1}[k], 1, 0, N_GEN);
                /* the default table: f32 weights, sums in double, so equal too */
                if (want("simd"))
                        greedy_case(path, prompt, 5, (int[]){1, -2, -1}[k], 0, 0, N_GEN);
        }
        vk_done(NULL);
}

TEST(vulkan_greedy_smollm2)
{
        NEED_MODEL(path, "SmolLM2-135M-Instruct.Q4_1.gguf");
        NEED_VK(c);
        mu_vk_free(c);
        static const int32_t prompt[] = {504, 3575, 282, 4649, 314};  /* arbitrary ids */
        if (want("exact"))
                for (int k = first_case(); k < 3; k++)
                        greedy_case(path, prompt, 5, (int[]){1, -2, -1}[k], 1, 0, real_model_steps());
        /* the default (SIMD) table: its kernels give the scalar ones' bits
         * (test_quant.c) and a 5-token prompt takes them, not the int8 gemm
         * (gemm.h GEMM_MIN_TOK), so no step may differ */
        if (want("simd") && !getenv("MULLAMA_ASAN"))
                greedy_case(path, prompt, 5, -1, 0, 0, N_GEN);
        vk_done(NULL);
}

TEST(vulkan_greedy_gemma3)
{
        NEED_MODEL(path, "gemma-3-270m-q4_k_m.gguf");
        NEED_VK(c);
        mu_vk_free(c);
        static const int32_t prompt[] = {2, 818, 5279, 529, 7001, 563};  /* arbitrary ids */
        if (want("exact"))
                for (int k = first_case(); k < 3; k++)
                        greedy_case(path, prompt, 6, (int[]){1, -2, -1}[k], 1, 0, real_model_steps());
        /* the default (SIMD) table: the scalar kernels' bits, as above (1
         * step of 32 differed at all blocks before the SIMD kernels
         * followed the scalar order), so no step may differ */
        if (want("simd") && !getenv("MULLAMA_ASAN"))
                greedy_case(path, prompt, 6, -1, 0, 0, N_GEN);
        vk_done(NULL);
}

/* Context shift with the K/V on the device matches the CPU's. */
TEST(vulkan_context_shift)
{
        NEED_MODEL(path, "stories260K.gguf");
        NEED_VK(c);
        mu_vk_free(c);
        struct mu_err err = {0};
        struct model_params mp = model_default_params();
        struct session_params sp = session_default_params();
        struct model *m[2] = {0};
        struct session *s[2] = {0};
        int32_t t[24];
        int got[2][8] = {{0}};

        sp.n_ctx = 32;
        for (int i = 0; i < 24; i++)
                t[i] = 300 + i * 7;
        for (int k = 0; k < 2; k++) {
                mp.n_gpu_layers = k ? -1 : 0;
                CHECK(model_load(&m[k], path, &mp, &err) == 0);
                CHECK(session_create(&s[k], m[k], &sp, &err) == 0);
                if (!s[k])
                        break;
                CHECK(session_eval(s[k], t, 24, &err) == 0);
                CHECK(session_shift(s[k], 4, 10) == 0);
                int32_t nx = argmax(session_logits(s[k]), model_n_vocab(m[k]));
                for (int i = 0; i < 8; i++) {
                        CHECK(session_eval(s[k], &nx, 1, &err) == 0);
                        got[k][i] = nx = argmax(session_logits(s[k]), model_n_vocab(m[k]));
                }
        }
        CHECK(m[1] && model_gpu_layers(m[1]) == 5);
        for (int i = 0; i < 8; i++)
                CHECK_EQ_INT(got[1][i], got[0][i]);
        for (int k = 0; k < 2; k++) {
                session_free(s[k]);
                model_free(m[k]);
        }
        vk_done(NULL);
}

#endif

/* gpu layers 0: nothing offloaded, no device touched, the CPU path runs. */
TEST(vulkan_zero_layers_cpu_only)
{
        NEED_MODEL(path, "stories260K.gguf");
        struct mu_err err = {0};
        struct model_params mp = model_default_params();
        struct model *m = NULL;

        mp.n_gpu_layers = 0;
        CHECK(model_load(&m, path, &mp, &err) == 0);
        CHECK_EQ_INT(model_gpu_layers(m), 0);
        CHECK(model_gpu_name(m) == NULL);
        model_free(m);
}
