#version 450
/* rmsnorm.comp -- y = x / rms(x) * w over rows of n floats (w optional);
 * one workgroup per row; y may alias x. */
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer BX { float x[]; };
layout(std430, binding = 1) buffer BY { float y[]; };
layout(std430, binding = 2) readonly buffer BW { float w[]; };
layout(push_constant) uniform PC { uint n, xoff, xstride, yoff, ystride, woff, has_w; float eps; } pc;

shared float red[64];

void main()
{
        uint row = gl_WorkGroupID.x, tid = gl_LocalInvocationID.x;
        uint xb = pc.xoff + row * pc.xstride, yb = pc.yoff + row * pc.ystride;
        float s = 0.0;
        for (uint i = tid; i < pc.n; i += 64u)
                s += x[xb + i] * x[xb + i];
        red[tid] = s;
        barrier();
        for (uint k = 32u; k > 0u; k >>= 1) {
                if (tid < k)
                        red[tid] += red[tid + k];
                barrier();
        }
        float scale = 1.0 / sqrt(red[0] / float(pc.n) + pc.eps);
        for (uint i = tid; i < pc.n; i += 64u) {
                float v = x[xb + i] * scale;
                y[yb + i] = pc.has_w != 0u ? v * w[pc.woff + i] : v;
        }
}
