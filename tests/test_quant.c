/* test_quant.c -- the CPU quantization kernels and matmul.
 *
 * Anchors: llama.cpp's own quantizer bytes and dequantized floats for a
 * fixed input (tests/data/quant, see its README), float64 dot products of
 * dequantized values, and the scalar table (every SIMD table is compared
 * with it on the same blocks). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mullama/kernels.h"
#include "mullama/pool.h"
#include "mullama/types.h"
#include "test.h"

/* Types with all three functions, and their round-trip NMSE ceilings on
 * Gaussian data (measured values are about 2-3x lower). */
static const struct {
        int type;
        double nmse;
} types[] = {
        {MU_TYPE_F32, 0},        {MU_TYPE_F16, 1e-6},     {MU_TYPE_BF16, 3e-5},
        {MU_TYPE_Q4_0, 1.2e-2},  {MU_TYPE_Q4_1, 8e-3},    {MU_TYPE_Q5_0, 3e-3},
        {MU_TYPE_Q5_1, 2.5e-3},  {MU_TYPE_Q8_0, 6e-5},    {MU_TYPE_Q8_K, 8e-5},
        {MU_TYPE_Q2_K, 1.2e-1},  {MU_TYPE_Q3_K, 4e-2},    {MU_TYPE_Q4_K, 8e-3},
        {MU_TYPE_Q5_K, 2.5e-3},  {MU_TYPE_Q6_K, 6e-4},
};
#define N_TYPES (int)(sizeof(types) / sizeof(types[0]))

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
        rng_state = s * 0x9e3779b97f4a7c15ull + 1;
}

static double rng_u(void) /* [0, 1) */
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (double)(rng_state >> 11) / 9007199254740992.0;
}

static float rng_normal(void)
{
        double u = rng_u() + 1e-12, v = rng_u();
        return (float)(sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
}

static void fill_normal(float *x, int64_t n, float scale)
{
        for (int64_t i = 0; i < n; i++)
                x[i] = scale * rng_normal();
}

static void *read_file(const char *name, size_t *size)
{
        const char *p = test_data(name);
        FILE *f;
        void *buf;
        long n;

        if (!p || !(f = fopen(p, "rb")))
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
        }
        fclose(f);
        *size = (size_t)n;
        return buf;
}

static double nmse(const float *a, const float *b, int64_t n)
{
        double e = 0, s = 0;

        for (int64_t i = 0; i < n; i++) {
                e += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
                s += (double)b[i] * b[i];
        }
        return s > 0 ? e / s : e;
}

/* ---- against llama.cpp ---------------------------------------------------- */

static const struct {
        const char *name;
        int type;
        int exact; /* our quantizer must give the same bytes (all do today) */
} ref_types[] = {
        {"q8_0", MU_TYPE_Q8_0, 1}, {"q4_0", MU_TYPE_Q4_0, 1}, {"q4_1", MU_TYPE_Q4_1, 1},
        {"q5_0", MU_TYPE_Q5_0, 1}, {"q5_1", MU_TYPE_Q5_1, 1}, {"q2_k", MU_TYPE_Q2_K, 1},
        {"q3_k", MU_TYPE_Q3_K, 1}, {"q4_k", MU_TYPE_Q4_K, 1}, {"q5_k", MU_TYPE_Q5_K, 1},
        {"q6_k", MU_TYPE_Q6_K, 1},
};

TEST(quant_matches_llamacpp_bytes)
{
        size_t nin, nref;
        float *x = read_file("quant/input_f32.bin", &nin);

        CHECK(x && nin == 1024 * sizeof(float));
        if (!x)
                return;
        for (size_t i = 0; i < sizeof(ref_types) / sizeof(ref_types[0]); i++) {
                char path[64];
                int t = ref_types[i].type;
                snprintf(path, sizeof(path), "quant/%s.bin", ref_types[i].name);
                unsigned char *ref = read_file(path, &nref);
                size_t rs = mu_row_size(t, 1024);
                CHECK_MSG(ref && nref == rs, "%s: reference missing or wrong size", path);
                if (!ref || nref != rs) {
                        free(ref);
                        continue;
                }
                unsigned char *q = calloc(1, rs);
                quant_quantize_row(t, x, q, 1024);
                size_t diff = 0;
                for (size_t b = 0; b < rs; b++)
                        diff += q[b] != ref[b];
                if (ref_types[i].exact) {
                        CHECK_MSG(diff == 0, "%s: %zu of %zu bytes differ from llama.cpp",
                                  ref_types[i].name, diff, rs);
                } else {
                        /* Same algorithm class: our error within 10% of theirs. */
                        float *ya = malloc(1024 * sizeof(float)), *yb = malloc(1024 * sizeof(float));
                        cpu_kernels_scalar.q[t].to_float(q, ya, 1024);
                        cpu_kernels_scalar.q[t].to_float(ref, yb, 1024);
                        double ea = nmse(ya, x, 1024), eb = nmse(yb, x, 1024);
                        CHECK_MSG(ea <= 1.10 * eb, "%s: nmse %g vs llama.cpp %g (%zu bytes differ)",
                                  ref_types[i].name, ea, eb, diff);
                        if (getenv("MULLAMA_TEST_VERBOSE"))
                                fprintf(stderr, "  %s: nmse %g vs llama.cpp %g, %zu/%zu bytes differ\n",
                                        ref_types[i].name, ea, eb, diff, rs);
                        free(ya);
                        free(yb);
                }
                free(q);
                free(ref);
        }
        free(x);
}

/* Our dequantizer (every table) on llama.cpp's bytes = llama.cpp's floats:
 * this pins the bit layout of every block type. */
TEST(quant_dequant_matches_llamacpp)
{
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;

        for (size_t i = 0; i < sizeof(ref_types) / sizeof(ref_types[0]); i++) {
                char path[64];
                size_t nq, nf;
                snprintf(path, sizeof(path), "quant/%s.bin", ref_types[i].name);
                void *q = read_file(path, &nq);
                snprintf(path, sizeof(path), "quant/%s_dequant_f32.bin", ref_types[i].name);
                float *ref = read_file(path, &nf);
                CHECK_MSG(q && ref && nf == 1024 * sizeof(float), "%s: reference missing", path);
                if (q && ref && nf == 1024 * sizeof(float)) {
                        for (int a = 0; avail[a]; a++) {
                                float y[1024];
                                cpu_kernels_force(avail[a]);
                                cpu_kernels_get()->q[ref_types[i].type].to_float(q, y, 1024);
                                int bad = 0;
                                for (int j = 0; j < 1024; j++)
                                        bad += fabsf(y[j] - ref[j]) > 1e-6f * (fabsf(ref[j]) + 1e-3f);
                                CHECK_MSG(!bad, "%s (%s): %d of 1024 values differ from llama.cpp",
                                          ref_types[i].name, avail[a], bad);
                        }
                }
                free(q);
                free(ref);
        }
        cpu_kernels_force(orig);
}

/* ---- round trip and dot products --------------------------------------- */

#define RT_N 4096

TEST(quant_roundtrip_nmse)
{
        float *x = malloc(RT_N * sizeof(float)), *y = malloc(RT_N * sizeof(float));

        rng_seed(1);
        fill_normal(x, RT_N, 0.1f);
        for (int i = 0; i < N_TYPES; i++) {
                int t = types[i].type;
                void *q = calloc(1, mu_row_size(t, RT_N));
                CHECK(quant_supported(t));
                quant_quantize_row(t, x, q, RT_N);
                quant_dequantize_row(t, q, y, RT_N);
                double e = nmse(y, x, RT_N);
                CHECK_MSG(e <= types[i].nmse, "%s: round-trip nmse %g > %g", mu_type_name(t), e,
                          types[i].nmse);
                if (getenv("MULLAMA_TEST_VERBOSE"))
                        fprintf(stderr, "  %s nmse %g\n", mu_type_name(t), e);
                free(q);
        }
        /* All-zero input must give all-zero output (no NaN from 0/0). */
        memset(x, 0, RT_N * sizeof(float));
        for (int i = 0; i < N_TYPES; i++) {
                int t = types[i].type;
                void *q = calloc(1, mu_row_size(t, RT_N));
                quant_quantize_row(t, x, q, RT_N);
                quant_dequantize_row(t, q, y, RT_N);
                int bad = 0;
                for (int j = 0; j < RT_N; j++)
                        bad += y[j] != 0;
                CHECK_MSG(!bad, "%s: zero input gives %d non-zero values", mu_type_name(t), bad);
                free(q);
        }
        CHECK(!quant_supported(MU_TYPE_IQ2_XXS));
        CHECK(!quant_supported(-1));
        CHECK(!quant_supported(MU_TYPE_COUNT));
        free(x);
        free(y);
}

/* A weight row quantized to t and activations quantized to t's vec_dot_type,
 * both random; also their dequantized values. */
struct dot_case {
        int n;
        void *wq, *xq;
        float *w, *x;
};

static void dot_case_make(struct dot_case *c, int t, int n, uint64_t seed)
{
        int vt = cpu_kernels_scalar.q[t].vec_dot_type;
        float *src = malloc((size_t)n * sizeof(float));

        rng_seed(seed);
        c->n = n;
        c->wq = calloc(1, mu_row_size(t, n));
        c->xq = calloc(1, mu_row_size(vt, n));
        c->w = malloc((size_t)n * sizeof(float));
        c->x = malloc((size_t)n * sizeof(float));
        fill_normal(src, n, 0.05f);
        cpu_kernels_scalar.q[t].from_float(src, c->wq, n);
        cpu_kernels_scalar.q[t].to_float(c->wq, c->w, n);
        fill_normal(src, n, 1.0f);
        for (int i = 0; i < n; i += 61)
                src[i] *= 8; /* a few outliers, like real activations */
        cpu_kernels_scalar.q[vt].from_float(src, c->xq, n);
        cpu_kernels_scalar.q[vt].to_float(c->xq, c->x, n);
        free(src);
}

static void dot_case_free(struct dot_case *c)
{
        free(c->wq);
        free(c->xq);
        free(c->w);
        free(c->x);
}

TEST(quant_vec_dot_scalar_vs_f64)
{
        for (int i = 0; i < N_TYPES; i++) {
                int t = types[i].type, vt = cpu_kernels_scalar.q[t].vec_dot_type;
                struct dot_case c;
                double ref = 0, mag = 0;
                float got;
                dot_case_make(&c, t, 2048, 100 + (uint64_t)t);
                for (int j = 0; j < c.n; j++) {
                        ref += (double)c.w[j] * c.x[j];
                        mag += fabs((double)c.w[j] * c.x[j]);
                }
                cpu_kernels_scalar.q[t].vec_dot(c.n, &got, c.wq, c.xq);
                /* Q8_1 stores d*sum(q) as a half: the min term is off by up
                 * to 2^-11 of itself. */
                double tol = (vt == MU_TYPE_Q8_1 ? 2e-3 : 2e-6) * mag;
                CHECK_MSG(fabs(got - ref) <= tol, "%s: vec_dot %g vs f64 %g (tol %g)",
                          mu_type_name(t), got, ref, tol);
                dot_case_free(&c);
        }
}

/* The 32-element block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1): every SIMD
 * table's vec_dot, vec_dot4 and gemv give the bits of the scalar vec_dot
 * (quant.c: 8 lanes of 4 products, an FMA per block and lane, the lanes
 * summed (l + 4), (l + 2), (l + 1), the min terms of Q4_1 / Q5_1 summed
 * apart and added last), which is llama.cpp's x86 order: with it decode
 * gives llama.cpp's logits bit for bit (tests/data/engine/README.md).  13
 * weight rows against 4 activation rows, gemv on nr rows from the first
 * and from the last rows of the matrix. */
TEST(quant_q32_simd_bitexact)
{
        static const int qtypes[] = {MU_TYPE_Q8_0, MU_TYPE_Q4_0, MU_TYPE_Q4_1, MU_TYPE_Q5_0, MU_TYPE_Q5_1};
        static const int nrs[] = {1, 2, 3, 4, 5, 7, 9, 13};
        static const int lens[] = {32, 96, 576, 2080, 4096, 16416}; /* 576: a last step of 2 blocks; 16416: past Q32_NC_MAX */
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        enum { NR = 13, NT = 4 };
        int ran = 0;

        for (int a = 1; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                const struct cpu_kernels *k = cpu_kernels_get();
                for (int i = 0; i < (int)(sizeof(qtypes) / sizeof(qtypes[0])); i++) {
                        int t = qtypes[i], vt = cpu_kernels_scalar.q[t].vec_dot_type;
                        for (int li = 0; li < (int)(sizeof(lens) / sizeof(lens[0])); li++) {
                                int n = lens[li], bad_dot = 0, bad_dot4 = 0, bad_gemv = 0;
                                size_t rs = mu_row_size(t, n), xs = mu_row_size(vt, n);
                                char *wq = calloc(NR, rs), *xq = calloc(NT, xs);
                                float *src = malloc((size_t)n * sizeof(float));
                                float want[NR][NT], got[NR], s4[2 * NT];
                                rng_seed(3100 + (uint64_t)(t * 11 + li));
                                for (int r = 0; r < NR; r++) {
                                        fill_normal(src, n, 0.01f * (float)(1 + r % 5));
                                        cpu_kernels_scalar.q[t].from_float(src, wq + r * rs, n);
                                }
                                for (int j = 0; j < NT; j++) {
                                        fill_normal(src, n, 1.0f + j);
                                        for (int e = j; e < n; e += 37)
                                                src[e] *= 10; /* outliers, like real activations */
                                        cpu_kernels_scalar.q[vt].from_float(src, xq + j * xs, n);
                                }
                                for (int r = 0; r < NR; r++)
                                        for (int j = 0; j < NT; j++)
                                                cpu_kernels_scalar.q[t].vec_dot(n, &want[r][j], wq + r * rs, xq + j * xs);
                                for (int r = 0; r < NR; r++) {
                                        for (int j = 0; j < NT; j++) {
                                                k->q[t].vec_dot(n, &got[0], wq + r * rs, xq + j * xs);
                                                bad_dot += !!memcmp(&got[0], &want[r][j], sizeof(float));
                                        }
                                        if (k->q[t].vec_dot4) {
                                                k->q[t].vec_dot4(n, s4, 2, wq + r * rs, xq, xs);
                                                for (int j = 0; j < NT; j++)
                                                        bad_dot4 += !!memcmp(&s4[2 * j], &want[r][j], sizeof(float));
                                        }
                                }
                                for (int ni = 0; ni < (int)(sizeof(nrs) / sizeof(nrs[0])); ni++) {
                                        for (int first = 0; first <= NR - nrs[ni]; first += NR - nrs[ni]) {
                                                for (int j = 0; j < NT; j++) {
                                                        k->q[t].gemv(n, nrs[ni], got, wq + first * rs, rs, xq + j * xs);
                                                        for (int r = 0; r < nrs[ni]; r++)
                                                                bad_gemv += !!memcmp(&got[r], &want[first + r][j], sizeof(float));
                                                }
                                                if (first == NR - nrs[ni])
                                                        break;
                                        }
                                }
                                CHECK_MSG(!bad_dot, "%s %s n=%d: vec_dot differs from scalar in %d of %d", avail[a],
                                          mu_type_name(t), n, bad_dot, NR * NT);
                                CHECK_MSG(!bad_dot4, "%s %s n=%d: vec_dot4 differs from scalar vec_dot in %d of %d",
                                          avail[a], mu_type_name(t), n, bad_dot4, NR * NT);
                                CHECK_MSG(!bad_gemv, "%s %s n=%d: gemv differs from scalar vec_dot in %d results",
                                          avail[a], mu_type_name(t), n, bad_gemv);
                                ran++;
                                free(wq);
                                free(xq);
                                free(src);
                        }
                }
        }
        cpu_kernels_force(orig);
        if (!avail[1])
                TEST_SKIP("no SIMD table runs on this CPU");
        CHECK(ran > 0);
}

TEST(quant_simd_tables_match_scalar)
{
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        int ran = 0;

        for (int a = 1; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                const struct cpu_kernels *k = cpu_kernels_get();
                CHECK_STR(k->name, avail[a]);
                for (int i = 0; i < N_TYPES; i++) {
                        int t = types[i].type, vt = cpu_kernels_scalar.q[t].vec_dot_type;
                        /* several lengths: tails of unrolled loops */
                        int bs = mu_type_info(t)->blck_size < 32 ? 32 : mu_type_info(t)->blck_size;
                        int lens[] = {bs, 3 * bs, 2048 + bs, 4096};
                        for (int li = 0; li < 4; li++) {
                                struct dot_case c;
                                float s_ref, s_got, y_ref[4096 + 256], y_got[4096 + 256];
                                int n = lens[li];
                                if (n > 4096 || n % bs)
                                        continue;
                                dot_case_make(&c, t, n, 500 + (uint64_t)(t * 7 + li));
                                cpu_kernels_scalar.q[t].vec_dot(n, &s_ref, c.wq, c.xq);
                                k->q[t].vec_dot(n, &s_got, c.wq, c.xq);
                                double mag = 0;
                                for (int j = 0; j < n; j++)
                                        mag += fabs((double)c.w[j] * c.x[j]);
                                double tol = (vt == MU_TYPE_Q8_1 ? 2e-3 : 1e-5) * mag + 1e-30;
                                CHECK_MSG(fabs(s_got - s_ref) <= tol,
                                          "%s %s n=%d: vec_dot %.9g vs scalar %.9g", avail[a],
                                          mu_type_name(t), n, s_got, s_ref);
                                cpu_kernels_scalar.q[t].to_float(c.wq, y_ref, n);
                                k->q[t].to_float(c.wq, y_got, n);
                                CHECK_MSG(!memcmp(y_ref, y_got, (size_t)n * sizeof(float)),
                                          "%s %s n=%d: to_float differs from scalar", avail[a],
                                          mu_type_name(t), n);
                                /* the 4-token kernel against 4 scalar dots */
                                if (k->q[t].vec_dot4) {
                                        size_t xs = mu_row_size(vt, n);
                                        char *x4 = calloc(4, xs);
                                        float *src = malloc((size_t)n * sizeof(float)), s4[8];
                                        for (int r = 0; r < 4; r++) {
                                                fill_normal(src, n, 1.0f + r);
                                                cpu_kernels_scalar.q[vt].from_float(src, x4 + r * xs, n);
                                        }
                                        k->q[t].vec_dot4(n, s4, 2, c.wq, x4, xs);
                                        for (int r = 0; r < 4; r++) {
                                                float want;
                                                cpu_kernels_scalar.q[t].vec_dot(n, &want, c.wq, x4 + r * xs);
                                                double tol4 = (vt == MU_TYPE_Q8_1 ? 2e-3 : 1e-5) * (1 + r) * mag + 1e-30;
                                                CHECK_MSG(fabs(s4[2 * r] - want) <= tol4,
                                                          "%s %s n=%d: vec_dot4[%d] %.9g vs scalar %.9g", avail[a],
                                                          mu_type_name(t), n, r, s4[2 * r], want);
                                        }
                                        free(x4);
                                        free(src);
                                }
                                /* the activation quantizer: the scalar
                                 * reference's bytes exactly */
                                if (vt != MU_TYPE_F32) {
                                        size_t qs = mu_row_size(vt, n);
                                        unsigned char *qa = calloc(1, qs), *qb = calloc(1, qs);
                                        k->q[vt].from_float(c.x, qb, n);
                                        cpu_kernels_scalar.q[vt].from_float(c.x, qa, n);
                                        CHECK_MSG(!memcmp(qa, qb, qs), "%s: %s activation quantizer differs from scalar",
                                                  avail[a], mu_type_name(vt));
                                        free(qa);
                                        free(qb);
                                }
                                dot_case_free(&c);
                                ran++;
                        }
                }
        }
        cpu_kernels_force(orig);
        if (!avail[1])
                TEST_SKIP("no SIMD table runs on this CPU");
        CHECK(ran > 0);
}

/* Every table's gemv (several rows against one activation row) against the
 * scalar vec_dot of each row; a row's bits must not depend on how many rows
 * the call had or where the row sat in it (thread splits rely on that). */
TEST(quant_gemv_matches_scalar)
{
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        static const int nrs[] = {1, 2, 3, 4, 5, 7, 9, 13};
        int ran = 0;

        for (int a = 0; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                const struct cpu_kernels *k = cpu_kernels_get();
                for (int i = 0; i < N_TYPES; i++) {
                        int t = types[i].type, vt = cpu_kernels_scalar.q[t].vec_dot_type;
                        if (!k->q[t].gemv)
                                continue;
                        int bs = mu_type_info(t)->blck_size < 32 ? 32 : mu_type_info(t)->blck_size;
                        int lens[] = {bs, 3 * bs, 2048 + bs};
                        for (int li = 0; li < 3; li++) {
                                int n = lens[li], nrmax = 13;
                                size_t rs = mu_row_size(t, n);
                                char *wq = calloc((size_t)nrmax, rs);
                                float *w = malloc((size_t)n * nrmax * sizeof(float));
                                float *src = malloc((size_t)n * sizeof(float));
                                void *xq = calloc(1, mu_row_size(vt, n));
                                float want[13], mag[13], got[13], one;
                                rng_seed(900 + (uint64_t)(t * 5 + li));
                                fill_normal(w, (int64_t)n * nrmax, 0.05f);
                                for (int r = 0; r < nrmax; r++)
                                        cpu_kernels_scalar.q[t].from_float(w + (size_t)r * n, wq + r * rs, n);
                                fill_normal(src, n, 1.0f);
                                cpu_kernels_scalar.q[vt].from_float(src, xq, n);
                                for (int r = 0; r < nrmax; r++) {
                                        cpu_kernels_scalar.q[t].vec_dot(n, &want[r], wq + r * rs, xq);
                                        cpu_kernels_scalar.q[t].to_float(wq + r * rs, w, n);
                                        if (vt != MU_TYPE_F32)
                                                cpu_kernels_scalar.q[vt].to_float(xq, src, n);
                                        mag[r] = 0;
                                        for (int j = 0; j < n; j++)
                                                mag[r] += fabsf(w[j] * src[j]);
                                }
                                for (int ni = 0; ni < 8; ni++) {
                                        int nr = nrs[ni];
                                        k->q[t].gemv(n, nr, got, wq, rs, xq);
                                        for (int r = 0; r < nr; r++) {
                                                double tol = (vt == MU_TYPE_Q8_1 ? 2e-3 : 1e-5) * mag[r] + 1e-30;
                                                CHECK_MSG(fabs(got[r] - want[r]) <= tol,
                                                          "%s %s n=%d nr=%d row %d: gemv %.9g vs scalar %.9g",
                                                          avail[a], mu_type_name(t), n, nr, r, got[r], want[r]);
                                                k->q[t].gemv(n, 1, &one, wq + r * rs, rs, xq);
                                                CHECK_MSG(!memcmp(&one, &got[r], sizeof(float)),
                                                          "%s %s n=%d nr=%d row %d: depends on nr", avail[a],
                                                          mu_type_name(t), n, nr, r);
                                        }
                                }
                                ran++;
                                free(wq);
                                free(w);
                                free(src);
                                free(xq);
                        }
                }
        }
        cpu_kernels_force(orig);
        if (!avail[1])
                TEST_SKIP("no SIMD table runs on this CPU");
        CHECK(ran > 0);
}

/* The K-quant SIMD kernels give the scalar kernels' bits (the scalar ones
 * sum in llama.cpp's x86 order, so the default tables then give llama.cpp's
 * logits): vec_dot equals scalar vec_dot, vec_dot4 equals the scalar
 * vec_dot4 (Q4_K: its own order, per pair of sub-blocks) or, where the
 * scalar table has none, 4 scalar vec_dots; each gemv row equals the scalar
 * vec_dot of that row, whatever nr. */
static void kq_exact_check(const char *isa, const struct cpu_kernels *k, int t, int n, uint64_t seed)
{
        const struct quant_fns *sf = &cpu_kernels_scalar.q[t], *kf = &k->q[t];
        int vt = sf->vec_dot_type, nrmax = 13, bad;
        size_t rs = mu_row_size(t, n), xs = mu_row_size(vt, n);
        char *wq = calloc((size_t)nrmax, rs), *x4 = calloc(4, xs);
        float *src = malloc((size_t)n * nrmax * sizeof(float));
        float want[13], got[13], w4[8], g4[8];
        static const int nrs[] = {1, 2, 3, 4, 5, 7, 9, 13};

        rng_seed(seed);
        fill_normal(src, (int64_t)n * nrmax, 0.05f);
        for (int r = 0; r < nrmax; r++)
                sf->from_float(src + (size_t)r * n, wq + r * rs, n);
        for (int r = 0; r < 4; r++) {
                fill_normal(src, n, 1.0f + r);
                for (int i = r; i < n; i += 61)
                        src[i] *= 8; /* outliers, like real activations */
                cpu_kernels_scalar.q[vt].from_float(src, x4 + r * xs, n);
        }
        for (int r = 0; r < nrmax; r++)
                sf->vec_dot(n, &want[r], wq + r * rs, x4);
        bad = 0;
        for (int r = 0; r < nrmax; r++) {
                kf->vec_dot(n, &got[r], wq + r * rs, x4);
                bad += memcmp(&got[r], &want[r], sizeof(float)) != 0;
        }
        CHECK_MSG(!bad, "%s %s n=%d: vec_dot differs from scalar in %d of %d rows", isa, mu_type_name(t), n,
                  bad, nrmax);
        if (kf->vec_dot4) {
                bad = 0;
                for (int r = 0; r < nrmax; r++) {
                        memset(w4, 0, sizeof(w4));
                        memset(g4, 0, sizeof(g4));
                        if (sf->vec_dot4)
                                sf->vec_dot4(n, w4, 2, wq + r * rs, x4, xs);
                        else
                                for (int j = 0; j < 4; j++)
                                        sf->vec_dot(n, &w4[2 * j], wq + r * rs, x4 + j * xs);
                        kf->vec_dot4(n, g4, 2, wq + r * rs, x4, xs);
                        for (int j = 0; j < 4; j++)
                                bad += memcmp(&g4[2 * j], &w4[2 * j], sizeof(float)) != 0;
                }
                CHECK_MSG(!bad, "%s %s n=%d: vec_dot4 differs from scalar in %d of %d results", isa,
                          mu_type_name(t), n, bad, 4 * nrmax);
        }
        if (kf->gemv) {
                for (int ni = 0; ni < 8; ni++) {
                        int nr = nrs[ni];
                        bad = 0;
                        kf->gemv(n, nr, got, wq, rs, x4);
                        for (int r = 0; r < nr; r++)
                                bad += memcmp(&got[r], &want[r], sizeof(float)) != 0;
                        CHECK_MSG(!bad, "%s %s n=%d nr=%d: gemv differs from scalar vec_dot in %d rows", isa,
                                  mu_type_name(t), n, nr, bad);
                }
        }
        free(wq);
        free(x4);
        free(src);
}

TEST(quant_kquant_simd_bitwise)
{
        static const int kts[] = {MU_TYPE_Q2_K, MU_TYPE_Q3_K, MU_TYPE_Q4_K, MU_TYPE_Q5_K, MU_TYPE_Q6_K};
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        int ran = 0;

        for (int a = 1; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                const struct cpu_kernels *k = cpu_kernels_get();
                for (int i = 0; i < (int)(sizeof(kts) / sizeof(kts[0])); i++) {
                        int lens[] = {256, 3 * 256, 2048 + 256, 4096};
                        for (int li = 0; li < 4; li++) {
                                kq_exact_check(avail[a], k, kts[i], lens[li], 1300 + (uint64_t)(kts[i] * 11 + li));
                                ran++;
                        }
                }
        }
        cpu_kernels_force(orig);
        if (!avail[1])
                TEST_SKIP("no SIMD table runs on this CPU");
        CHECK(ran > 0);
}

/* matmul_multi() (several weights, one input) gives the bits of one
 * matmul() per weight, for one token and for a batch, on 1 and 2 threads. */
/* Every SIMD table's small-batch kernel (mm, kernels.h) gives the bits of
 * the path it replaces: per row, tokens in whole groups of 4 those of the
 * scalar vec_dot4 where the scalar table has one (Q4_K), else of the scalar
 * vec_dot; the last nt % 4 tokens those of the scalar vec_dot.  Several
 * row and token counts (register-tile tails), outputs at a stride with
 * guard values between them that must stay untouched. */
TEST(quant_mm_bitexact)
{
        static const int mts[] = {MU_TYPE_Q8_0, MU_TYPE_Q4_0, MU_TYPE_Q4_1, MU_TYPE_Q5_0, MU_TYPE_Q5_1,
                                  MU_TYPE_Q2_K, MU_TYPE_Q3_K, MU_TYPE_Q4_K, MU_TYPE_Q5_K, MU_TYPE_Q6_K,
                                  MU_TYPE_F16, MU_TYPE_BF16, MU_TYPE_F32};
        static const int nrs[] = {1, 3, 4, 5, 8, 13, 17};
        /* 70: more tokens than matmul gives mm (under GEMM_MIN_TOK), which
         * kernels.h allows (the avx512 K-quant kernels take 64 at a time) */
        static const int nts[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 19, 63, 70};
        enum { NRMAX = 17, NTMAX = 70 };
        const char *const *avail = cpu_kernels_available();
        const char *orig = cpu_kernels_get()->name;
        int ran = 0;

        for (int a = 1; avail[a]; a++) {
                CHECK_EQ_INT(cpu_kernels_force(avail[a]), 0);
                const struct cpu_kernels *k = cpu_kernels_get();
                for (int i = 0; i < (int)(sizeof(mts) / sizeof(mts[0])); i++) {
                        int t = mts[i];
                        const struct quant_fns *sf = &cpu_kernels_scalar.q[t];
                        if (!k->q[t].mm)
                                continue;
                        int bs = mu_type_info(t)->blck_size < 32 ? 32 : mu_type_info(t)->blck_size;
                        int lens[] = {bs, 3 * bs, 2048 + bs, 4096, 16384 + 2 * bs};
                        for (int li = 0; li < 5; li++) {
                                int n = lens[li], vt = sf->vec_dot_type, bad = 0;
                                size_t rs = mu_row_size(t, n), xs = mu_row_size(vt, n), ss = NRMAX + 3;
                                char *wq = calloc(NRMAX, rs), *xq = calloc(NTMAX, xs);
                                float *src = malloc((size_t)n * sizeof(float));
                                float *want = malloc(sizeof(float) * NRMAX * NTMAX);
                                float *got = malloc(sizeof(float) * ss * NTMAX);
                                rng_seed(4200 + (uint64_t)(t * 13 + li));
                                for (int r = 0; r < NRMAX; r++) {
                                        fill_normal(src, n, 0.02f * (float)(1 + r % 3));
                                        sf->from_float(src, wq + r * rs, n);
                                }
                                for (int j = 0; j < NTMAX; j++) {
                                        fill_normal(src, n, 1.0f + j % 5);
                                        for (int e = j; e < n; e += 41)
                                                src[e] *= 9; /* outliers, like real activations */
                                        cpu_kernels_scalar.q[vt].from_float(src, xq + j * xs, n);
                                }
                                for (int ti = 0; ti < (int)(sizeof(nts) / sizeof(nts[0])); ti++) {
                                        int nt = nts[ti], n4 = sf->vec_dot4 ? nt / 4 * 4 : 0;
                                        for (int r = 0; r < NRMAX; r++) {
                                                for (int j = 0; j < n4; j += 4) {
                                                        float w4[16];
                                                        sf->vec_dot4(n, w4, 4, wq + r * rs, xq + j * xs, xs);
                                                        for (int q = 0; q < 4; q++)
                                                                want[(j + q) * NRMAX + r] = w4[4 * q];
                                                }
                                                for (int j = n4; j < nt; j++)
                                                        sf->vec_dot(n, &want[j * NRMAX + r], wq + r * rs, xq + j * xs);
                                        }
                                        for (int ni = 0; ni < (int)(sizeof(nrs) / sizeof(nrs[0])); ni++) {
                                                int nr = nrs[ni];
                                                for (size_t e = 0; e < ss * NTMAX; e++)
                                                        got[e] = -1234.5f;
                                                k->q[t].mm(n, nr, nt, got, ss, wq, rs, xq, xs);
                                                for (int j = 0; j < NTMAX; j++)
                                                        for (int r = 0; r < (int)ss; r++) {
                                                                int in = j < nt && r < nr;
                                                                float g = got[(size_t)j * ss + r];
                                                                if (in)
                                                                        bad += memcmp(&g, &want[j * NRMAX + r], sizeof(float)) != 0;
                                                                else
                                                                        bad += g != -1234.5f;
                                                        }
                                        }
                                }
                                CHECK_MSG(!bad, "%s %s n=%d: mm differs from the scalar kernels (or wrote outside) in %d results",
                                          avail[a], mu_type_name(t), n, bad);
                                ran++;
                                free(wq);
                                free(xq);
                                free(src);
                                free(want);
                                free(got);
                        }
                }
        }
        cpu_kernels_force(orig);
        if (!avail[1])
                TEST_SKIP("no SIMD table runs on this CPU");
        if (!ran)
                TEST_SKIP("no SIMD table has an mm kernel yet");
}

TEST(quant_matmul_multi_matches_matmul)
{
        static const int types3[] = {MU_TYPE_Q4_K, MU_TYPE_Q6_K, MU_TYPE_Q8_0};
        const int ne0 = 512, ne1[3] = {96, 33, 64};
        struct mu_pool *pool2 = mu_pool_create(2);
        struct matmul_ws *ws = matmul_ws_create();
        struct mu_tensor w[3];
        const struct mu_tensor *wp[3];
        float *y[3], *yr[3], *x = malloc(3 * ne0 * sizeof(float)), *src = malloc(ne0 * 96 * sizeof(float));

        rng_seed(77);
        fill_normal(x, 3 * ne0, 1.0f);
        for (int i = 0; i < 3; i++) {
                size_t rs = mu_row_size(types3[i], ne0);
                char *wq = malloc(rs * (size_t)ne1[i]);
                fill_normal(src, (int64_t)ne0 * ne1[i], 0.05f);
                for (int r = 0; r < ne1[i]; r++)
                        quant_quantize_row(types3[i], src + (size_t)r * ne0, wq + r * rs, ne0);
                w[i] = (struct mu_tensor){.name = "w", .type = types3[i], .n_dims = 2,
                                          .ne = {ne0, ne1[i], 1, 1}, .data = wq, .size = rs * (size_t)ne1[i]};
                wp[i] = &w[i];
                y[i] = malloc(3 * (size_t)ne1[i] * sizeof(float));
                yr[i] = malloc(3 * (size_t)ne1[i] * sizeof(float));
        }
        for (int nt = 1; nt <= 3; nt += 2) {
                for (int p = 0; p < 2; p++) {
                        struct mu_pool *pool = p ? pool2 : NULL;
                        for (int i = 0; i < 3; i++)
                                matmul(NULL, ws, &w[i], x, nt, yr[i]);
                        matmul_multi(pool, ws, 3, wp, x, nt, y);
                        for (int i = 0; i < 3; i++)
                                CHECK_MSG(!memcmp(y[i], yr[i], (size_t)nt * ne1[i] * sizeof(float)),
                                          "%s n_tok=%d threads=%d: differs from matmul", mu_type_name(types3[i]),
                                          nt, p + 1);
                }
        }
        for (int i = 0; i < 3; i++) {
                free((void *)w[i].data);
                free(y[i]);
                free(yr[i]);
        }
        free(x);
        free(src);
        matmul_ws_free(ws);
        mu_pool_free(pool2);
}

/* ---- matmul ---------------------------------------------------------------- */

/* matmul() on every table and type against a float64 product of the
 * dequantized weights and the (unquantized) activations; 1 and 2 threads
 * must give identical results. */
TEST(quant_matmul_vs_f64)
{
        static const int shapes[][2] = {{256, 17}, {512, 64}, {1024, 33}};
        static const int toks[] = {1, 7, 64};
        const char *const *avail = cpu_kernels_available();
        struct mu_pool *pool2 = mu_pool_create(2);
        struct matmul_ws *ws = matmul_ws_create();
        const char *orig = cpu_kernels_get()->name;

        for (int a = 0; avail[a]; a++) {
                cpu_kernels_force(avail[a]);
                for (int i = 0; i < N_TYPES; i++) {
                        int t = types[i].type;
                        if (t == MU_TYPE_Q8_K)
                                continue; /* an activation type, never a weight */
                        for (int s = 0; s < 3; s++) {
                                int ne0 = shapes[s][0], ne1 = shapes[s][1];
                                size_t rs = mu_row_size(t, ne0);
                                float *wf = malloc((size_t)ne0 * ne1 * sizeof(float));
                                void *wq = malloc(rs * (size_t)ne1);
                                rng_seed(1000 + (uint64_t)(t * 10 + s));
                                fill_normal(wf, (int64_t)ne0 * ne1, 0.05f);
                                for (int r = 0; r < ne1; r++)
                                        quant_quantize_row(t, wf + (size_t)r * ne0, (char *)wq + r * rs, ne0);
                                for (int r = 0; r < ne1; r++)
                                        cpu_kernels_scalar.q[t].to_float((char *)wq + r * rs, wf + (size_t)r * ne0, ne0);
                                struct mu_tensor w = {.name = "w", .type = t, .n_dims = 2,
                                                      .ne = {ne0, ne1, 1, 1}, .data = wq,
                                                      .size = rs * (size_t)ne1};
                                for (int k = 0; k < 3; k++) {
                                        int nt = toks[k];
                                        float *x = malloc((size_t)nt * ne0 * sizeof(float));
                                        float *y1 = malloc((size_t)nt * ne1 * sizeof(float));
                                        float *y2 = malloc((size_t)nt * ne1 * sizeof(float));
                                        float *yr = malloc((size_t)nt * ne1 * sizeof(float));
                                        fill_normal(x, (int64_t)nt * ne0, 1.0f);
                                        for (int tt = 0; tt < nt; tt++)
                                                for (int r = 0; r < ne1; r++) {
                                                        double acc = 0;
                                                        for (int c = 0; c < ne0; c++)
                                                                acc += (double)wf[(size_t)r * ne0 + c] * x[(size_t)tt * ne0 + c];
                                                        yr[(size_t)tt * ne1 + r] = (float)acc;
                                                }
                                        matmul(NULL, ws, &w, x, nt, y1);
                                        matmul(pool2, ws, &w, x, nt, y2);
                                        double e = nmse(y1, yr, (int64_t)nt * ne1);
                                        /* activation quantization: Q8 ~1e-4 */
                                        double bound = t == MU_TYPE_F32 || t == MU_TYPE_F16 || t == MU_TYPE_BF16 ? 1e-10 : 1e-3;
                                        CHECK_MSG(e <= bound, "%s %s %dx%d n_tok=%d: nmse %g > %g", avail[a],
                                                  mu_type_name(t), ne0, ne1, nt, e, bound);
                                        CHECK_MSG(!memcmp(y1, y2, (size_t)nt * ne1 * sizeof(float)),
                                                  "%s %s %dx%d n_tok=%d: 2 threads differ from 1", avail[a],
                                                  mu_type_name(t), ne0, ne1, nt);
                                        free(x);
                                        free(y1);
                                        free(y2);
                                        free(yr);
                                }
                                free(wf);
                                free(wq);
                        }
                }
        }
        cpu_kernels_force(orig);
        matmul_ws_free(ws);
        mu_pool_free(pool2);
}

TEST(quant_backends_string)
{
        const char *b = mu_backends();

        CHECK(!strncmp(b, "cpu(", 4));
        CHECK(strstr(b, cpu_kernels_get()->name) != NULL);
        CHECK_EQ_INT(cpu_kernels_force("no-such-isa"), -1);
        CHECK_STR(cpu_kernels_available()[0], "scalar");
}
