#version 450
/* rmsnorm.comp -- y = x / rms(x) * w over rows of n floats (w optional);
 * one workgroup per row; y may alias x.  As ops.c's op_rmsnorm: the float
 * squares summed in double (float-float here), scale = 1 / sqrtf(sum / n +
 * eps) correctly rounded, y = (x * scale) * w. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer BX { float x[]; };
layout(std430, binding = 1) buffer BY { float y[]; };
layout(std430, binding = 2) readonly buffer BW { float w[]; };
layout(push_constant) uniform PC { uint n, xoff, xstride, yoff, ystride, woff, has_w; float eps; } pc;

shared vec2 red[64];

void main()
{
        uint row = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
        uint xb = pc.xoff + row * pc.xstride, yb = pc.yoff + row * pc.ystride;
        vec2 s = vec2(0.0);
        for (uint i = tid; i < pc.n; i += 64u) {
                precise float sq = x[xb + i] * x[xb + i];
                s = ff_add(s, vec2(sq, 0.0));
        }
        red[tid] = s;
        barrier();
        for (uint k = 32u; k > 0u; k >>= 1) {
                if (tid < k)
                        red[tid] = ff_add(red[tid], red[tid + k]);
                barrier();
        }
        precise float v = ff_div(red[0], float(pc.n)) + pc.eps;
        float scale = div_rn(1.0, sqrt_rn(v));
        barrier();  /* y may alias x: every thread has read its x */
        for (uint i = tid; i < pc.n; i += 64u) {
                precise float a = x[xb + i] * scale;
                precise float b = a * w[pc.woff + i];
                y[yb + i] = pc.has_w != 0u ? b : a;
        }
}
