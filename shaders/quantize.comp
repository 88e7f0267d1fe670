#version 450
/* quantize.comp -- quantize activations exactly as the CPU's scalar
 * from_float for the matmul's vec_dot_type (-DQ8_0, -DQ8_1 or -DQ8_K):
 * Q8_0/Q8_1 with llama.cpp's x86 rule (d = amax / 127 stored as f16, codes
 * nearbyint(x * (127 / amax)), halves to even), Q8_K as ggml's reference
 * (iscale = -127 / max, codes nearest, d = 1 / iscale); the divisions
 * correctly rounded (div_rn).  One thread per block.  Codes go to xq (as
 * floats), per-block values to xs: Q8_0/Q8_1 [d, s] (s: the fp16 d * sum of
 * codes, Q8_1), Q8_K [d]. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BX { float x[]; };
layout(std430, binding = 1) writeonly buffer BQ { float xq[]; };
layout(std430, binding = 2) writeonly buffer BS { float xs[]; };
layout(push_constant) uniform PC { uint n, xoff, qoff, soff; } pc;

#if defined(Q8_K)
#define QK 256u
#else
#define QK 32u
#endif

void main()
{
        uint b = gl_GlobalInvocationID.x;
        if (b >= pc.n / QK)
                return;
        uint xb = pc.xoff + b * QK, qb = pc.qoff + b * QK;
#if defined(Q8_K)
        float amax = 0.0, mx = 0.0;
        for (uint j = 0u; j < QK; j++) {
                float a = abs(x[xb + j]);
                if (a > amax) {
                        amax = a;
                        mx = x[xb + j];
                }
        }
        if (amax == 0.0) {
                for (uint j = 0u; j < QK; j++)
                        xq[qb + j] = 0.0;
                xs[pc.soff + b] = 0.0;
                return;
        }
        float iscale = div_rn(-127.0, mx);
        for (uint j = 0u; j < QK; j++) {
                precise float v = iscale * x[xb + j];
                xq[qb + j] = min(roundEven(v), 127.0);
        }
        xs[pc.soff + b] = div_rn(1.0, iscale);
#else
        float amax = 0.0;
        for (uint j = 0u; j < QK; j++)
                amax = max(amax, abs(x[xb + j]));
        float d = div_rn(amax, 127.0), id = amax != 0.0 ? div_rn(127.0, amax) : 0.0;
        float sum = 0.0;
        for (uint j = 0u; j < QK; j++) {
                precise float v = x[xb + j] * id;
                float q = roundEven(v);
                sum += q;
                xq[qb + j] = q;
        }
        xs[pc.soff + 2u * b] = f16_round(d);
#if defined(Q8_1)
        precise float s = sum * d;
        xs[pc.soff + 2u * b + 1u] = f16_round(s);
#endif
#endif
}
