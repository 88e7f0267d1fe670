/* attn_batch.c -- causal attention for a prompt batch, tiled.
 *
 * Contract: attn_batch(s, il, n, p0) computes s->att for the n queries in
 * s->q at positions [p0, p0 + n) of layer il against the KV cache (which
 * already holds them), exactly what forward.c's per-(token, head) loop
 * computes up to float rounding: scale, optional tanh soft-cap, sliding
 * window on SWA layers, causal mask, softmax, weighted sum of V.  Returns 0,
 * or -1 when it does not apply (KV type other than F16/F32, no AVX2 table
 * selected: MULLAMA_CPU=scalar) and the caller must do it.
 *
 * Work unit: one KV head x QT consecutive query tokens, i.e. all the query
 * heads sharing that KV head (GQA) for those tokens.  Keys and values are
 * read in tiles of KT positions, converted to float once per tile and used
 * by every query row of the unit; per row an online softmax (running max m,
 * sum l, accumulator) folds one tile at a time, with a vectorized exp.
 * Units are spread over the pool; each unit is done by one thread in a fixed
 * order, so the result does not depend on the thread count.  With the avx512
 * table (and a V head size that is a multiple of 64) the tiles run as small
 * register-blocked AVX-512 matmuls over 16 query tokens per unit instead
 * (ab_task512); the AVX2 code below stays the path elsewhere. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attn_batch.h"
#include "engine/engine.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define QT 4   /* query tokens per unit */
#define QT512 16 /* the AVX-512 path: more rows share each converted K/V tile */
#define KT 64  /* key positions per tile */
#define AVX2 __attribute__((target("avx2,fma,f16c")))

struct ab_job {
        struct session *s;
        int il, n, p0;
        int n_units, n_qtiles;
};

/* exp(x) for x <= 0 (and -inf -> 0), ~1 ulp-ish: 2^(x*log2e) by
 * range reduction and a degree-5 polynomial. */
AVX2 static inline __m256 exp256(__m256 x)
{
        const __m256 lo = _mm256_set1_ps(-87.0f);
        x = _mm256_max_ps(x, lo);
        __m256 t = _mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f));
        __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256 f = _mm256_sub_ps(t, n); /* [-0.5, 0.5] */
        __m256 p = _mm256_set1_ps(1.8775767e-3f);
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(8.9893397e-3f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.5826318e-2f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.4015361e-1f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.9315308e-1f));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.9999994e-1f));
        __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 static inline float hsum8(__m256 v)
{
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
}

/* n elements (multiple of 8) of F16 or F32 -> float. */
AVX2 static void row_to_f32(int type, const void *src, float *dst, int n)
{
        if (type == MU_TYPE_F32) {
                memcpy(dst, src, (size_t)n * sizeof(float));
                return;
        }
        const uint16_t *h = src;
        for (int i = 0; i < n; i += 8)
                _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
}

AVX2 static void ab_task(void *arg, int ith, int nth)
{
        struct ab_job *j = arg;
        struct session *s = j->s;
        const struct model_hparams *hp = &s->m->hp;
        const struct kv_cache *kv = &s->kv;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v, nh = hp->n_head;
        const int group = hp->n_head / hp->n_head_kv;
        const int swa = s->m->layers[j->il].is_swa ? hp->n_swa : 0;
        const float scale = hp->attn_scale, cap = hp->attn_softcap;
        const int R = group * QT; /* query rows of a unit */
        size_t esz = kv->type == MU_TYPE_F32 ? 4 : 2;

        float *buf = malloc(sizeof(float) * ((size_t)KT * (size_t)(hdk + hdv) + (size_t)R * (hdk + hdv + KT + 2)));
        if (!buf)
                abort();
        float *kb = buf, *vb = kb + (size_t)KT * hdk, *qs = vb + (size_t)KT * hdv;
        float *acc = qs + (size_t)R * hdk, *sc = acc + (size_t)R * hdv, *mrow = sc + (size_t)R * KT;
        float *lrow = mrow + R;

        for (int u = ith; u < j->n_units; u += nth) {
                int kvh = u % hp->n_head_kv, qt = u / hp->n_head_kv;
                int t0 = qt * QT, nt = j->n - t0 < QT ? j->n - t0 : QT;
                int nr = group * nt;
                /* rows: r = tt * group + g -> token t0 + tt, head kvh * group + g */
                int lo_min = INT32_MAX, hi_max = 0;
                for (int tt = 0; tt < nt; tt++) {
                        int pos = j->p0 + t0 + tt;
                        int lo = swa > 0 && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
                        lo_min = lo < lo_min ? lo : lo_min;
                        hi_max = pos + 1 > hi_max ? pos + 1 : hi_max;
                        for (int g = 0; g < group; g++) {
                                int r = tt * group + g, h = kvh * group + g;
                                const float *q = s->q + (size_t)(t0 + tt) * nh * hdk + (size_t)h * hdk;
                                for (int i = 0; i < hdk; i++)
                                        qs[(size_t)r * hdk + i] = q[i] * scale;
                        }
                }
                for (int r = 0; r < nr; r++) {
                        mrow[r] = -INFINITY;
                        lrow[r] = 0.0f;
                }
                memset(acc, 0, sizeof(float) * (size_t)nr * hdv);
                for (int p0 = lo_min; p0 < hi_max; p0 += KT) {
                        int np = hi_max - p0 < KT ? hi_max - p0 : KT;
                        for (int p = 0; p < np; p++) {
                                row_to_f32(kv->type, (const char *)kv_cache_k(kv, j->il, p0 + p) + (size_t)kvh * hdk * esz,
                                           kb + (size_t)p * hdk, hdk);
                                row_to_f32(kv->type, (const char *)kv_cache_v(kv, j->il, p0 + p) + (size_t)kvh * hdv * esz,
                                           vb + (size_t)p * hdv, hdv);
                        }
                        for (int r = 0; r < nr; r++) {
                                int pos = j->p0 + t0 + r / group;
                                int lo = swa > 0 && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
                                const float *q = qs + (size_t)r * hdk;
                                float *srow = sc + (size_t)r * KT;
                                float mx = -INFINITY;
                                for (int p = 0; p < np; p++) {
                                        int ap = p0 + p;
                                        if (ap > pos || ap < lo) {
                                                srow[p] = -INFINITY;
                                                continue;
                                        }
                                        const float *k = kb + (size_t)p * hdk;
                                        __m256 a = _mm256_setzero_ps();
                                        for (int i = 0; i < hdk; i += 8)
                                                a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), a);
                                        float v = hsum8(a);
                                        if (cap > 0)
                                                v = tanhf(v / cap) * cap;
                                        srow[p] = v;
                                        mx = v > mx ? v : mx;
                                }
                                if (mx == -INFINITY)
                                        continue; /* nothing visible in this tile */
                                float mnew = mx > mrow[r] ? mx : mrow[r];
                                float corr = expf(mrow[r] - mnew); /* 0 when mrow was -inf */
                                mrow[r] = mnew;
                                float *ar = acc + (size_t)r * hdv;
                                if (corr != 1.0f) {
                                        __m256 c = _mm256_set1_ps(corr);
                                        for (int i = 0; i < hdv; i += 8)
                                                _mm256_storeu_ps(ar + i, _mm256_mul_ps(_mm256_loadu_ps(ar + i), c));
                                }
                                __m256 vm = _mm256_set1_ps(mnew), lsum = _mm256_setzero_ps();
                                int p = 0;
                                for (; p + 8 <= np; p += 8) {
                                        __m256 sv = _mm256_loadu_ps(srow + p);
                                        __m256 e = exp256(_mm256_sub_ps(sv, vm));
                                        e = _mm256_and_ps(e, _mm256_cmp_ps(sv, _mm256_set1_ps(-INFINITY), _CMP_NEQ_OQ));
                                        _mm256_storeu_ps(srow + p, e);
                                        lsum = _mm256_add_ps(lsum, e);
                                }
                                float l = hsum8(lsum);
                                for (; p < np; p++) {
                                        srow[p] = srow[p] == -INFINITY ? 0.0f : expf(srow[p] - mnew);
                                        l += srow[p];
                                }
                                lrow[r] = lrow[r] * corr + l;
                                for (p = 0; p < np; p++) {
                                        float w = srow[p];
                                        if (w == 0.0f)
                                                continue;
                                        __m256 vw = _mm256_set1_ps(w);
                                        const float *v = vb + (size_t)p * hdv;
                                        for (int i = 0; i < hdv; i += 8)
                                                _mm256_storeu_ps(ar + i, _mm256_fmadd_ps(vw, _mm256_loadu_ps(v + i),
                                                                                         _mm256_loadu_ps(ar + i)));
                                }
                        }
                }
                for (int r = 0; r < nr; r++) {
                        int tt = r / group, h = kvh * group + r % group;
                        float *out = s->att + (size_t)(t0 + tt) * nh * hdv + (size_t)h * hdv;
                        float inv = 1.0f / lrow[r];
                        for (int i = 0; i < hdv; i++)
                                out[i] = acc[(size_t)r * hdv + i] * inv;
                }
        }
        free(buf);
}

/* ---- AVX-512: the same tiles as small register-blocked matmuls ------------
 *
 * Keys of a tile are stored transposed (kt[i][p]: KT positions of element i
 * contiguous), so the scores of 4 query rows x 64 keys are 16 zmm
 * accumulators fed by 4 loads and 4 broadcasts per element of the head.  The
 * weighted sum of V keeps 4 rows x 64 elements of the accumulators in
 * registers over the tile's positions.  Same online softmax as above; only
 * the float summation order differs from forward.c. */
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,f16c")))

AVX512 static inline __m512 exp512(__m512 x)
{
        x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
        __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
        __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512 f = _mm512_sub_ps(t, n);
        __m512 p = _mm512_set1_ps(1.8775767e-3f);
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(8.9893397e-3f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5826318e-2f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4015361e-1f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9315308e-1f));
        p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.9999994e-1f));
        __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
        return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* Scores of RB rows (q: row stride hdk) x KT keys (kt: [hdk][KT]) into
 * srow (row stride KT). */
AVX512 static inline __attribute__((always_inline)) void
qk_block(const float *q, int hdk, const float *kt, float *srow, const int RB)
{
        __m512 a[4][KT / 16];
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
                for (int c = 0; c < KT / 16; c++)
                        a[r][c] = _mm512_setzero_ps();
        for (int i = 0; i < hdk; i++) {
                __m512 k[KT / 16];
#pragma GCC unroll 4
                for (int c = 0; c < KT / 16; c++)
                        k[c] = _mm512_load_ps(kt + (size_t)i * KT + 16 * c);
#pragma GCC unroll 4
                for (int r = 0; r < RB; r++) {
                        __m512 qv = _mm512_set1_ps(q[(size_t)r * hdk + i]);
#pragma GCC unroll 4
                        for (int c = 0; c < KT / 16; c++)
                                a[r][c] = _mm512_fmadd_ps(qv, k[c], a[r][c]);
                }
        }
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
                for (int c = 0; c < KT / 16; c++)
                        _mm512_store_ps(srow + (size_t)r * KT + 16 * c, a[r][c]);
}

/* acc rows (stride hdv) += weights (srow, stride KT) x V (vb: [np][hdv]),
 * RB rows, elements [e0, e0 + 64) of the head. */
AVX512 static inline __attribute__((always_inline)) void
pv_block(const float *srow, const float *vb, int np, int hdv, int e0, float *acc, const int RB)
{
        __m512 a[4][4];
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++)
                        a[r][c] = _mm512_loadu_ps(acc + (size_t)r * hdv + e0 + 16 * c);
        for (int p = 0; p < np; p++) {
                const float *v = vb + (size_t)p * hdv + e0;
                __m512 vv[4];
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++)
                        vv[c] = _mm512_loadu_ps(v + 16 * c);
#pragma GCC unroll 4
                for (int r = 0; r < RB; r++) {
                        __m512 w = _mm512_set1_ps(srow[(size_t)r * KT + p]);
#pragma GCC unroll 4
                        for (int c = 0; c < 4; c++)
                                a[r][c] = _mm512_fmadd_ps(w, vv[c], a[r][c]);
                }
        }
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++)
                        _mm512_storeu_ps(acc + (size_t)r * hdv + e0 + 16 * c, a[r][c]);
}

/* 16 rows of 16 floats (r) -> their transpose, in place. */
AVX512 static inline void tr16(__m512 r[16])
{
        __m512 t[16], o[16];
        for (int k = 0; k < 16; k += 2) {
                t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
                t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
        }
        for (int k = 0; k < 16; k += 4) { /* r[k + j], lane l: column 4l + j of rows k..k+3 */
                r[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
                r[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xee);
                r[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
                r[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xee);
        }
        for (int j = 0; j < 4; j++) {
                __m512 x0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), x1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
                __m512 y0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
                __m512 y1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
                o[j] = _mm512_shuffle_f32x4(x0, y0, 0x88);
                o[8 + j] = _mm512_shuffle_f32x4(x0, y0, 0xdd);
                o[4 + j] = _mm512_shuffle_f32x4(x1, y1, 0x88);
                o[12 + j] = _mm512_shuffle_f32x4(x1, y1, 0xdd);
        }
        for (int k = 0; k < 16; k++)
                r[k] = o[k];
}

/* ks: KT rows of hdk floats -> kt: hdk rows of KT. */
AVX512 static void k_transpose(const float *ks, int hdk, float *kt)
{
        if (hdk % 16) {
                for (int p = 0; p < KT; p++)
                        for (int i = 0; i < hdk; i++)
                                kt[(size_t)i * KT + p] = ks[(size_t)p * hdk + i];
                return;
        }
        for (int pb = 0; pb < KT; pb += 16)
                for (int ib = 0; ib < hdk; ib += 16) {
                        __m512 r[16];
                        for (int j = 0; j < 16; j++)
                                r[j] = _mm512_loadu_ps(ks + (size_t)(pb + j) * hdk + ib);
                        tr16(r);
                        for (int c = 0; c < 16; c++)
                                _mm512_store_ps(kt + (size_t)(ib + c) * KT + pb, r[c]);
                }
}

AVX512 static void qk_rows(const float *q, int nr, int hdk, const float *kt, float *sc)
{
        int r = 0;
        for (; r + 4 <= nr; r += 4)
                qk_block(q + (size_t)r * hdk, hdk, kt, sc + (size_t)r * KT, 4);
        for (; r < nr; r++)
                qk_block(q + (size_t)r * hdk, hdk, kt, sc + (size_t)r * KT, 1);
}

AVX512 static void pv_rows(const float *sc, int nr, const float *vb, int np, int hdv, float *acc)
{
        for (int e0 = 0; e0 < hdv; e0 += 64) {
                int r = 0;
                for (; r + 4 <= nr; r += 4)
                        pv_block(sc + (size_t)r * KT, vb, np, hdv, e0, acc + (size_t)r * hdv, 4);
                for (; r < nr; r++)
                        pv_block(sc + (size_t)r * KT, vb, np, hdv, e0, acc + (size_t)r * hdv, 1);
        }
}

AVX512 static void ab_task512(void *arg, int ith, int nth)
{
        struct ab_job *j = arg;
        struct session *s = j->s;
        const struct model_hparams *hp = &s->m->hp;
        const struct kv_cache *kv = &s->kv;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v, nh = hp->n_head;
        const int group = hp->n_head / hp->n_head_kv;
        const int swa = s->m->layers[j->il].is_swa ? hp->n_swa : 0;
        const float scale = hp->attn_scale, cap = hp->attn_softcap;
        const __m512 vscale = _mm512_set1_ps(scale);
        const int R = group * QT512; /* query rows of a unit */
        size_t esz = kv->type == MU_TYPE_F32 ? 4 : 2;
        size_t nf = (size_t)KT * (size_t)(2 * hdk + hdv) + (size_t)R * (size_t)(hdk + hdv + KT + 2) + 64;

        float *buf = aligned_alloc(64, (nf * sizeof(float) + 63) & ~(size_t)63);
        if (!buf)
                abort();
        float *kt = buf, *sc = kt + (size_t)KT * hdk, *vb = sc + (size_t)R * KT, *qs = vb + (size_t)KT * hdv;
        float *acc = qs + (size_t)R * hdk, *mrow = acc + (size_t)R * hdv, *lrow = mrow + R;
        float *ks = lrow + R; /* the tile's keys, KT rows of hdk */

        for (int u = ith; u < j->n_units; u += nth) {
                int kvh = u % hp->n_head_kv, qt = u / hp->n_head_kv;
                int t0 = qt * QT512, nt = j->n - t0 < QT512 ? j->n - t0 : QT512;
                int nr = group * nt;
                int lo_min = INT32_MAX, hi_max = 0;
                for (int tt = 0; tt < nt; tt++) {
                        int pos = j->p0 + t0 + tt;
                        int lo = swa > 0 && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
                        lo_min = lo < lo_min ? lo : lo_min;
                        hi_max = pos + 1 > hi_max ? pos + 1 : hi_max;
                        for (int g = 0; g < group; g++) {
                                int r = tt * group + g, h = kvh * group + g;
                                const float *q = s->q + (size_t)(t0 + tt) * nh * hdk + (size_t)h * hdk;
                                float *qr = qs + (size_t)r * hdk;
                                int i = 0;
                                for (; i + 16 <= hdk; i += 16)
                                        _mm512_storeu_ps(qr + i, _mm512_mul_ps(_mm512_loadu_ps(q + i), vscale));
                                for (; i < hdk; i++)
                                        qr[i] = q[i] * scale;
                        }
                }
                for (int r = 0; r < nr; r++) {
                        mrow[r] = -INFINITY;
                        lrow[r] = 0.0f;
                }
                memset(acc, 0, sizeof(float) * (size_t)nr * hdv);
                for (int p0 = lo_min; p0 < hi_max; p0 += KT) {
                        int np = hi_max - p0 < KT ? hi_max - p0 : KT;
                        for (int p = 0; p < KT; p++) {
                                float *kr = ks + (size_t)p * hdk;
                                if (p < np) {
                                        row_to_f32(kv->type,
                                                   (const char *)kv_cache_k(kv, j->il, p0 + p) + (size_t)kvh * hdk * esz,
                                                   kr, hdk);
                                        row_to_f32(kv->type,
                                                   (const char *)kv_cache_v(kv, j->il, p0 + p) + (size_t)kvh * hdv * esz,
                                                   vb + (size_t)p * hdv, hdv);
                                } else {
                                        memset(kr, 0, sizeof(float) * (size_t)hdk);
                                }
                        }
                        k_transpose(ks, hdk, kt);
                        qk_rows(qs, nr, hdk, kt, sc);
                        for (int r = 0; r < nr; r++) {
                                int pos = j->p0 + t0 + r / group;
                                int lo = swa > 0 && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
                                float *srow = sc + (size_t)r * KT;
                                /* visible: p in [vlo, vhi) */
                                int vlo = lo - p0 > 0 ? lo - p0 : 0, vhi = pos - p0 + 1 < np ? pos - p0 + 1 : np;
                                if (vhi <= vlo) {
                                        memset(srow, 0, sizeof(float) * KT);
                                        continue; /* nothing visible in this tile */
                                }
                                if (cap > 0)
                                        for (int p = vlo; p < vhi; p++)
                                                srow[p] = tanhf(srow[p] / cap) * cap;
                                __m512 mv = _mm512_set1_ps(-INFINITY);
                                for (int c = 0; c < KT; c += 16) {
                                        __mmask16 m = (__mmask16)(((1u << 16) - 1) &
                                                                  (vhi - c >= 16 ? 0xffffu : vhi - c <= 0 ? 0u : (1u << (vhi - c)) - 1) &
                                                                  ~(vlo - c >= 16 ? 0xffffu : vlo - c <= 0 ? 0u : (1u << (vlo - c)) - 1));
                                        mv = _mm512_mask_max_ps(mv, m, mv, _mm512_load_ps(srow + c));
                                }
                                float mx = _mm512_reduce_max_ps(mv);
                                float mnew = mx > mrow[r] ? mx : mrow[r];
                                float corr = expf(mrow[r] - mnew); /* 0 when mrow was -inf */
                                mrow[r] = mnew;
                                float *ar = acc + (size_t)r * hdv;
                                if (corr != 1.0f) {
                                        __m512 cv = _mm512_set1_ps(corr);
                                        for (int i = 0; i < hdv; i += 16)
                                                _mm512_storeu_ps(ar + i, _mm512_mul_ps(_mm512_loadu_ps(ar + i), cv));
                                }
                                __m512 vm = _mm512_set1_ps(mnew), lsum = _mm512_setzero_ps();
                                for (int c = 0; c < KT; c += 16) {
                                        __mmask16 m = (__mmask16)((vhi - c >= 16 ? 0xffffu : vhi - c <= 0 ? 0u : (1u << (vhi - c)) - 1) &
                                                                  ~(vlo - c >= 16 ? 0xffffu : vlo - c <= 0 ? 0u : (1u << (vlo - c)) - 1));
                                        __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_load_ps(srow + c), vm)));
                                        _mm512_store_ps(srow + c, e);
                                        lsum = _mm512_add_ps(lsum, e);
                                }
                                lrow[r] = lrow[r] * corr + _mm512_reduce_add_ps(lsum);
                        }
                        pv_rows(sc, nr, vb, np, hdv, acc);
                }
                for (int r = 0; r < nr; r++) {
                        int tt = r / group, h = kvh * group + r % group;
                        float *out = s->att + (size_t)(t0 + tt) * nh * hdv + (size_t)h * hdv;
                        __m512 inv = _mm512_set1_ps(1.0f / lrow[r]);
                        for (int i = 0; i < hdv; i += 16) /* hdv: a multiple of 64 here */
                                _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(acc + (size_t)r * hdv + i), inv));
                }
        }
        free(buf);
}

int attn_batch(struct session *s, int il, int n, int p0)
{
        const struct model_hparams *hp = &s->m->hp;
        struct ab_job j;

        if (n < ATTN_BATCH_MIN_TOK || (s->kv.type != MU_TYPE_F16 && s->kv.type != MU_TYPE_F32) ||
            !s->k->name || !strcmp(s->k->name, "scalar") || hp->head_dim_k % 8 || hp->head_dim_v % 8 ||
            hp->n_head % hp->n_head_kv)
                return -1;
        j.s = s;
        j.il = il;
        j.n = n;
        j.p0 = p0;
        void (*task)(void *, int, int) = ab_task;
        int qt = QT;
        if (!strcmp(s->k->name, "avx512") && hp->head_dim_v % 64 == 0) {
                task = ab_task512;
                qt = QT512;
        }
        j.n_qtiles = (n + qt - 1) / qt;
        j.n_units = j.n_qtiles * hp->n_head_kv;
        if (mu_pool_size(s->pool) > 1)
                mu_pool_run(s->pool, task, &j);
        else
                task(&j, 0, 1);
        return 0;
}

#else
#include "engine/engine.h"
int attn_batch(struct session *s, int il, int n, int p0)
{
        (void)s, (void)il, (void)n, (void)p0;
        return -1;
}
#endif
