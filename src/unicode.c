/* unicode.c -- lookups over the generated tables; see unicode.h. */
#include "unicode.h"

unsigned unicode_flags(uint32_t cp)
{
        size_t lo = 0, hi = unicode_n_flag_ranges;

        if (cp >= 0x110000)
                return UNICODE_UNDEFINED;
        while (hi - lo > 1) {  /* last range whose start <= cp */
                size_t mid = (lo + hi) / 2;
                if (unicode_flag_ranges[mid].start <= cp)
                        lo = mid;
                else
                        hi = mid;
        }
        return unicode_flag_ranges[lo].flags;
}

static uint32_t pair_lookup(const struct unicode_pair *t, size_t n, uint32_t cp)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (t[mid].cp == cp)
                        return t[mid].to;
                if (t[mid].cp < cp)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return cp;
}

uint32_t unicode_tolower(uint32_t cp)
{
        if (cp < 0x80)
                return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return pair_lookup(unicode_lower_pairs, unicode_lower_n, cp);
}

uint32_t unicode_nfd_first(uint32_t cp)
{
        size_t lo = 0, hi = unicode_nfd_n;

        if (cp < 0xC0)
                return cp;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cp < unicode_nfd_ranges[mid].first)
                        hi = mid;
                else if (cp > unicode_nfd_ranges[mid].last)
                        lo = mid + 1;
                else
                        return unicode_nfd_ranges[mid].to;
        }
        return cp;
}

uint32_t unicode_decode(const char *s, size_t n, size_t *i)
{
        const unsigned char *p = (const unsigned char *)s + *i;
        size_t left = n - *i, len;
        uint32_t cp, min;

        if (p[0] < 0x80) {
                *i += 1;
                return p[0];
        }
        if ((p[0] & 0xE0) == 0xC0) {
                len = 2, cp = p[0] & 0x1F, min = 0x80;
        } else if ((p[0] & 0xF0) == 0xE0) {
                len = 3, cp = p[0] & 0x0F, min = 0x800;
        } else if ((p[0] & 0xF8) == 0xF0) {
                len = 4, cp = p[0] & 0x07, min = 0x10000;
        } else {
                *i += 1;
                return 0xFFFD;
        }
        if (left < len) {
                *i += 1;
                return 0xFFFD;
        }
        for (size_t k = 1; k < len; k++) {
                if ((p[k] & 0xC0) != 0x80) {
                        *i += 1;
                        return 0xFFFD;
                }
                cp = cp << 6 | (p[k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                *i += 1;
                return 0xFFFD;
        }
        *i += len;
        return cp;
}

size_t unicode_encode(uint32_t cp, char *out)
{
        unsigned char *o = (unsigned char *)out;

        if (cp < 0x80) {
                o[0] = (unsigned char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (unsigned char)(0xC0 | cp >> 6);
                o[1] = (unsigned char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (unsigned char)(0xE0 | cp >> 12);
                o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                o[2] = (unsigned char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (unsigned char)(0xF0 | cp >> 18);
        o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
}
