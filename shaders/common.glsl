/* common.glsl -- helpers every shader may include: fp16 rounding exactly as
 * the CPU's mu_fp32_to_fp16 (round to nearest even), so values the CPU path
 * stores as F16 (KV cache, Q8 scales) come out bit-identical here. */
uint f32_to_f16(float f)
{
        uint x = floatBitsToUint(f);
        uint sign = (x >> 16) & 0x8000u;
        int e = int((x >> 23) & 0xffu) - 127 + 15;
        uint mant = x & 0x7fffffu;
        if (((x >> 23) & 0xffu) == 0xffu)
                return sign | 0x7c00u | (mant != 0u ? 0x200u : 0u);
        if (e >= 31)
                return sign | 0x7c00u;
        if (e <= 0) {
                if (e < -10)
                        return sign;
                mant |= 0x800000u;
                uint shift = uint(14 - e);
                uint half_ = 1u << (shift - 1u);
                uint r = mant >> shift;
                uint rem = mant & ((1u << shift) - 1u);
                if (rem > half_ || (rem == half_ && (r & 1u) != 0u))
                        r++;
                return sign | r;
        }
        uint r = (uint(e) << 10) | (mant >> 13);
        uint rem = mant & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (r & 1u) != 0u))
                r++;
        return sign | r;
}

float f16_to_f32(uint h)
{
        return unpackHalf2x16(h & 0xffffu).x;
}

float f16_round(float f)
{
        return f16_to_f32(f32_to_f16(f));
}

/* C's roundf: halves away from zero */
float round_away(float v)
{
        return sign(v) * floor(abs(v) + 0.5);
}
