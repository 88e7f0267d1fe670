/* json_regex.c -- a pattern subset compiled to a position (Glushkov)
 * automaton; see json_regex.h.
 *
 * Parse to a tree (leaves are character classes, inner nodes concatenation,
 * alternation, star, plus, optional; {n,m} is expanded by copying), number
 * the leaves (positions), then the classic sets: nullable, first, last of
 * every node and follow of every position.  A step from live set S over
 * symbol c goes to (S empty and not started ? first : union of follow(p),
 * p in S) restricted to the positions whose class has c. */
#include <stdlib.h>
#include <string.h>

#include "engine/json_regex.h"
#include "mullama/mullama.h"

#define MAX_NODES 1024

enum { N_CH, N_CAT, N_ALT, N_STAR, N_PLUS, N_OPT, N_EMPTY };

struct cls {
        uint64_t b[2];  /* ASCII 0..127 */
        int na;         /* non-ASCII characters */
};

struct rnode {
        int type, a, b;
        struct cls c;
        int pos;
};

struct json_regex {
        uint64_t first, last;
        int nullable;
        uint64_t follow[JSON_REGEX_MAX_POS];
        uint64_t sym[JSON_REGEX_NONASCII + 1];  /* positions matching symbol */
};

struct parser {
        const char *p;
        struct rnode n[MAX_NODES];
        int nn;
        int bad;
};

static int mk(struct parser *ps, int type, int a, int b)
{
        if (ps->nn >= MAX_NODES) {
                ps->bad = 1;
                return 0;
        }
        struct rnode *n = &ps->n[ps->nn];
        memset(n, 0, sizeof(*n));
        n->type = type;
        n->a = a;
        n->b = b;
        return ps->nn++;
}

static void cls_set(struct cls *c, int ch) { c->b[ch >> 6] |= 1ull << (ch & 63); }
static void cls_range(struct cls *c, int lo, int hi)
{
        for (int i = lo; i <= hi && i < 128; i++)
                cls_set(c, i);
}
static void cls_or(struct cls *c, const struct cls *d)
{
        c->b[0] |= d->b[0];
        c->b[1] |= d->b[1];
        c->na |= d->na;
}
static void cls_not(struct cls *c)
{
        c->b[0] = ~c->b[0];
        c->b[1] = ~c->b[1];
        c->na = !c->na;
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* An escape after '\' (ps->p at the letter): its class. */
static void escape_cls(struct parser *ps, struct cls *c)
{
        int e = (unsigned char)*ps->p;
        struct cls t = {{0, 0}, 0};

        if (!e) {
                ps->bad = 1;
                return;
        }
        ps->p++;
        switch (e) {
        case 'd': case 'D':
                cls_range(&t, '0', '9');
                break;
        case 'w': case 'W':
                cls_range(&t, 'a', 'z');
                cls_range(&t, 'A', 'Z');
                cls_range(&t, '0', '9');
                cls_set(&t, '_');
                break;
        case 's': case 'S':
                cls_set(&t, ' ');
                cls_range(&t, '\t', '\r');
                break;
        case 't': cls_set(&t, '\t'); break;
        case 'n': cls_set(&t, '\n'); break;
        case 'r': cls_set(&t, '\r'); break;
        case 'f': cls_set(&t, '\f'); break;
        case 'v': cls_set(&t, '\v'); break;
        case 'u': case 'x': {
                int n = e == 'u' ? 4 : 2, v = 0;
                for (int i = 0; i < n; i++) {
                        int h = hexval((unsigned char)ps->p[i]);
                        if (h < 0) {
                                ps->bad = 1;
                                return;
                        }
                        v = v * 16 + h;
                }
                ps->p += n;
                if (v < 128)
                        cls_set(&t, v);
                else
                        t.na = 1;
                break;
        }
        default:
                /* letters and digits are classes or references we lack */
                if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9') ||
                    e >= 128) {
                        ps->bad = 1;
                        return;
                }
                cls_set(&t, e);
        }
        if (e == 'D' || e == 'W' || e == 'S')
                cls_not(&t);
        cls_or(c, &t);
}

/* One character of the pattern as a class (a UTF-8 sequence is one
 * non-ASCII character). */
static void char_cls(struct parser *ps, struct cls *c)
{
        unsigned char ch = (unsigned char)*ps->p++;

        if (ch < 128) {
                cls_set(c, ch);
                return;
        }
        c->na = 1;
        while (((unsigned char)*ps->p & 0xC0) == 0x80)
                ps->p++;
}

static int parse_class(struct parser *ps)
{
        struct cls c = {{0, 0}, 0};
        int neg = 0, first = 1;

        if (*ps->p == '^') {
                neg = 1;
                ps->p++;
        }
        while (*ps->p && (*ps->p != ']' || first)) {
                struct cls one = {{0, 0}, 0};
                int lo = -1;
                first = 0;
                if (*ps->p == '\\') {
                        ps->p++;
                        if (*ps->p == 'b') { /* backspace inside a class */
                                ps->p++;
                                cls_set(&one, 8);
                        } else {
                                escape_cls(ps, &one);
                        }
                } else {
                        lo = (unsigned char)*ps->p;
                        char_cls(ps, &one);
                        if (lo >= 128)
                                lo = -1;
                }
                if (ps->bad)
                        return 0;
                if (lo >= 0 && ps->p[0] == '-' && ps->p[1] && ps->p[1] != ']') {
                        int hi = (unsigned char)ps->p[1];
                        if (hi == '\\' || hi >= 128 || hi < lo) {
                                ps->bad = 1;
                                return 0;
                        }
                        ps->p += 2;
                        cls_range(&one, lo, hi);
                }
                cls_or(&c, &one);
        }
        if (*ps->p != ']') {
                ps->bad = 1;
                return 0;
        }
        ps->p++;
        if (neg)
                cls_not(&c);
        int id = mk(ps, N_CH, -1, -1);
        ps->n[id].c = c;
        return id;
}

static int parse_alt(struct parser *ps);

static int parse_atom(struct parser *ps)
{
        int id;

        switch (*ps->p) {
        case '(':
                ps->p++;
                if (ps->p[0] == '?') {
                        if (ps->p[1] != ':') {
                                ps->bad = 1;  /* lookaround, named groups */
                                return 0;
                        }
                        ps->p += 2;
                }
                id = parse_alt(ps);
                if (*ps->p != ')') {
                        ps->bad = 1;
                        return 0;
                }
                ps->p++;
                return id;
        case '[':
                ps->p++;
                return parse_class(ps);
        case '.':
                ps->p++;
                id = mk(ps, N_CH, -1, -1);
                cls_range(&ps->n[id].c, 0, 127);
                ps->n[id].c.b[0] &= ~(1ull << '\n');
                ps->n[id].c.na = 1;
                return id;
        case '\\':
                ps->p++;
                id = mk(ps, N_CH, -1, -1);
                escape_cls(ps, &ps->n[id].c);
                return id;
        case '^': case '$': case '*': case '+': case '?': case '{': case ')': case '|':
                ps->bad = 1;
                return 0;
        default:
                id = mk(ps, N_CH, -1, -1);
                char_cls(ps, &ps->n[id].c);
                return id;
        }
}

static int clone(struct parser *ps, int id)
{
        struct rnode src = ps->n[id];
        int c = mk(ps, src.type, -1, -1);

        if (ps->bad)
                return 0;
        ps->n[c].c = src.c;
        if (src.a >= 0 && src.type != N_CH && src.type != N_EMPTY)
                ps->n[c].a = clone(ps, src.a);
        if (src.b >= 0 && (src.type == N_CAT || src.type == N_ALT))
                ps->n[c].b = clone(ps, src.b);
        return c;
}

static int read_int(struct parser *ps, int *v)
{
        int n = 0, any = 0;

        while (*ps->p >= '0' && *ps->p <= '9') {
                n = n * 10 + (*ps->p++ - '0');
                any = 1;
                if (n > 1000)
                        return -1;
        }
        *v = n;
        return any ? 0 : -1;
}

/* atom{lo,hi} (hi < 0: unbounded) as copies */
static int repeat(struct parser *ps, int atom, int lo, int hi)
{
        int r = -1;

        for (int i = 0; i < lo && !ps->bad; i++) {
                int c = i ? clone(ps, atom) : atom;
                r = r < 0 ? c : mk(ps, N_CAT, r, c);
        }
        if (hi < 0) {
                int c = lo ? clone(ps, atom) : atom;
                c = mk(ps, N_STAR, c, -1);
                r = r < 0 ? c : mk(ps, N_CAT, r, c);
        } else {
                for (int i = lo; i < hi && !ps->bad; i++) {
                        int c = i ? clone(ps, atom) : atom;
                        c = mk(ps, N_OPT, c, -1);
                        r = r < 0 ? c : mk(ps, N_CAT, r, c);
                }
        }
        return r < 0 ? mk(ps, N_EMPTY, -1, -1) : r;
}

static int parse_repeat(struct parser *ps)
{
        int id = parse_atom(ps);

        while (!ps->bad) {
                char q = *ps->p;
                if (q == '*' || q == '+' || q == '?') {
                        ps->p++;
                        id = mk(ps, q == '*' ? N_STAR : q == '+' ? N_PLUS : N_OPT, id, -1);
                } else if (q == '{') {
                        int lo, hi;
                        ps->p++;
                        if (read_int(ps, &lo)) {
                                ps->bad = 1;
                                break;
                        }
                        hi = lo;
                        if (*ps->p == ',') {
                                ps->p++;
                                hi = -1;
                                if (*ps->p != '}' && (read_int(ps, &hi) || hi < lo)) {
                                        ps->bad = 1;
                                        break;
                                }
                        }
                        if (*ps->p != '}') {
                                ps->bad = 1;
                                break;
                        }
                        ps->p++;
                        id = repeat(ps, id, lo, hi);
                } else {
                        break;
                }
                if (*ps->p == '?')  /* lazy: same language */
                        ps->p++;
        }
        return id;
}

static int at_end(const struct parser *ps)
{
        return !*ps->p || *ps->p == '|' || *ps->p == ')' || (ps->p[0] == '$' && !ps->p[1]);
}

static int parse_cat(struct parser *ps)
{
        int r = -1;

        while (!ps->bad && !at_end(ps)) {
                int a = parse_repeat(ps);
                r = r < 0 ? a : mk(ps, N_CAT, r, a);
        }
        return r < 0 ? mk(ps, N_EMPTY, -1, -1) : r;
}

static int parse_alt(struct parser *ps)
{
        int r = parse_cat(ps);

        while (!ps->bad && *ps->p == '|') {
                ps->p++;
                r = mk(ps, N_ALT, r, parse_cat(ps));
        }
        return r;
}

/* ---- position automaton -------------------------------------------------- */

struct sets {
        int nullable;
        uint64_t first, last;
};

static struct sets build(struct json_regex *r, struct parser *ps, int id)
{
        struct rnode *n = &ps->n[id];
        struct sets s = {0, 0, 0}, a, b;

        switch (n->type) {
        case N_EMPTY:
                s.nullable = 1;
                break;
        case N_CH:
                s.first = s.last = 1ull << n->pos;
                for (int c = 0; c < 128; c++)
                        if ((n->c.b[c >> 6] >> (c & 63)) & 1)
                                r->sym[c] |= s.first;
                if (n->c.na)
                        r->sym[JSON_REGEX_NONASCII] |= s.first;
                break;
        case N_CAT:
                a = build(r, ps, n->a);
                b = build(r, ps, n->b);
                for (int p = 0; p < JSON_REGEX_MAX_POS; p++)
                        if ((a.last >> p) & 1)
                                r->follow[p] |= b.first;
                s.nullable = a.nullable && b.nullable;
                s.first = a.first | (a.nullable ? b.first : 0);
                s.last = b.last | (b.nullable ? a.last : 0);
                break;
        case N_ALT:
                a = build(r, ps, n->a);
                b = build(r, ps, n->b);
                s.nullable = a.nullable || b.nullable;
                s.first = a.first | b.first;
                s.last = a.last | b.last;
                break;
        case N_STAR: case N_PLUS: case N_OPT:
                s = build(r, ps, n->a);
                if (n->type != N_OPT)
                        for (int p = 0; p < JSON_REGEX_MAX_POS; p++)
                                if ((s.last >> p) & 1)
                                        r->follow[p] |= s.first;
                if (n->type != N_PLUS)
                        s.nullable = 1;
                break;
        }
        return s;
}

struct json_regex *json_regex_compile(const char *pattern)
{
        struct parser *ps = mu_xcalloc(1, sizeof(*ps));
        struct json_regex *r = NULL;
        size_t len = strlen(pattern);
        int start = pattern[0] == '^', end = len > 0 && pattern[len - 1] == '$' &&
                                            (len < 2 || pattern[len - 2] != '\\');
        int root, npos = 0;

        ps->p = pattern + start;
        root = parse_alt(ps);
        if (!ps->bad && *ps->p == '$' && end)
                ps->p++;
        if (ps->bad || *ps->p)
                goto out;
        /* a search: any text around an unanchored side */
        if (!start) {
                int any = mk(ps, N_CH, -1, -1);
                cls_range(&ps->n[any].c, 0, 127);
                ps->n[any].c.na = 1;
                root = mk(ps, N_CAT, mk(ps, N_STAR, any, -1), root);
        }
        if (!end) {
                int any = mk(ps, N_CH, -1, -1);
                cls_range(&ps->n[any].c, 0, 127);
                ps->n[any].c.na = 1;
                root = mk(ps, N_CAT, root, mk(ps, N_STAR, any, -1));
        }
        if (ps->bad)
                goto out;
        for (int i = 0; i < ps->nn; i++)
                if (ps->n[i].type == N_CH)
                        ps->n[i].pos = npos++;
        if (npos > JSON_REGEX_MAX_POS)
                goto out;
        r = mu_xcalloc(1, sizeof(*r));
        struct sets s = build(r, ps, root);
        r->first = s.first;
        r->last = s.last;
        r->nullable = s.nullable;
out:
        free(ps);
        return r;
}

void json_regex_free(struct json_regex *r) { free(r); }

int json_regex_step(const struct json_regex *r, uint64_t *set, uint8_t *started, int sym)
{
        uint64_t next = 0;

        if (sym < 0 || sym > JSON_REGEX_NONASCII)
                sym = JSON_REGEX_NONASCII;
        if (!*started) {
                next = r->first;
                *started = 1;
        } else {
                for (uint64_t s = *set; s; s &= s - 1)
                        next |= r->follow[__builtin_ctzll(s)];
        }
        *set = next & r->sym[sym];
        return *set ? 0 : -1;
}

int json_regex_accepts(const struct json_regex *r, uint64_t set, int started)
{
        return started ? (set & r->last) != 0 : r->nullable;
}
