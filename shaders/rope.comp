#version 450
/* rope.comp -- rotate the first n_rot elements of each head of n_tok rows
 * at positions p0 + t, with (cos, sin) pairs from a table the host filled
 * with the CPU's own op_rope_cache (identical angles; no GPU sin/cos). */
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) buffer BX { float x[]; };
layout(std430, binding = 1) readonly buffer BC { float cs[]; };
layout(std430, binding = 2) readonly buffer BP { uint prm[]; };
layout(push_constant) uniform PC { uint ntok, nhead, hd, nrot, neox, xoff, csoff; } pc;

void main()
{
        uint half_ = pc.nrot / 2u;
        uint i = gl_GlobalInvocationID.x;
        if (i >= pc.ntok * pc.nhead * half_)
                return;
        uint k = i % half_, th = i / half_, t = th / pc.nhead;
        uint pos = prm[0] + t;
        uint base = pc.xoff + th * pc.hd;
        float c = cs[pc.csoff + pos * pc.nrot + 2u * k], s = cs[pc.csoff + pos * pc.nrot + 2u * k + 1u];
        uint a = pc.neox != 0u ? base + k : base + 2u * k;
        uint b = pc.neox != 0u ? base + k + half_ : base + 2u * k + 1u;
        float x0 = x[a], x1 = x[b];
        /* as ops.c's op_rope_apply: one FMA each */
        precise float x1s = x1 * s, x1c = x1 * c;
        float ra = fma_rn(x0, c, -x1s), rb = fma_rn(x0, s, x1c);
        x[a] = ra;
        x[b] = rb;
}
