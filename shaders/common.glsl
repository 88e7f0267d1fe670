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

/* ---- exact float arithmetic ------------------------------------------------
 * Vulkan lets a / b and sqrt be off by a few ulp (lavapipe's are not always
 * correctly rounded) and lets a * b + c fuse; the CPU's scalar kernels round
 * every operation to nearest even.  These helpers give the CPU's results:
 * every variable is `precise` (no contraction, no reassociation), a quotient
 * or root is corrected with an exact fma residual, and double sums are
 * emulated with float-float pairs (~48 bits; a double result that lies within
 * ~2^-45 of a float rounding boundary may round the other way: measured 0
 * such cases in the kernel tests). */

/* the float next to q in the direction of sign d (q finite, nonzero) */
float f_step(float q, float d)
{
        int b = floatBitsToInt(q);
        return intBitsToFloat((q > 0.0) == (d > 0.0) ? b + 1 : b - 1);
}

/* a * b = h + l exactly (Dekker's product: lavapipe's fma() is not fused,
 * so no exactness may rest on it) */
vec2 two_prod(float a, float b)
{
        precise float p = a * b;
        precise float ca = 4097.0 * a, cb = 4097.0 * b;
        precise float ah = ca - (ca - a), bh = cb - (cb - b);
        precise float al = a - ah, bl = b - bh;
        precise float e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
        return vec2(p, e);
}

/* s + e = a + b exactly */
vec2 ff_two(float a, float b)
{
        precise float s = a + b;
        precise float bb = s - a;
        precise float e = (a - (s - bb)) + (b - bb);
        return vec2(s, e);
}

/* fma(a, b, c) rounded once, as C's fmaf, from float operations alone
 * (Boldo and Melquiond's emulation: the low parts added rounding to odd) */
float fma_rn(float a, float b, float c)
{
        vec2 u = two_prod(a, b);
        if (u.y == 0.0) {
                precise float r = u.x + c;
                return r;
        }
        vec2 t = ff_two(c, u.x);
        vec2 v = ff_two(t.y, u.y);
        float vo = v.x;
        if (v.y != 0.0 && (floatBitsToUint(vo) & 1u) == 0u)
                vo = f_step(vo, v.y);
        precise float r = t.x + vo;
        return r;
}

/* (float)v rounded to nearest even, as C (an int's conversion need not
 * round so on the device): two exactly representable parts */
float i2f(int v)
{
        precise float r = float(v & ~0xfff) + float(v & 0xfff);
        return r;
}

/* a / b rounded to nearest even, as C's float division */
float div_rn(float a, float b)
{
        precise float q = a / b;
        if (q == 0.0 || isinf(q) || isnan(q))
                return q;
        for (int it = 0; it < 2; it++) {
                precise float r = fma_rn(-q, b, a);  /* exact: a - q b */
                if (r == 0.0)
                        return q;
                float qn = f_step(q, r * b);
                precise float rn = fma_rn(-qn, b, a);
                if (abs(rn) >= abs(r))
                        return q;  /* no tie: an exact midpoint has more than 24 bits */
                q = qn;
        }
        return q;
}

/* sqrt(v) rounded to nearest even (v >= 0, normal) */
float sqrt_rn(float v)
{
        precise float s = sqrt(v);
        if (s == 0.0 || isinf(s) || isnan(s))
                return s;
        for (int it = 0; it < 2; it++) {
                /* with r = v - s^2 (exact), u the ulp above s and d below:
                 * sqrt(v) > s + u/2 <=> r - s u > u^2/4,
                 * sqrt(v) < s - d/2 <=> r + s d < d^2/4 */
                precise float u = f_step(s, 1.0) - s, d = s - f_step(s, -1.0);
                precise float r = fma_rn(-s, s, v);
                precise float hi = r - s * u, lo = r + s * d;
                if (hi > u * u * 0.25)
                        s = f_step(s, 1.0);
                else if (lo < d * d * 0.25)
                        s = f_step(s, -1.0);
                else
                        return s;
        }
        return s;
}

/* float-float: x = h + l, |l| <= ulp(h) / 2 */
vec2 ff_fast2(float a, float b)
{
        precise float s = a + b;
        precise float e = b - (s - a);
        return vec2(s, e);
}

vec2 ff_add(vec2 a, vec2 b)
{
        vec2 s = ff_two(a.x, b.x);
        precise float e = s.y + (a.y + b.y);
        return ff_fast2(s.x, e);
}

vec2 ff_prod(float a, float b)  /* exact */
{
        return two_prod(a, b);
}

vec2 ff_mul(vec2 a, vec2 b)
{
        vec2 p = ff_prod(a.x, b.x);
        precise float e = p.y + (a.x * b.y + a.y * b.x);
        return ff_fast2(p.x, e);
}

/* the float nearest h + l */
float ff_round(vec2 a)
{
        precise float s = a.x + a.y;
        return s;
}

/* (h + l) / b rounded to nearest (as (float)(double / b)) */
float ff_div(vec2 a, float b)
{
        precise float q = a.x / b;
        if (q == 0.0 || isinf(q) || isnan(q))
                return q;
        for (int it = 0; it < 3; it++) {
                precise float r = fma_rn(-q, b, a.x) + a.y;
                if (r == 0.0)
                        return q;
                float qn = f_step(q, r * b);
                precise float rn = fma_rn(-qn, b, a.x) + a.y;
                if (abs(rn) >= abs(r))
                        return q;
                q = qn;
        }
        return q;
}

/* ---- expf as glibc computes it ---------------------------------------------
 * glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, ARM optimized routines):
 * k = round(x * 32 / ln2), r = x * 32 / ln2 - k, y = 2^(k/32) (C0 r^3 + C1 r^2
 * + C2 r + 1) in double, rounded to float.  Here the same table and
 * polynomial in float-float, so the result is glibc's unless its double y
 * lies within ~2^-45 of a float rounding boundary. */
const uint EXP2F_T[64] = uint[64](
        0x3f800000u, 0x00000000u, 0x3f82cd87u, 0xb34ea7a9u, 0x3f85aac3u, 0x334f9891u,
        0x3f88980fu, 0xb37eda4bu, 0x3f8b95c2u, 0xb260aba1u, 0x3f8ea43au, 0xb3697465u,
        0x3f91c3d3u, 0x33675624u, 0x3f94f4f0u, 0xb32e0212u, 0x3f9837f0u, 0x33231b71u,
        0x3f9b8d3au, 0xb30c5563u, 0x3f9ef532u, 0x33412342u, 0x3fa27043u, 0x30c3125au,
        0x3fa5fed7u, 0xb32c9d5eu, 0x3fa9a15bu, 0xb3162b08u, 0x3fad583fu, 0xb22deaf6u,
        0x3fb123f6u, 0xb37c5aa8u, 0x3fb504f3u, 0x32cfe77au, 0x3fb8fbafu, 0x330ec5f7u,
        0x3fbd08a4u, 0xb3414fe8u, 0x3fc12c4du, 0xb2d6663eu, 0x3fc5672au, 0x320aa837u,
        0x3fc9b9beu, 0xb37323a2u, 0x3fce248cu, 0x3228fc24u, 0x3fd2a81eu, 0xb35c1daau,
        0x3fd744fdu, 0xb2d4a58au, 0x3fdbfbb8u, 0xb3504a1cu, 0x3fe0ccdfu, 0xb21eab59u,
        0x3fe5b907u, 0xb2441be6u, 0x3feac0c7u, 0xb24116deu, 0x3fefe4bau, 0xb348464au,
        0x3ff5257du, 0x32292436u, 0x3ffa83b3u, 0xb2923758u);

vec2 ffc(uint h, uint l) { return vec2(uintBitsToFloat(h), uintBitsToFloat(l)); }

float expf_glibc(float x)
{
        if (isnan(x))
                return x;
        if (x > 88.72283172607421875)  /* 0x1.62e42ep6 */
                return uintBitsToFloat(0x7f800000u);
        if (x < -103.97208404541015625)  /* 0x1.9fe368p6 */
                return 0.0;
        vec2 z = ff_mul(vec2(x, 0.0), ffc(0x4238aa3bu, 0x35257060u));
        precise float k = roundEven(z.x);
        vec2 r = ff_fast2(z.x - k, z.y);  /* z.x - k exact */
        if (r.x + r.y > 0.5) {
                k += 1.0;
                r = ff_fast2(r.x - 1.0, r.y);
        } else if (r.x + r.y < -0.5) {
                k -= 1.0;
                r = ff_fast2(r.x + 1.0, r.y);
        }
        vec2 c0 = ffc(0x35e357c2u, 0x29391239u), c1 = ffc(0x3975fe73u, 0xacf053b1u),
             c2 = ffc(0x3cb17218u, 0xae73ad2au);
        vec2 zz = ff_add(ff_mul(c0, r), c1);
        vec2 r2 = ff_mul(r, r);
        vec2 y = ff_add(ff_mul(c2, r), vec2(1.0, 0.0));
        y = ff_add(ff_mul(zz, r2), y);
        int ki = int(k);
        int i = ki & 31, e = (ki - i) / 32;
        y = ff_mul(y, ffc(EXP2F_T[2 * i], EXP2F_T[2 * i + 1]));
        return ldexp(ff_round(y), e);
}

/* exp(x) as ggml's AVX-512 ggml_v_expf (ops.c: expf_ggml), all in float */
float expf_ggml(float x)
{
        const float r = uintBitsToFloat(0x4b400000u);  /* 0x1.8p23 */
        precise float z = fma_rn(x, uintBitsToFloat(0x3fb8aa3bu), r);
        precise float n = z - r;
        precise float b = fma_rn(-n, uintBitsToFloat(0x35bfbe8eu), fma_rn(-n, uintBitsToFloat(0x3f317200u), x));
        precise float u = b * b;
        precise float j = fma_rn(fma_rn(fma_rn(uintBitsToFloat(0x3c072010u), b, uintBitsToFloat(0x3d2b9f17u)), u,
                                  fma_rn(uintBitsToFloat(0x3e2aaf33u), b, uintBitsToFloat(0x3efffedbu))),
                             u, fma_rn(uintBitsToFloat(0x3f7ffff6u), b, 1.0));
        if (abs(n) > 192.0)
                return n <= 0.0 ? 0.0 : uintBitsToFloat(0x7f800000u);
        return ldexp(j, int(n));
}
