#version 450
/* mul_mat.comp -- y[t][r] = sum_c W[r][c] * x[t][c] for one weight type
 * (compiled once per type with -DTYPE_xxx).  One thread per row, for up to NT
 * tokens (workgroup y).  No shared memory, no barriers: simple and fast on
 * CPU implementations (lavapipe), correct everywhere.
 *
 * The sums are the CPU scalar kernels' (src/kernels/quant.c), bit for bit:
 * x holds the activation codes quantize.comp wrote (the vec_dot_type's int8
 * codes, as floats) and xs their per-block scales; the integer partial sums
 * are exact in any order, and the float steps are the CPU's, in its order:
 *   - 32-blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): 8 lanes of 4 products,
 *     lane += (d_w * d_x) * isum as one FMA, lanes summed (l+4), (l+2),
 *     (l+1); Q4_1/Q5_1 add sum(m_w * s_x) last;
 *   - Q4_K: per span of sub-blocks acc += isum * (d * d8), accm += msum *
 *     (dmin * d8) (FMAs), result acc - accm; the span is 8 (vec_dot), or 2
 *     for the tokens the CPU's prompt matmul gives q4_k_vec_dot4 (groups of
 *     4 from the first token: t < ntok4);
 *   - Q6_K: per super-block 8 integer lanes (llama.cpp's x86 order), FMA'd
 *     with d8 * d, lanes summed as above;
 *   - F32/F16/BF16: the CPU sums products in double: here float-float.
 * Q2_K, Q3_K and Q5_K dequantize and sum in float (not the CPU's bits). */
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BW { uint w[]; };
layout(std430, binding = 1) readonly buffer BX { float x[]; };
layout(std430, binding = 2) buffer BY { float y[]; };
layout(std430, binding = 3) readonly buffer BS { float xs[]; };
layout(push_constant) uniform PC {
        uint ncols, nrows, ntok, woff, row_bytes, xoff, yoff, ystride, xsoff, ntok4;
} pc;

#define NT 8

uint rb(uint off) { return (w[off >> 2] >> ((off & 3u) << 3)) & 0xffu; }
uint r16(uint off) { return rb(off) | (rb(off + 1u) << 8); }
float rf16(uint off) { return f16_to_f32(r16(off)); }
uint r32(uint off) { return r16(off) | (r16(off + 2u) << 16); }
int rs8(uint off) { return int(rb(off) << 24) >> 24; }

/* K-quant 6-bit scale and min of group j (Q4_K, Q5_K) */
void k4_scale_min(uint sb, uint j, out float sc, out float m)
{
        if (j < 4u) {
                sc = float(rb(sb + j) & 63u);
                m = float(rb(sb + j + 4u) & 63u);
        } else {
                sc = float((rb(sb + j + 4u) & 0xfu) | ((rb(sb + j - 4u) >> 6) << 4));
                m = float((rb(sb + j + 4u) >> 4) | ((rb(sb + j) >> 6) << 4));
        }
}

/* Unit u (32 elements) of the row at byte rb0 into v; returns the
 * coefficient of the block's activation sum (Q4_1/Q5_1 min), else 0. */
float dequant32(uint r0, uint u, inout float v[32])
{
#if defined(TYPE_F32)
        uint b = (r0 >> 2) + u * 32u;
        [[unroll]] for (uint j = 0u; j < 32u; j++)
                v[j] = uintBitsToFloat(w[b + j]);
        return 0.0;
#elif defined(TYPE_F16) || defined(TYPE_BF16)
        uint b = (r0 >> 2) + u * 16u;
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint p = w[b + j];
#if defined(TYPE_F16)
                vec2 f = unpackHalf2x16(p);
                v[2u * j] = f.x;
                v[2u * j + 1u] = f.y;
#else
                v[2u * j] = uintBitsToFloat(p << 16);
                v[2u * j + 1u] = uintBitsToFloat(p & 0xffff0000u);
#endif
        }
        return 0.0;
#elif defined(TYPE_Q4_0)
        uint b = r0 + u * 18u;
        float d = rf16(b);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 2u + j);
                v[j] = d * float(int(q & 0xfu) - 8);
                v[j + 16u] = d * float(int(q >> 4) - 8);
        }
        return 0.0;
#elif defined(TYPE_Q4_1)
        uint b = r0 + u * 20u;
        float d = rf16(b);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 4u + j);
                v[j] = d * float(q & 0xfu);
                v[j + 16u] = d * float(q >> 4);
        }
        return rf16(b + 2u);
#elif defined(TYPE_Q5_0)
        uint b = r0 + u * 22u;
        float d = rf16(b);
        uint qh = r32(b + 2u);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 6u + j);
                v[j] = d * float(int((q & 0xfu) | (((qh >> j) & 1u) << 4)) - 16);
                v[j + 16u] = d * float(int((q >> 4) | (((qh >> (j + 16u)) & 1u) << 4)) - 16);
        }
        return 0.0;
#elif defined(TYPE_Q5_1)
        uint b = r0 + u * 24u;
        float d = rf16(b);
        uint qh = r32(b + 4u);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 8u + j);
                v[j] = d * float((q & 0xfu) | (((qh >> j) & 1u) << 4));
                v[j + 16u] = d * float((q >> 4) | (((qh >> (j + 16u)) & 1u) << 4));
        }
        return rf16(b + 2u);
#elif defined(TYPE_Q8_0)
        uint b = r0 + u * 34u;
        float d = rf16(b);
        [[unroll]] for (uint j = 0u; j < 32u; j++)
                v[j] = d * float(rs8(b + 2u + j));
        return 0.0;
#elif defined(TYPE_Q2_K)
        uint b = r0 + (u >> 3) * 84u, s = u & 7u;
        float d = rf16(b + 80u), dmin = rf16(b + 82u);
        /* element e = 32s + l: qs[32*(e/128) + l] >> (2*((e/32)%4)) */
        uint h = s >> 2, sh = 2u * (s & 3u);
        [[unroll]] for (uint l = 0u; l < 32u; l++) {
                uint g = (32u * s + l) >> 4;
                uint sc = rb(b + g);
                uint q = (rb(b + 16u + 32u * h + l) >> sh) & 3u;
                v[l] = d * float(sc & 0xfu) * float(q) - dmin * float(sc >> 4);
        }
        return 0.0;
#elif defined(TYPE_Q3_K)
        uint b = r0 + (u >> 3) * 110u, s = u & 7u;
        float d = rf16(b + 108u);
        uint h = s >> 2, sh = 2u * (s & 3u);
        [[unroll]] for (uint l = 0u; l < 32u; l++) {
                uint e = 32u * s + l, g = e >> 4;
                uint lo = g < 8u ? (rb(b + 96u + g) & 0xfu) : (rb(b + 96u + g - 8u) >> 4);
                uint hi = (rb(b + 96u + 8u + (g & 3u)) >> (2u * (g >> 2))) & 3u;
                int sc = int(lo | (hi << 4)) - 32;
                int q = int((rb(b + 32u + 32u * h + l) >> sh) & 3u) -
                        (((rb(b + (e & 31u)) >> (e >> 5)) & 1u) != 0u ? 0 : 4);
                v[l] = d * float(sc) * float(q);
        }
        return 0.0;
#elif defined(TYPE_Q4_K)
        uint b = r0 + (u >> 3) * 144u, j = u & 7u;
        float d = rf16(b), dmin = rf16(b + 2u), sc, m;
        k4_scale_min(b + 4u, j, sc, m);
        float d1 = d * sc, m1 = dmin * m;
        uint qb = b + 16u + 32u * (j >> 1), sh = 4u * (j & 1u);
        [[unroll]] for (uint l = 0u; l < 32u; l++)
                v[l] = d1 * float((rb(qb + l) >> sh) & 0xfu) - m1;
        return 0.0;
#elif defined(TYPE_Q5_K)
        uint b = r0 + (u >> 3) * 176u, j = u & 7u;
        float d = rf16(b), dmin = rf16(b + 2u), sc, m;
        k4_scale_min(b + 4u, j, sc, m);
        float d1 = d * sc, m1 = dmin * m;
        uint qb = b + 48u + 32u * (j >> 1), sh = 4u * (j & 1u);
        [[unroll]] for (uint l = 0u; l < 32u; l++) {
                uint q = ((rb(qb + l) >> sh) & 0xfu) | (((rb(b + 16u + l) >> j) & 1u) << 4);
                v[l] = d1 * float(q) - m1;
        }
        return 0.0;
#elif defined(TYPE_Q6_K)
        uint b = r0 + (u >> 3) * 210u, s = u & 7u;
        float d = rf16(b + 208u);
        uint h = s >> 2, k = s & 3u;
        uint ql = b + 64u * h + 32u * (k & 1u), qh = b + 128u + 32u * h;
        uint qsh = 4u * (k >> 1), hsh = 2u * k;
        [[unroll]] for (uint l = 0u; l < 32u; l++) {
                uint g = 8u * h + 2u * k + (l >> 4);
                int q = int(((rb(ql + l) >> qsh) & 0xfu) | (((rb(qh + l) >> hsh) & 3u) << 4)) - 32;
                v[l] = d * float(rs8(b + 192u + g)) * float(q);
        }
        return 0.0;
#else
#error "define TYPE_xxx"
#endif
}

float lanes8_sum(float a[8])
{
        precise float r0 = a[4] + a[0], r1 = a[5] + a[1], r2 = a[6] + a[2], r3 = a[7] + a[3];
        precise float v = (r0 + r2) + (r1 + r3);
        return v;
}

#if defined(TYPE_Q4_0) || defined(TYPE_Q4_1) || defined(TYPE_Q5_0) || defined(TYPE_Q5_1) || \
    defined(TYPE_Q8_0)
#define LANES32
/* codes of 32-block u of the row at byte r0, its scale d and min m */
void codes32(uint r0, uint u, out int c[32], out float d, out float m)
{
        m = 0.0;
#if defined(TYPE_Q4_0)
        uint b = r0 + u * 18u;
        d = rf16(b);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 2u + j);
                c[j] = int(q & 0xfu) - 8;
                c[j + 16u] = int(q >> 4) - 8;
        }
#elif defined(TYPE_Q4_1)
        uint b = r0 + u * 20u;
        d = rf16(b);
        m = rf16(b + 2u);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 4u + j);
                c[j] = int(q & 0xfu);
                c[j + 16u] = int(q >> 4);
        }
#elif defined(TYPE_Q5_0)
        uint b = r0 + u * 22u;
        d = rf16(b);
        uint qh = r32(b + 2u);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 6u + j);
                c[j] = int((q & 0xfu) | (((qh >> j) & 1u) << 4)) - 16;
                c[j + 16u] = int((q >> 4) | (((qh >> (j + 16u)) & 1u) << 4)) - 16;
        }
#elif defined(TYPE_Q5_1)
        uint b = r0 + u * 24u;
        d = rf16(b);
        m = rf16(b + 2u);
        uint qh = r32(b + 4u);
        [[unroll]] for (uint j = 0u; j < 16u; j++) {
                uint q = rb(b + 8u + j);
                c[j] = int((q & 0xfu) | (((qh >> j) & 1u) << 4));
                c[j + 16u] = int((q >> 4) | (((qh >> (j + 16u)) & 1u) << 4));
        }
#else
        uint b = r0 + u * 34u;
        d = rf16(b);
        [[unroll]] for (uint j = 0u; j < 32u; j++)
                c[j] = rs8(b + 2u + j);
#endif
}
#endif

void main()
{
        uint r = (gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x) * 64u +
                 gl_LocalInvocationID.x;
        if (r >= pc.nrows)
                return;
        uint t0 = gl_WorkGroupID.y * NT;
        uint nt = min(uint(NT), pc.ntok - t0);
        uint r0 = pc.woff + r * pc.row_bytes;
#if defined(TYPE_F32) || defined(TYPE_F16) || defined(TYPE_BF16)
        /* float rows may have any length: one element at a time, token by
         * token; the CPU sums exact products in double */
        for (uint t = 0u; t < nt; t++) {
                vec2 acc = vec2(0.0);
                uint xb = pc.xoff + (t0 + t) * pc.ncols;
                for (uint c = 0u; c < pc.ncols; c++) {
#if defined(TYPE_F32)
                        float wv = uintBitsToFloat(w[(r0 >> 2) + c]);
#elif defined(TYPE_F16)
                        float wv = rf16(r0 + 2u * c);
#else
                        float wv = uintBitsToFloat(r16(r0 + 2u * c) << 16);
#endif
                        acc = ff_add(acc, ff_prod(wv, x[xb + c]));
                }
                y[pc.yoff + (t0 + t) * pc.ystride + r] = ff_round(acc);
        }
#elif defined(LANES32)
        uint nunits = pc.ncols / 32u;
        float acc[NT][8], summ[NT];
        int c[32];
        [[unroll]] for (uint t = 0u; t < NT; t++) {
                summ[t] = 0.0;
                [[unroll]] for (uint l = 0u; l < 8u; l++)
                        acc[t][l] = 0.0;
        }
        for (uint u = 0u; u < nunits; u++) {
                float d, m;
                codes32(r0, u, c, d, m);
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                        if (t >= nt)
                                break;
                        uint tok = t0 + t, xb = pc.xoff + tok * pc.ncols + u * 32u;
                        uint sb = pc.xsoff + 2u * (tok * nunits + u);
                        precise float dd = d * xs[sb];
                        [[unroll]] for (uint l = 0u; l < 8u; l++) {
                                int is = 0;
                                [[unroll]] for (uint j = 4u * l; j < 4u * l + 4u; j++)
                                        is += c[j] * int(x[xb + j]);
                                acc[t][l] = fma_rn(dd, i2f(is), acc[t][l]);
                        }
#if defined(TYPE_Q4_1) || defined(TYPE_Q5_1)
                        precise float ms = m * xs[sb + 1u];
                        precise float sm = summ[t] + ms;
                        summ[t] = sm;
#endif
                }
        }
        [[unroll]] for (uint t = 0u; t < NT; t++) {
                if (t < nt) {
                        precise float v = lanes8_sum(acc[t]) + summ[t];
                        y[pc.yoff + (t0 + t) * pc.ystride + r] = v;
                }
        }
#elif defined(TYPE_Q4_K)
        /* token by token (a row's codes decoded again for each) */
        uint nsb = pc.ncols / 256u;
        for (uint t = 0u; t < nt; t++) {
                uint tok = t0 + t, span = tok < pc.ntok4 ? 2u : 8u;
                float acc = 0.0, accm = 0.0;
                int is = 0, ms = 0;
                for (uint sbi = 0u; sbi < nsb; sbi++) {
                        uint b = r0 + sbi * 144u;
                        float d = rf16(b), dmin = rf16(b + 2u);
                        float d8 = xs[pc.xsoff + tok * nsb + sbi];
                        precise float dd = d * d8, dm = dmin * d8;
                        for (uint j = 0u; j < 8u; j++) {
                                float scf, mf;
                                k4_scale_min(b + 4u, j, scf, mf);
                                uint qb = b + 16u + 32u * (j >> 1), sh = 4u * (j & 1u);
                                uint xb = pc.xoff + tok * pc.ncols + sbi * 256u + 32u * j;
                                int gs = 0, bs = 0;
                                [[unroll]] for (uint l = 0u; l < 32u; l++) {
                                        int q8 = int(x[xb + l]);
                                        gs += int((rb(qb + l) >> sh) & 0xfu) * q8;
                                        bs += q8;
                                }
                                is += int(scf) * gs;
                                ms += int(mf) * bs;
                                if ((j + 1u) % span == 0u) {
                                        acc = fma_rn(i2f(is), dd, acc);
                                        accm = fma_rn(i2f(ms), dm, accm);
                                        is = ms = 0;
                                }
                        }
                }
                precise float v = acc - accm;
                y[pc.yoff + tok * pc.ystride + r] = v;
        }
#elif defined(TYPE_Q6_K)
        /* token by token (a row's codes decoded again for each) */
        uint nsb = pc.ncols / 256u;
        for (uint t = 0u; t < nt; t++) {
                float acc[8];
                for (uint l = 0u; l < 8u; l++)
                        acc[l] = 0.0;
                for (uint sbi = 0u; sbi < nsb; sbi++) {
                        uint b = r0 + sbi * 210u;
                        int ln[8];
                        for (uint l = 0u; l < 8u; l++)
                                ln[l] = 0;
                        for (uint s = 0u; s < 8u; s++) {
                                uint h = s >> 2, k = s & 3u;
                                uint ql = b + 64u * h + 32u * (k & 1u), qh = b + 128u + 32u * h;
                                uint qsh = 4u * (k >> 1), hsh = 2u * k;
                                int sc0 = rs8(b + 192u + 2u * s), sc1 = rs8(b + 192u + 2u * s + 1u);
                                uint xb = pc.xoff + (t0 + t) * pc.ncols + sbi * 256u + 32u * s;
                                int b0 = 0, b1 = 0;
                                [[unroll]] for (uint l = 0u; l < 8u; l++) {
                                        int v = 0;
                                        [[unroll]] for (uint i = 0u; i < 4u; i++) {
                                                uint e = 4u * l + i;
                                                /* sc * (q + 32), q + 32 the unsigned 6-bit code */
                                                int c = (e < 16u ? sc0 : sc1) *
                                                        int(((rb(ql + e) >> qsh) & 0xfu) |
                                                            (((rb(qh + e) >> hsh) & 3u) << 4));
                                                int q8 = int(x[xb + e]);
                                                v += c * q8;
                                                if (e < 16u)
                                                        b0 += q8;
                                                else
                                                        b1 += q8;
                                        }
                                        ln[l] += v;
                                }
                                ln[s] -= 32 * (b0 * sc0 + b1 * sc1);
                        }
                        precise float d = xs[pc.xsoff + (t0 + t) * nsb + sbi] * rf16(b + 208u);
                        for (uint l = 0u; l < 8u; l++)
                                acc[l] = fma_rn(d, i2f(ln[l]), acc[l]);
                }
                y[pc.yoff + (t0 + t) * pc.ystride + r] = lanes8_sum(acc);
        }
#else
        /* Q2_K, Q3_K, Q5_K: dequantized, float sums (activations d * code) */
        uint nunits = pc.ncols / 32u, nsb = pc.ncols / 256u;
        float v[32], acc[NT];
        [[unroll]] for (uint t = 0u; t < NT; t++)
                acc[t] = 0.0;
        for (uint u = 0u; u < nunits; u++) {
                dequant32(r0, u, v);
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                        if (t >= nt)
                                break;
                        uint xb = pc.xoff + (t0 + t) * pc.ncols + u * 32u;
                        float d8 = xs[pc.xsoff + (t0 + t) * nsb + u / 8u];
                        float s = 0.0;
                        [[unroll]] for (uint j = 0u; j < 32u; j++)
                                s += v[j] * (d8 * x[xb + j]);
                        acc[t] += s;
                }
        }
        [[unroll]] for (uint t = 0u; t < NT; t++)
                if (t < nt)
                        y[pc.yoff + (t0 + t) * pc.ystride + r] = acc[t];
#endif
}
