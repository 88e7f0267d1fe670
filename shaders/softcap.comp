#version 450
/* softcap.comp -- x = tanh(x / cap) * cap over n floats. */
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer BX { float x[]; };
layout(push_constant) uniform PC { uint n, xoff; float cap; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (i < pc.n)
                x[pc.xoff + i] = tanh(x[pc.xoff + i] / pc.cap) * pc.cap;
}
