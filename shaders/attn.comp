#version 450
/* attn.comp -- causal attention of n_tok queries at positions p0 + t over
 * the device K/V cache (fp16 or f32 rows), one workgroup per (token, head),
 * with the CPU's roundings (src/engine/forward.c attn_head):
 *   - f16 mode (an fp16 cache, hdk % 64 == 0, hdv % 16 == 0), as attn_f16.c:
 *     q (times qmul, for models whose graph scales q first) rounded to f16,
 *     scores summed in ggml_vec_dot_f16's lane order, times sscale (and
 *     soft-capped), online softmax over positions in order with the V sum
 *     kept in f16 (every rescale and FMA rounded back), out = acc / S;
 *   - otherwise: q * sscale, scores summed as the CPU's vec_dot in double
 *     (float-float), online softmax with an f32 V sum.
 * exp is glibc's expf (common.glsl), divisions correctly rounded; the
 * soft-cap's tanh is the device's (not the CPU's bits).  Scores go through
 * a scratch buffer (n_ctx floats per workgroup).  Sliding window: positions
 * > pos - n_swa only. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BQ { float q[]; };
layout(std430, binding = 1) readonly buffer BK { uint kc[]; };
layout(std430, binding = 2) readonly buffer BV { uint vc[]; };
layout(std430, binding = 3) readonly buffer BP { uint prm[]; };
layout(std430, binding = 4) writeonly buffer BO { float o[]; };
layout(std430, binding = 5) buffer BS { float sc[]; };
layout(push_constant) uniform PC {
        uint nhead, group, hdk, hdv, kdim, vdim, f16, n_swa, sstride, mode;
        float qmul, sscale, cap;
} pc;

shared float qs[256];

float kval(uint row, uint e)
{
        if (pc.f16 != 0u) {
                uint wd = kc[(row * pc.kdim + e) >> 1];
                return unpackHalf2x16(wd)[e & 1u];
        }
        return uintBitsToFloat(kc[row * pc.kdim + e]);
}

float vval(uint row, uint e)
{
        if (pc.f16 != 0u) {
                uint wd = vc[(row * pc.vdim + e) >> 1];
                return unpackHalf2x16(wd)[e & 1u];
        }
        return uintBitsToFloat(vc[row * pc.vdim + e]);
}

/* attn_f16.c's dot_f16: four 16-lane accumulators over steps of 64,
 * (0 + 2) + (1 + 3), then lanes halved 16 -> 1 (products of f16 are exact) */
float dot_f16(uint p, uint kb)
{
        float acc[64], r[16];
        for (uint j = 0u; j < 64u; j++)
                acc[j] = 0.0;
        for (uint i = 0u; i < pc.hdk; i += 64u)
                for (uint j = 0u; j < 64u; j++) {
                        precise float s = acc[j] + kval(p, kb + i + j) * qs[i + j];
                        acc[j] = s;
                }
        for (uint l = 0u; l < 16u; l++) {
                precise float v = (acc[l] + acc[32u + l]) + (acc[16u + l] + acc[48u + l]);
                r[l] = v;
        }
        for (uint w = 8u; w >= 1u; w /= 2u)
                for (uint l = 0u; l < w; l++) {
                        precise float v = r[l] + r[l + w];
                        r[l] = v;
                }
        return r[0];
}

float dot_double(uint p, uint kb)
{
        vec2 s = vec2(0.0);
        for (uint i = 0u; i < pc.hdk; i++)
                s = ff_add(s, ff_prod(kval(p, kb + i), qs[i]));
        return ff_round(s);
}

void main()
{
        uint t = gl_WorkGroupID.x / pc.nhead, h = gl_WorkGroupID.x % pc.nhead;
        uint tid = gl_LocalInvocationID.x, kvh = h / pc.group;
        uint pos = prm[0] + t;
        uint lo = (pc.n_swa > 0u && pos + 1u > pc.n_swa) ? pos + 1u - pc.n_swa : 0u;
        uint sb = gl_WorkGroupID.x * pc.sstride;
        uint qb = (t * pc.nhead + h) * pc.hdk;
        const bool f16m = pc.mode != 0u;

        for (uint i = tid; i < pc.hdk; i += 64u) {
                precise float v = q[qb + i] * (f16m ? pc.qmul : pc.sscale);
                qs[i] = f16m ? f16_round(v) : v;
        }
        barrier();
        for (uint p = lo + tid; p <= pos; p += 64u) {
                float s;
                if (f16m) {
                        precise float v = dot_f16(p, kvh * pc.hdk) * pc.sscale;
                        s = v;
                        if (pc.cap > 0.0) {
                                precise float c = pc.cap * tanh(s);
                                s = c;
                        }
                } else {
                        s = dot_double(p, kvh * pc.hdk);
                        if (pc.cap > 0.0) {
                                precise float c = tanh(div_rn(s, pc.cap)) * pc.cap;
                                s = c;
                        }
                }
                sc[sb + p] = s;
        }
        memoryBarrierBuffer();
        barrier();
        /* the online softmax in position order; each thread keeps its own
         * elements of the V sum (every thread computes the same weights) */
        float acc[4];
        for (uint k = 0u; k < 4u; k++)
                acc[k] = 0.0;
        float m = uintBitsToFloat(0xff800000u), l = 0.0;
        uint vb = kvh * pc.hdv;
        for (uint p = lo; p <= pos; p++) {
                float s = sc[sb + p];
                if (f16m) {
                        float ms = 1.0, vs = 1.0;
                        if (s > m) {
                                ms = expf_glibc(m - s);
                                m = s;
                                for (uint k = 0u; k < 4u; k++) {
                                        precise float a = acc[k] * ms;
                                        acc[k] = f16_round(a);
                                }
                        } else {
                                vs = expf_glibc(s - m);
                        }
                        for (uint k = 0u; k < 4u; k++) {
                                uint i = tid + 64u * k;
                                if (i < pc.hdv) {
                                        precise float a = fma_rn(vval(p, vb + i), vs, acc[k]);
                                        acc[k] = f16_round(a);
                                }
                        }
                        precise float nl = l * ms + vs;
                        l = nl;
                } else {
                        if (s > m) {
                                float r = expf_glibc(m - s);
                                for (uint k = 0u; k < 4u; k++) {
                                        precise float a = acc[k] * r;
                                        acc[k] = a;
                                }
                                precise float nl = l * r;
                                l = nl;
                                m = s;
                        }
                        float w = expf_glibc(s - m);
                        precise float nl = l + w;
                        l = nl;
                        for (uint k = 0u; k < 4u; k++) {
                                uint i = tid + 64u * k;
                                if (i < pc.hdv) {
                                        precise float pr = w * vval(p, vb + i);
                                        precise float a = acc[k] + pr;
                                        acc[k] = a;
                                }
                        }
                }
        }
        float inv = l == 0.0 ? 0.0 : div_rn(1.0, l);
        uint ob = (t * pc.nhead + h) * pc.hdv;
        for (uint k = 0u; k < 4u; k++) {
                uint i = tid + 64u * k;
                if (i < pc.hdv) {
                        precise float v = acc[k] * inv;
                        o[ob + i] = v;
                }
        }
}
