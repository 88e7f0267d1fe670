#version 450
/* fmath.comp -- the exact-rounding helpers of common.glsl over arrays, for
 * tests/test_vulkan.c to compare with the CPU's float division, sqrtf, glibc's
 * expf and ops.c's expf_ggml: y[i] = op(a[i], b[i]); ops 5-7 the residual
 * a b - fl(a b) from the device's fma(), two_prod and fma_rn. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BA { float a[]; };
layout(std430, binding = 1) readonly buffer BB { float b[]; };
layout(std430, binding = 2) writeonly buffer BY { float y[]; };
layout(push_constant) uniform PC { uint n, op; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (i >= pc.n)
                return;
        float r;
        switch (pc.op) {
        case 0u: r = div_rn(a[i], b[i]); break;
        case 1u: r = sqrt_rn(a[i]); break;
        case 2u: r = expf_glibc(a[i]); break;
        case 3u: r = expf_ggml(a[i]); break;
        case 4u: r = ff_div(vec2(a[i], b[i]), 7.0); break;
        case 5u: { precise float p = a[i] * b[i]; precise float e = fma(a[i], b[i], -p); r = e; } break;
        case 6u: { vec2 p = ff_prod(a[i], b[i]); r = p.y; } break;
        default: { precise float p = a[i] * b[i]; r = fma_rn(a[i], b[i], -p); } break;
        }
        y[i] = r;
}
