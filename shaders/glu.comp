#version 450
/* glu.comp -- y = act(g) * u for n_tok rows of n (act: SiLU, or GELU through
 * the CPU's fp16 lookup table, uploaded by the host). */
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
                v = a / (1.0 + exp(-a));
        }
        y[pc.yoff + t * pc.ystride + k] = v * u[pc.uoff + t * pc.ustride + k];
}
