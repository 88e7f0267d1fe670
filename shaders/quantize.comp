#version 450
/* quantize.comp -- round activations the way the CPU's matmul quantizes them
 * for its vec_dot_type (-DQ8_0, -DQ8_1 or -DQ8_K), written back as floats
 * (code * scale), so the GPU dot products see the same inputs as the CPU's.
 * One thread per block.  Q8_1 also writes each block's fp16 sum (d * sum q)
 * to xs. */
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
                return;
        }
        float iscale = -127.0 / mx, d = 1.0 / iscale;
        for (uint j = 0u; j < QK; j++)
                xq[qb + j] = d * min(roundEven(iscale * x[xb + j]), 127.0);
#else
        float amax = 0.0;
        for (uint j = 0u; j < QK; j++)
                amax = max(amax, abs(x[xb + j]));
        float d = amax / 127.0, id = d != 0.0 ? 1.0 / d : 0.0, dh = f16_round(d);
        float sum = 0.0;
        for (uint j = 0u; j < QK; j++) {
                float q = round_away(x[xb + j] * id);
                sum += q;
                xq[qb + j] = dh * q;
        }
#if defined(Q8_1)
        xs[pc.soff + b] = f16_round(sum * d);
#endif
#endif
}
