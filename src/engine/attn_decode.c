/* attn_decode.c -- attention for one query token (token generation), split
 * over key ranges.
 *
 * Contract: attn_decode(s, il, pos) computes s->att for the single query in
 * s->q at position pos of layer il against the KV cache (which already holds
 * it): scale, optional tanh soft-cap, sliding window on SWA layers, softmax,
 * weighted sum of V -- what forward.c's per-head loop computes, up to float
 * rounding.  Returns 0, or -1 when it does not apply (KV type other than
 * F16/F32, no SIMD table selected: MULLAMA_CPU=scalar, head dims not a
 * multiple of 8) and the caller must do it.
 *
 * Work unit: one KV head x one range of SPLIT key positions, for all the
 * query heads sharing that KV head (GQA): each key/value row is converted
 * to float once per unit and used by every head of the group.  A unit folds
 * tiles of KT keys into an online softmax (running max m, sum l,
 * accumulator, vectorized exp) and leaves its partial (m, l, acc) per head;
 * the calling thread merges the partials in range order.  Units come from a
 * shared counter (a delayed thread does not hold the others back); ranges
 * have a fixed size, so the result does not depend on the thread count, and
 * a model with one KV head still spreads a long context over the threads. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/attn_decode.h"
#include "engine/engine.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define SPLIT 256 /* key positions per unit */
#define KT 32     /* key positions per tile */
#define AVX2 __attribute__((target("avx2,fma,f16c")))

struct ad_job {
        struct session *s;
        int il, pos, lo, n_split, n_units;
        float *part; /* [n_head][n_split][hdv + 2]: acc, then m, l */
        _Atomic int next;
};

/* exp(x) for x <= 0 (-inf -> 0) to about 1 ulp, as expf: x = n ln2 + r
 * with ln2 in two parts (r exact to float rounding, |r| <= ln2 / 2), e^r
 * by its degree-7 Taylor polynomial (truncation < 1e-8), times 2^n. */
AVX2 static inline __m256 exp_neg(__m256 x)
{
        x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
        __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
        r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
        __m256 p = _mm256_set1_ps(1.0f / 5040);
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
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

/* n elements (a multiple of 8) of F16 or F32 -> float */
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

AVX2 static void ad_task(void *arg, int ith, int nth)
{
        struct ad_job *j = arg;
        struct session *s = j->s;
        const struct model_hparams *hp = &s->m->hp;
        const struct kv_cache *kv = &s->kv;
        const int hdk = hp->head_dim_k, hdv = hp->head_dim_v;
        const int group = hp->n_head / hp->n_head_kv;
        const float scale = hp->attn_scale, cap = hp->attn_softcap;
        const size_t esz = kv->type == MU_TYPE_F32 ? 4 : 2;
        float *buf = NULL;

        (void)ith;
        (void)nth;
        for (int u; (u = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed)) < j->n_units;) {
                int kvh = u / j->n_split, sp = u % j->n_split;
                int a = j->lo + sp * SPLIT, b = a + SPLIT < j->pos + 1 ? a + SPLIT : j->pos + 1;
                if (!buf) {
                        buf = malloc(sizeof(float) * ((size_t)KT * (hdk + hdv) +
                                                      (size_t)group * (hdk + hdv + KT + 2)));
                        if (!buf)
                                abort();
                }
                float *kb = buf, *vb = kb + (size_t)KT * hdk, *qs = vb + (size_t)KT * hdv;
                float *acc = qs + (size_t)group * hdk, *sc = acc + (size_t)group * hdv;
                float *mrow = sc + (size_t)group * KT, *lrow = mrow + group;

                for (int g = 0; g < group; g++) {
                        const float *q = s->q + (size_t)(kvh * group + g) * hdk;
                        for (int i = 0; i < hdk; i++)
                                qs[(size_t)g * hdk + i] = q[i] * scale;
                        mrow[g] = -INFINITY;
                        lrow[g] = 0.0f;
                }
                memset(acc, 0, sizeof(float) * (size_t)group * hdv);
                for (int p0 = a; p0 < b; p0 += KT) {
                        int np = b - p0 < KT ? b - p0 : KT;
                        for (int p = 0; p < np; p++) {
                                row_to_f32(kv->type, (const char *)kv_cache_k(kv, j->il, p0 + p) + (size_t)kvh * hdk * esz,
                                           kb + (size_t)p * hdk, hdk);
                                row_to_f32(kv->type, (const char *)kv_cache_v(kv, j->il, p0 + p) + (size_t)kvh * hdv * esz,
                                           vb + (size_t)p * hdv, hdv);
                        }
                        for (int g = 0; g < group; g++) {
                                const float *q = qs + (size_t)g * hdk;
                                float *srow = sc + (size_t)g * KT, *ar = acc + (size_t)g * hdv;
                                float mx = -INFINITY;
                                for (int p = 0; p < np; p++) {
                                        const float *k = kb + (size_t)p * hdk;
                                        __m256 d = _mm256_setzero_ps();
                                        for (int i = 0; i < hdk; i += 8)
                                                d = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), d);
                                        float v = hsum8(d);
                                        if (cap > 0)
                                                v = tanhf(v / cap) * cap;
                                        srow[p] = v;
                                        mx = v > mx ? v : mx;
                                }
                                float mnew = mx > mrow[g] ? mx : mrow[g];
                                float corr = expf(mrow[g] - mnew); /* 0 when mrow was -inf */
                                mrow[g] = mnew;
                                if (corr != 1.0f) {
                                        __m256 c = _mm256_set1_ps(corr);
                                        for (int i = 0; i < hdv; i += 8)
                                                _mm256_storeu_ps(ar + i, _mm256_mul_ps(_mm256_loadu_ps(ar + i), c));
                                }
                                __m256 vm = _mm256_set1_ps(mnew), lsum = _mm256_setzero_ps();
                                int p = 0;
                                for (; p + 8 <= np; p += 8) {
                                        __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(srow + p), vm));
                                        _mm256_storeu_ps(srow + p, e);
                                        lsum = _mm256_add_ps(lsum, e);
                                }
                                float l = hsum8(lsum);
                                for (; p < np; p++) {
                                        srow[p] = expf(srow[p] - mnew);
                                        l += srow[p];
                                }
                                lrow[g] = lrow[g] * corr + l;
                                for (p = 0; p < np; p++) {
                                        __m256 w = _mm256_set1_ps(srow[p]);
                                        const float *v = vb + (size_t)p * hdv;
                                        for (int i = 0; i < hdv; i += 8)
                                                _mm256_storeu_ps(ar + i, _mm256_fmadd_ps(w, _mm256_loadu_ps(v + i),
                                                                                         _mm256_loadu_ps(ar + i)));
                                }
                        }
                }
                for (int g = 0; g < group; g++) {
                        float *pt = j->part + ((size_t)(kvh * group + g) * j->n_split + sp) * (hdv + 2);
                        memcpy(pt, acc + (size_t)g * hdv, sizeof(float) * (size_t)hdv);
                        pt[hdv] = mrow[g];
                        pt[hdv + 1] = lrow[g];
                }
        }
        free(buf);
}

int attn_decode(struct session *s, int il, int pos)
{
        const struct model_hparams *hp = &s->m->hp;
        const int hdv = hp->head_dim_v, nh = hp->n_head;
        const int swa = s->m->layers[il].is_swa ? hp->n_swa : 0;
        struct ad_job j;

        if ((s->kv.type != MU_TYPE_F16 && s->kv.type != MU_TYPE_F32) || !s->k->name ||
            !strcmp(s->k->name, "scalar") || hp->head_dim_k % 8 || hdv % 8 || hp->n_head % hp->n_head_kv)
                return -1;
        j.s = s;
        j.il = il;
        j.pos = pos;
        j.lo = swa > 0 && pos - swa + 1 > 0 ? pos - swa + 1 : 0;
        j.n_split = (pos + 1 - j.lo + SPLIT - 1) / SPLIT;
        j.n_units = j.n_split * hp->n_head_kv;
        j.part = malloc(sizeof(float) * (size_t)nh * (size_t)j.n_split * (size_t)(hdv + 2));
        if (!j.part)
                return -1;
        atomic_init(&j.next, 0);
        if (mu_pool_size(s->pool) > 1 && j.n_units > 1)
                mu_pool_run_dyn(s->pool, ad_task, &j);
        else
                ad_task(&j, 0, 1);
        /* merge the ranges of each head, in order */
        for (int h = 0; h < nh; h++) {
                const float *pt = j.part + (size_t)h * j.n_split * (hdv + 2);
                float *out = s->att + (size_t)h * hdv;
                float m = -INFINITY, l = 0;
                for (int sp = 0; sp < j.n_split; sp++)
                        m = pt[(size_t)sp * (hdv + 2) + hdv] > m ? pt[(size_t)sp * (hdv + 2) + hdv] : m;
                memset(out, 0, sizeof(float) * (size_t)hdv);
                for (int sp = 0; sp < j.n_split; sp++) {
                        const float *q = pt + (size_t)sp * (hdv + 2);
                        float c = expf(q[hdv] - m);
                        l += q[hdv + 1] * c;
                        for (int i = 0; i < hdv; i++)
                                out[i] += q[i] * c;
                }
                float inv = 1.0f / l;
                for (int i = 0; i < hdv; i++)
                        out[i] *= inv;
        }
        free(j.part);
        return 0;
}

#else
#include "engine/engine.h"
int attn_decode(struct session *s, int il, int pos)
{
        (void)s, (void)il, (void)pos;
        return -1;
}
#endif
