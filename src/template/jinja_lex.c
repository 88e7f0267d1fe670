/* jinja_lex.c -- source preprocessing and tokenizer for Jinja chat templates.
 *
 * Preprocessing reproduces how HF transformers (and @huggingface/jinja)
 * compile chat templates: one trailing newline is dropped; lstrip_blocks
 * removes spaces and tabs between a line start and "{%" / "{#" / "{-";
 * trim_blocks removes the newline right after "%}" / "#}" / "-}"; and
 * {% generation %} / {% endgeneration %} tags vanish (with the whitespace
 * around them when they carry '-').  Each pass keeps a map from every output
 * byte to its offset in the original text, so tokens carry original
 * positions and errors report the real line:col.
 *
 * Tokenizing: text runs until "{{", "{%" or "{#"; "{%-" / "{{-" / "{#-"
 * strip trailing whitespace (Unicode-aware) from the preceding text, and
 * "-%}" / "-}}" / "-#}" skip whitespace after.  {% raw %}...{% endraw %}
 * yields its body as text.  A '+' or '-' where an operand is expected,
 * directly followed by digits, is read as a signed number literal. */
#include <string.h>

#include "template/jinja.h"

struct src {
        char *s;
        size_t *map;
        size_t n;
};

static struct src src_new(struct jctx *c, size_t cap)
{
        struct src r;

        r.s = jalloc(c, cap + 1);
        r.map = jalloc(c, (cap + 1) * sizeof(size_t));
        r.n = 0;
        return r;
}

static void src_put(struct src *o, const struct src *in, size_t i)
{
        o->s[o->n] = in->s[i];
        o->map[o->n++] = in->map[i];
}

static void src_end(struct src *o, const struct src *in)
{
        o->s[o->n] = 0;
        o->map[o->n] = in->n ? in->map[in->n - 1] + 1 : 0;
}

/* lstrip_blocks: ^[ \t]*({[#%-]) at every line start -> drop the blanks */
static struct src pass_lstrip(struct jctx *c, const struct src *in)
{
        struct src o = src_new(c, in->n);
        size_t i = 0;

        while (i < in->n) {
                int line_start = i == 0 || in->s[i - 1] == '\n' || in->s[i - 1] == '\r';
                if (line_start) {
                        size_t j = i;
                        while (j < in->n && (in->s[j] == ' ' || in->s[j] == '\t'))
                                j++;
                        if (j > i && j + 1 < in->n && in->s[j] == '{' &&
                            (in->s[j + 1] == '#' || in->s[j + 1] == '%' || in->s[j + 1] == '-'))
                                i = j;
                }
                if (i < in->n)
                        src_put(&o, in, i++);
        }
        src_end(&o, in);
        return o;
}

/* trim_blocks: ([#%-]})\n -> drop the newline */
static struct src pass_trim(struct jctx *c, const struct src *in)
{
        struct src o = src_new(c, in->n);

        for (size_t i = 0; i < in->n; i++) {
                src_put(&o, in, i);
                if (i >= 1 && in->s[i] == '}' && i + 1 < in->n && in->s[i + 1] == '\n' &&
                    (in->s[i - 1] == '#' || in->s[i - 1] == '%' || in->s[i - 1] == '-'))
                        i++;  /* drop the newline */
        }
        src_end(&o, in);
        return o;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
        size_t k;

        while (i < n && (k = utf8_ws_len(s + i, n - i)))
                i += k;
        return i;
}

/* Match "{%" -? \s* (end)?NAME \s* -? "%}" at i; returns the end or 0. */
static size_t match_tag(const char *s, size_t n, size_t i, const char *name, int allow_end,
                        int *lminus, int *rminus)
{
        size_t len = strlen(name);

        if (i + 2 > n || s[i] != '{' || s[i + 1] != '%')
                return 0;
        i += 2;
        *lminus = i < n && s[i] == '-';
        i += *lminus;
        i = skip_ws(s, n, i);
        if (allow_end && i + 3 <= n && memcmp(s + i, "end", 3) == 0 &&
            !(i + len <= n && memcmp(s + i, name, len) == 0))
                i += 3;
        if (i + len > n || memcmp(s + i, name, len) != 0)
                return 0;
        i = skip_ws(s, n, i + len);
        *rminus = i < n && s[i] == '-';
        i += *rminus;
        if (i + 2 > n || s[i] != '%' || s[i + 1] != '}')
                return 0;
        return i + 2;
}

/* {% generation %} / {% endgeneration %}: remove the tag, and the
 * surrounding whitespace on a side that carries '-'. */
static struct src pass_generation(struct jctx *c, const struct src *in)
{
        struct src o = src_new(c, in->n);
        size_t last_end = 0;

        for (size_t i = 0; i < in->n;) {
                int lm, rm;
                size_t end = in->s[i] == '{' ? match_tag(in->s, in->n, i, "generation", 1, &lm, &rm)
                                             : 0;
                if (!end) {
                        src_put(&o, in, i++);
                        continue;
                }
                if (lm) {  /* drop the whitespace run before, back to the last match */
                        while (o.n > last_end && utf8_ws_len_back(o.s, o.n))
                                o.n -= utf8_ws_len_back(o.s, o.n);
                }
                i = end;
                if (rm)
                        i = skip_ws(in->s, in->n, i);
                last_end = o.n;
        }
        src_end(&o, in);
        return o;
}

/* ---- tokenizer ---------------------------------------------------------- */

struct lexer {
        struct jctx *c;
        struct src src;
        size_t i;
        int cap;
        int curly;
};

static struct jtok *push(struct lexer *lx, enum jtok_type t, const char *s, size_t n, size_t at)
{
        struct jctx *c = lx->c;

        if (c->ntok == lx->cap) {
                int cap = lx->cap ? lx->cap * 2 : 256;
                struct jtok *nt = jalloc(c, (size_t)cap * sizeof(*nt));
                if (c->ntok)
                        memcpy(nt, c->toks, (size_t)c->ntok * sizeof(*nt));
                c->toks = nt;
                lx->cap = cap;
        }
        struct jtok *t_ = &c->toks[c->ntok++];
        t_->t = t;
        t_->s = s;
        t_->n = n;
        t_->pos = lx->src.map[at];
        return t_;
}

static enum jtok_type last_type(struct lexer *lx)
{
        return lx->c->ntok ? lx->c->toks[lx->c->ntok - 1].t : JT_EOF;
}

static void strip_trailing(struct lexer *lx)
{
        struct jctx *c = lx->c;

        if (!c->ntok || c->toks[c->ntok - 1].t != JT_TEXT)
                return;
        struct jtok *t = &c->toks[c->ntok - 1];
        while (t->n && utf8_ws_len_back(t->s, t->n))
                t->n -= utf8_ws_len_back(t->s, t->n);
        if (!t->n)
                c->ntok--;
}

static _Noreturn void lex_fail(struct lexer *lx, size_t at, const char *msg, char ch)
{
        size_t pos = lx->src.map[at < lx->src.n ? at : lx->src.n];

        if (ch)
                jctx_fail(lx->c, MU_EFORMAT, pos, "%s '%c'", msg, ch);
        jctx_fail(lx->c, MU_EFORMAT, pos, "%s", msg);
}

static int hexval(char ch)
{
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

static void put_utf8(struct jctx *c, struct jbuf *b, unsigned cp)
{
        char u[4];
        size_t n;

        if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else {
                u[0] = (char)(0xe0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        }
        jbuf_add(c, b, u, n);
}

static void lex_string(struct lexer *lx)
{
        const char *s = lx->src.s;
        size_t n = lx->src.n, start = lx->i;
        char q = s[lx->i++];
        struct jbuf b = {0};

        for (;;) {
                if (lx->i >= n)
                        lex_fail(lx, start, "unterminated string literal", 0);
                char ch = s[lx->i];
                if (ch == q)
                        break;
                if (ch != '\\') {
                        size_t j = lx->i;
                        while (j < n && s[j] != q && s[j] != '\\')
                                j++;
                        jbuf_add(lx->c, &b, s + lx->i, j - lx->i);
                        lx->i = j;
                        continue;
                }
                if (++lx->i >= n)
                        lex_fail(lx, start, "unterminated string literal", 0);
                char e = s[lx->i++];
                const char *rep = NULL;
                switch (e) {
                case 'n': rep = "\n"; break;
                case 't': rep = "\t"; break;
                case 'r': rep = "\r"; break;
                case 'b': rep = "\b"; break;
                case 'f': rep = "\f"; break;
                case 'v': rep = "\v"; break;
                case '\'': rep = "'"; break;
                case '"': rep = "\""; break;
                case '\\': rep = "\\"; break;
                case 'x':
                case 'u': {
                        int len = e == 'x' ? 2 : 4;
                        unsigned cp = 0;
                        for (int k = 0; k < len; k++) {
                                int h = lx->i + (size_t)k < n ? hexval(s[lx->i + (size_t)k]) : -1;
                                if (h < 0)
                                        lex_fail(lx, lx->i - 2, "invalid hexadecimal escape", 0);
                                cp = cp * 16 + (unsigned)h;
                        }
                        lx->i += (size_t)len;
                        put_utf8(lx->c, &b, cp);
                        continue;
                }
                default:
                        lex_fail(lx, lx->i - 2, "unknown escape sequence", e);
                }
                jbuf_adds(lx->c, &b, rep);
        }
        lx->i++;  /* closing quote */
        push(lx, JT_STR, b.p ? b.p : "", b.n, start);
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_word(char ch)
{
        return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static void lex_number(struct lexer *lx, size_t start)
{
        const char *s = lx->src.s;
        size_t n = lx->src.n;

        while (lx->i < n && is_digit(s[lx->i]))
                lx->i++;
        if (last_type(lx) != JT_DOT && lx->i + 1 < n && s[lx->i] == '.' && is_digit(s[lx->i + 1])) {
                lx->i++;
                while (lx->i < n && is_digit(s[lx->i]))
                        lx->i++;
        }
        push(lx, JT_NUM, s + start, lx->i - start, start);
}

/* {% raw %}: returns 1 when handled */
static int lex_raw(struct lexer *lx)
{
        const char *s = lx->src.s;
        size_t n = lx->src.n;
        int lm, rm, lm2, rm2;
        size_t end = match_tag(s, n, lx->i, "raw", 0, &lm, &rm);

        if (!end)
                return 0;
        if (lm)
                strip_trailing(lx);
        size_t body = end, j;
        if (rm)
                body = skip_ws(s, n, body);
        for (j = body; j < n; j++)
                if (s[j] == '{' && match_tag(s, n, j, "endraw", 0, &lm2, &rm2))
                        break;
        if (j >= n)
                lex_fail(lx, lx->i, "missing {% endraw %}", 0);
        size_t after = match_tag(s, n, j, "endraw", 0, &lm2, &rm2), bend = j;
        if (lm2)
                while (bend > body && utf8_ws_len_back(s + body, bend - body))
                        bend -= utf8_ws_len_back(s + body, bend - body);
        if (bend > body)
                push(lx, JT_TEXT, s + body, bend - body, body);
        /* an empty comment token marks "after a tag" for the text reader */
        push(lx, JT_COMMENT, "", 0, j);
        lx->i = rm2 ? skip_ws(s, n, after) : after;
        return 1;
}

static const struct {
        const char *seq;
        enum jtok_type t;
} table[] = {
        {"{%", JT_OPEN_STMT}, {"%}", JT_CLOSE_STMT}, {"{{", JT_OPEN_EXPR}, {"}}", JT_CLOSE_EXPR},
        {"(", JT_LPAREN}, {")", JT_RPAREN}, {"{", JT_LBRACE}, {"}", JT_RBRACE},
        {"[", JT_LBRACKET}, {"]", JT_RBRACKET}, {",", JT_COMMA}, {".", JT_DOT},
        {":", JT_COLON}, {"|", JT_PIPE}, {"<=", JT_CMP}, {">=", JT_CMP}, {"==", JT_CMP},
        {"!=", JT_CMP}, {"<", JT_CMP}, {">", JT_CMP}, {"+", JT_ADD}, {"-", JT_ADD},
        {"~", JT_ADD}, {"**", JT_POW}, {"*", JT_MUL}, {"//", JT_MUL}, {"/", JT_MUL},
        {"%", JT_MUL}, {"=", JT_ASSIGN},
};

void jinja_lex(struct jctx *c)
{
        struct src in;
        struct lexer lx = {.c = c};
        int in_tag = 0;

        in.n = c->src_len;
        if (in.n && c->src[in.n - 1] == '\n')
                in.n--;
        in.s = jstrndup(c, c->src, in.n);
        in.map = jalloc(c, (in.n + 1) * sizeof(size_t));
        for (size_t i = 0; i <= in.n; i++)
                in.map[i] = i;
        struct src a = pass_lstrip(c, &in);
        struct src b = pass_trim(c, &a);
        lx.src = pass_generation(c, &b);

        const char *s = lx.src.s;
        size_t n = lx.src.n;
        while (lx.i < n) {
                size_t at = lx.i;
                if (!in_tag) {
                        if (s[at] == '{' && at + 1 < n && s[at + 1] == '%' && lex_raw(&lx))
                                continue;
                        size_t j = at;
                        while (j < n && !(s[j] == '{' && j + 1 < n &&
                                          (s[j + 1] == '%' || s[j + 1] == '{' || s[j + 1] == '#')))
                                j++;
                        if (j > at) {
                                push(&lx, JT_TEXT, s + at, j - at, at);
                                lx.i = j;
                                continue;
                        }
                        if (s[at + 1] == '#') {
                                size_t k = at + 2;
                                int strip_before = k < n && s[k] == '-';
                                k += strip_before;
                                size_t cs = k;
                                while (k + 1 < n && !(s[k] == '#' && s[k + 1] == '}'))
                                        k++;
                                if (k + 1 >= n)
                                        lex_fail(&lx, at, "unterminated comment", 0);
                                int strip_after = k > cs && s[k - 1] == '-';
                                if (strip_before)
                                        strip_trailing(&lx);
                                push(&lx, JT_COMMENT, s + cs, k - cs, at);
                                lx.i = k + 2;
                                if (strip_after)
                                        lx.i = skip_ws(s, n, lx.i);
                                continue;
                        }
                        int minus = at + 2 < n && s[at + 2] == '-';
                        if (minus)
                                strip_trailing(&lx);
                        push(&lx, s[at + 1] == '%' ? JT_OPEN_STMT : JT_OPEN_EXPR, s + at, 2, at);
                        lx.i = at + 2 + (size_t)minus;
                        in_tag = 1;
                        lx.curly = 0;
                        continue;
                }
                /* inside a tag */
                lx.i = skip_ws(s, n, lx.i);
                if (lx.i >= n)
                        break;
                at = lx.i;
                if (at + 2 < n && s[at] == '-' && s[at + 2] == '}' &&
                    (s[at + 1] == '%' || (s[at + 1] == '}' && lx.curly <= 0))) {
                        push(&lx, s[at + 1] == '%' ? JT_CLOSE_STMT : JT_CLOSE_EXPR, s + at + 1, 2, at);
                        lx.i = skip_ws(s, n, at + 3);
                        in_tag = 0;
                        continue;
                }
                char ch = s[at];
                if (ch == '-' || ch == '+') {
                        enum jtok_type lt = last_type(&lx);
                        if (lt != JT_IDENT && lt != JT_NUM && lt != JT_STR && lt != JT_RPAREN &&
                            lt != JT_RBRACKET) {
                                lx.i++;
                                if (lx.i < n && is_digit(s[lx.i])) {
                                        lex_number(&lx, at);
                                } else {
                                        push(&lx, JT_UNARY, s + at, 1, at);
                                }
                                continue;
                        }
                }
                int matched = 0;
                for (size_t k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
                        size_t len = strlen(table[k].seq);
                        if (table[k].t == JT_CLOSE_EXPR && lx.curly > 0)
                                continue;
                        if (at + len <= n && memcmp(s + at, table[k].seq, len) == 0) {
                                push(&lx, table[k].t, s + at, len, at);
                                if (table[k].t == JT_LBRACE)
                                        lx.curly++;
                                else if (table[k].t == JT_RBRACE)
                                        lx.curly--;
                                else if (table[k].t == JT_CLOSE_STMT || table[k].t == JT_CLOSE_EXPR)
                                        in_tag = 0;
                                else if (table[k].t == JT_OPEN_STMT || table[k].t == JT_OPEN_EXPR)
                                        lex_fail(&lx, at, "unexpected tag opener inside a tag", 0);
                                lx.i = at + len;
                                matched = 1;
                                break;
                        }
                }
                if (matched)
                        continue;
                if (ch == '\'' || ch == '"') {
                        lex_string(&lx);
                } else if (is_digit(ch)) {
                        lex_number(&lx, at);
                } else if (is_word(ch)) {
                        while (lx.i < n && is_word(s[lx.i]))
                                lx.i++;
                        push(&lx, JT_IDENT, s + at, lx.i - at, at);
                } else {
                        lex_fail(&lx, at, "unexpected character", ch);
                }
        }
        push(&lx, JT_EOF, "", 0, n);
}
