#version 450
/* add.comp -- y[yoff + i] += x[xoff + i % xlen] for i < n (residual adds;
 * biases broadcast over tokens with xlen = row length). */
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer BY { float y[]; };
layout(std430, binding = 1) readonly buffer BX { float x[]; };
layout(push_constant) uniform PC { uint n, yoff, xoff, xlen; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (i < pc.n)
                y[pc.yoff + i] += x[pc.xoff + i % pc.xlen];
}
