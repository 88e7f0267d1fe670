#version 450
/* copy.comp -- dst[doff + t*dstride + i] = src[soff + t*sstride + i] for
 * i < n, t < ntok (splitting a fused QKV projection). */
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BS { float s[]; };
layout(std430, binding = 1) writeonly buffer BD { float d[]; };
layout(push_constant) uniform PC { uint n, ntok, soff, sstride, doff, dstride; } pc;

void main()
{
        uint i = gl_GlobalInvocationID.x;
        if (i >= pc.n * pc.ntok)
                return;
        uint t = i / pc.n, k = i % pc.n;
        d[pc.doff + t * pc.dstride + k] = s[pc.soff + t * pc.sstride + k];
}
