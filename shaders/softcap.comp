#version 450
/* softcap.comp -- x = tanh(x / cap) * cap over n floats. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer BX { float x[]; };
layout(push_constant) uniform PC { uint n, xoff; float cap; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (i < pc.n)
                {
                /* as op_softcap: tanhf(x * (1 / cap)) * cap (the device's tanh) */
                precise float a = x[pc.xoff + i] * div_rn(1.0, pc.cap);
                precise float v = tanh(a) * pc.cap;
                x[pc.xoff + i] = v;
        }
}
