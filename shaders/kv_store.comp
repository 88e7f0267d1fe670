#version 450
/* kv_store.comp -- write n_tok rows of dim floats into a cache buffer at
 * rows p0 + t: fp16 (rounded like the CPU's F16 cache) two per word, or f32. */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BX { float x[]; };
layout(std430, binding = 1) writeonly buffer BC { uint c[]; };
layout(std430, binding = 2) readonly buffer BP { uint prm[]; };
layout(push_constant) uniform PC { uint ntok, dim, xoff, f16; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (pc.f16 != 0u) {
                uint hd = pc.dim / 2u;
                if (i >= pc.ntok * hd)
                        return;
                uint t = i / hd, k = i % hd;
                uint row = prm[0] + t;
                float a = x[pc.xoff + t * pc.dim + 2u * k], b = x[pc.xoff + t * pc.dim + 2u * k + 1u];
                c[row * hd + k] = f32_to_f16(a) | (f32_to_f16(b) << 16);
        } else {
                if (i >= pc.ntok * pc.dim)
                        return;
                uint t = i / pc.dim, k = i % pc.dim;
                c[(prm[0] + t) * pc.dim + k] = floatBitsToUint(x[pc.xoff + i]);
        }
}
