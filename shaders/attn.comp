#version 450
/* attn.comp -- causal attention of n_tok queries at positions p0 + t over
 * the device K/V cache (fp16 or f32 rows), one workgroup per (token, head):
 * scores q.k * scale (soft-capped), softmax, weighted sum of V.  Scores go
 * through a scratch buffer (n_ctx floats per workgroup).  Sliding window:
 * positions > pos - n_swa only. */
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer BQ { float q[]; };
layout(std430, binding = 1) readonly buffer BK { uint kc[]; };
layout(std430, binding = 2) readonly buffer BV { uint vc[]; };
layout(std430, binding = 3) readonly buffer BP { uint prm[]; };
layout(std430, binding = 4) writeonly buffer BO { float o[]; };
layout(std430, binding = 5) buffer BS { float sc[]; };
layout(push_constant) uniform PC {
        uint nhead, group, hdk, hdv, kdim, vdim, f16, n_swa, sstride;
        float scale, cap;
} pc;

shared float red[64];
shared float qs[256];

float kval(uint row, uint e)
{
        if (pc.f16 != 0u) {
                uint wd = kc[(row * pc.kdim + e) >> 1];
                return unpackHalf2x16(wd)[e & 1u];
        }
        return uintBitsToFloat(kc[row * pc.kdim + e]);
}

float vval(uint row, uint e)
{
        if (pc.f16 != 0u) {
                uint wd = vc[(row * pc.vdim + e) >> 1];
                return unpackHalf2x16(wd)[e & 1u];
        }
        return uintBitsToFloat(vc[row * pc.vdim + e]);
}

void main()
{
        uint t = gl_WorkGroupID.x / pc.nhead, h = gl_WorkGroupID.x % pc.nhead;
        uint tid = gl_LocalInvocationID.x, kvh = h / pc.group;
        uint pos = prm[0] + t;
        uint lo = (pc.n_swa > 0u && pos + 1u > pc.n_swa) ? pos + 1u - pc.n_swa : 0u;
        uint sb = gl_WorkGroupID.x * pc.sstride;
        uint qb = (t * pc.nhead + h) * pc.hdk;

        for (uint i = tid; i < pc.hdk; i += 64u)
                qs[i] = q[qb + i] * pc.scale;
        barrier();
        float m = -1.0 / 0.0;
        for (uint p = lo + tid; p <= pos; p += 64u) {
                float s = 0.0;
                for (uint i = 0u; i < pc.hdk; i++)
                        s += kval(p, kvh * pc.hdk + i) * qs[i];
                if (pc.cap > 0.0)
                        s = tanh(s / pc.cap) * pc.cap;
                sc[sb + p] = s;
                m = max(m, s);
        }
        red[tid] = m;
        barrier();
        for (uint k = 32u; k > 0u; k >>= 1) {
                if (tid < k)
                        red[tid] = max(red[tid], red[tid + k]);
                barrier();
        }
        m = red[0];
        barrier();
        float l = 0.0;
        for (uint p = lo + tid; p <= pos; p += 64u) {
                float e = exp(sc[sb + p] - m);
                sc[sb + p] = e;
                l += e;
        }
        red[tid] = l;
        memoryBarrierBuffer();
        barrier();
        for (uint k = 32u; k > 0u; k >>= 1) {
                if (tid < k)
                        red[tid] += red[tid + k];
                barrier();
        }
        float inv = 1.0 / red[0];
        uint ob = (t * pc.nhead + h) * pc.hdv;
        for (uint i = tid; i < pc.hdv; i += 64u) {
                float acc = 0.0;
                for (uint p = lo; p <= pos; p++)
                        acc += sc[sb + p] * vval(p, kvh * pc.hdv + i);
                o[ob + i] = acc * inv;
        }
}
