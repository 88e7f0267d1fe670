#version 450
/* mul_mat.comp -- y[t][r] = sum_c W[r][c] * x[t][c] for one weight type
 * (compiled once per type with -DTYPE_xxx).  One thread per row, for up to NT
 * tokens (workgroup y): the row is dequantized 32 elements at a time, once,
 * and dotted with every token's activations (matrix-vector when ntok = 1,
 * matrix-matrix for prompt chunks).  No shared memory, no barriers: simple
 * and fast on CPU implementations (lavapipe), correct everywhere.  x holds
 * activations already rounded the way the CPU's vec_dot_type quantization
 * rounds them; for Q4_1/Q5_1, xs holds the per-block fp16 sums Q8_1 carries. */
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BW { uint w[]; };
layout(std430, binding = 1) readonly buffer BX { float x[]; };
layout(std430, binding = 2) buffer BY { float y[]; };
layout(std430, binding = 3) readonly buffer BS { float xs[]; };
layout(push_constant) uniform PC {
        uint ncols, nrows, ntok, woff, row_bytes, xoff, yoff, ystride, xsoff;
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

void main()
{
        uint r = (gl_WorkGroupID.x + gl_WorkGroupID.z * gl_NumWorkGroups.x) * 64u +
                 gl_LocalInvocationID.x;
        if (r >= pc.nrows)
                return;
        uint t0 = gl_WorkGroupID.y * NT;
        uint nt = min(uint(NT), pc.ntok - t0);
        uint r0 = pc.woff + r * pc.row_bytes;
        float acc[NT];

        [[unroll]] for (uint t = 0u; t < NT; t++)
                acc[t] = 0.0;
#if defined(TYPE_F32) || defined(TYPE_F16) || defined(TYPE_BF16)
        /* float rows may have any length: one element at a time */
        for (uint c = 0u; c < pc.ncols; c++) {
#if defined(TYPE_F32)
                float wv = uintBitsToFloat(w[(r0 >> 2) + c]);
#elif defined(TYPE_F16)
                float wv = rf16(r0 + 2u * c);
#else
                float wv = uintBitsToFloat(r16(r0 + 2u * c) << 16);
#endif
                [[unroll]] for (uint t = 0u; t < NT; t++)
                        if (t < nt)
                                acc[t] += wv * x[pc.xoff + (t0 + t) * pc.ncols + c];
        }
#else
        uint nunits = pc.ncols / 32u;
        float v[32];
        for (uint u = 0u; u < nunits; u++) {
                float mt = dequant32(r0, u, v);
                [[unroll]] for (uint t = 0u; t < NT; t++) {
                        if (t >= nt)
                                break;
                        uint xb = pc.xoff + (t0 + t) * pc.ncols + u * 32u;
                        float s = 0.0;
                        [[unroll]] for (uint j = 0u; j < 32u; j++)
                                s += v[j] * x[xb + j];
#if defined(TYPE_Q4_1) || defined(TYPE_Q5_1)
                        s += mt * xs[pc.xsoff + (t0 + t) * nunits + u];
#endif
                        acc[t] += s;
                }
        }
#endif
        [[unroll]] for (uint t = 0u; t < NT; t++)
                if (t < nt)
                        y[pc.yoff + (t0 + t) * pc.ystride + r] = acc[t];
}
