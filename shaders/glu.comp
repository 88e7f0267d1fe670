#version 450
/* glu.comp -- y = act(g) * u for n_tok rows of n, as ops.c: GELU through
 * the CPU's fp16 lookup table (uploaded by the host); SiLU g / (1 + exp(-g))
 * with ggml's AVX-512 exp for each row's first n - n % 16 elements
 * (op_silu_mul's groups of 16) and glibc's expf for the rest, the division
 * correctly rounded. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BG { float g[]; };
layout(std430, binding = 1) readonly buffer BU { float u[]; };
layout(std430, binding = 2) writeonly buffer BY { float y[]; };
layout(std430, binding = 3) readonly buffer BT { float gt[]; };
layout(push_constant) uniform PC { uint n, ntok, goff, gstride, uoff, ustride, yoff, ystride, gelu; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (i >= pc.n * pc.ntok)
                return;
        uint t = i / pc.n, k = i % pc.n;
        float a = g[pc.goff + t * pc.gstride + k], v;
        if (pc.gelu != 0u) {
                if (a <= -10.0)
                        v = 0.0;
                else if (a >= 10.0)
                        v = a;
                else
                        v = gt[f32_to_f16(a)];
        } else {
                float e = k < pc.n - pc.n % 16u ? expf_ggml(-a) : expf_glibc(-a);
                precise float den = 1.0 + e;
                v = div_rn(a, den);
        }
        precise float r = v * u[pc.uoff + t * pc.ustride + k];
        y[pc.yoff + t * pc.ystride + k] = r;
}
