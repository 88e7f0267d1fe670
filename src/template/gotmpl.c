/* gotmpl.c -- Ollama-style Go text/template rendering (chat_render_go).
 *
 * A subset of Go's text/template, enough for the templates in Ollama's
 * library: text and {{ actions }} with {{- / -}} trimming, comments
 * comment actions, if / else if / else, range (with $i, $m := and else), with,
 * break / continue, variables ($x := / $x =, $ root), fields on . / $x /
 * (pipe), pipelines with |, and the functions and or not eq ne lt le gt ge
 * len slice index print printf println json.
 *
 * Data follows Ollama's template.Execute: messages are collated (runs of
 * the same role joined by "\n\n", system messages gathered into .System).
 * A template that mentions .Messages is executed once with .System,
 * .Messages (each .Role, .Content), .Tools (empty), .Response "".  Any other
 * template is the legacy form: executed once per user turn with .System,
 * .Prompt, .Response, and for the last turn everything after the
 * {{ .Response }} field is cut, so the text ends where the reply begins.
 *
 * Memory and errors reuse the Jinja render context (arena + longjmp, see
 * jinja.h); errors carry "template L:C:" positions. */
#include <stdlib.h>
#include <string.h>

#include "mullama/template.h"
#include "template/jinja.h"

#define GO_MAX_STEPS 2000000LL

enum gv_t { GV_NIL, GV_BOOL, GV_INT, GV_STR, GV_LIST, GV_MAP };

struct gval {
        enum gv_t t;
        int strict;            /* GV_MAP: unknown field is an error (a struct) */
        long long i;
        const char *s;
        size_t n;              /* string length or item count */
        const struct gval *items;
        const char *const *keys;
};

enum gn_kind {
        GN_TEXT, GN_ACTION, GN_IF, GN_RANGE, GN_WITH, GN_BREAK, GN_CONTINUE,
        /* operands */
        GN_FIELD, GN_VAR, GN_DOT, GN_STR, GN_NUM, GN_BOOL, GN_NIL, GN_FUNC, GN_PIPE,
};

struct gnode;
struct glist {
        struct gnode **v;
        int n, cap;
};

struct gnode {
        enum gn_kind kind;
        size_t pos;
        const char *s;        /* text, string, function or variable name */
        size_t n;
        long long num;
        const char **fields;  /* field chain (.A.B) */
        int nfields;
        struct gnode *base;   /* GN_FIELD on a var / pipe */
        /* pipes */
        const char *decl[2];  /* declared / assigned variable names */
        int ndecl, assign;
        struct glist cmds;    /* GN_PIPE: commands; each command is a GN_FUNC-less glist */
        struct glist *cmdargs;
        /* control */
        struct gnode *pipe;
        struct glist list, elselist;
};

struct gparser {
        struct jctx *c;
        const char *s;
        size_t n, i;
        int want_cut;          /* legacy: drop everything after .Response */
        int cut;               /* .Response seen */
};

/* ---- parsing ------------------------------------------------------------ */

static void glist_push(struct jctx *c, struct glist *l, struct gnode *n)
{
        if (l->n == l->cap) {
                int cap = l->cap ? l->cap * 2 : 8;
                struct gnode **nv = jalloc(c, (size_t)cap * sizeof(*nv));
                if (l->n)
                        memcpy(nv, l->v, (size_t)l->n * sizeof(*nv));
                l->v = nv;
                l->cap = cap;
        }
        l->v[l->n++] = n;
}

static struct gnode *gnode_new(struct jctx *c, enum gn_kind k, size_t pos)
{
        struct gnode *n = jalloc(c, sizeof(*n));

        n->kind = k;
        n->pos = pos;
        return n;
}

static int is_space(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int is_alnum(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '_';
}

static void skip_sp(struct gparser *p)
{
        while (p->i < p->n && is_space(p->s[p->i]))
                p->i++;
}

/* at the end of an action ("}}" or " -}}")?  consumes it; sets *trim */
static int at_close(struct gparser *p, int *trim)
{
        skip_sp(p);
        if (p->i + 3 <= p->n && p->i >= 1 && is_space(p->s[p->i - 1]) && p->s[p->i] == '-' &&
            p->s[p->i + 1] == '}' && p->s[p->i + 2] == '}') {
                p->i += 3;
                *trim = 1;
                return 1;
        }
        if (p->i + 2 <= p->n && p->s[p->i] == '}' && p->s[p->i + 1] == '}') {
                p->i += 2;
                *trim = 0;
                return 1;
        }
        return 0;
}

static _Noreturn void gfail(struct gparser *p, const char *msg)
{
        jctx_fail(p->c, MU_EFORMAT, p->i, "syntax error: %s", msg);
}

static int peek_word(struct gparser *p, const char *w)
{
        size_t len = strlen(w);

        skip_sp(p);
        return p->i + len <= p->n && memcmp(p->s + p->i, w, len) == 0 &&
               (p->i + len == p->n || !is_alnum(p->s[p->i + len]));
}

static struct gnode *parse_pipe(struct gparser *p, int in_parens);

static const char **parse_fields(struct gparser *p, int *nf)
{
        const char **f = NULL;
        int n = 0, cap = 0;

        while (p->i < p->n && p->s[p->i] == '.' && p->i + 1 < p->n && is_alnum(p->s[p->i + 1])) {
                size_t st = ++p->i;
                while (p->i < p->n && is_alnum(p->s[p->i]))
                        p->i++;
                if (n == cap) {
                        cap = cap ? cap * 2 : 4;
                        const char **nf2 = jalloc(p->c, (size_t)cap * sizeof(*nf2));
                        if (n)
                                memcpy(nf2, f, (size_t)n * sizeof(*nf2));
                        f = nf2;
                }
                f[n++] = jstrndup(p->c, p->s + st, p->i - st);
        }
        *nf = n;
        return f;
}

static struct gnode *parse_operand(struct gparser *p)
{
        struct jctx *c = p->c;
        size_t st;
        struct gnode *n;

        skip_sp(p);
        if (p->i >= p->n)
                gfail(p, "unexpected end of template in action");
        st = p->i;
        char ch = p->s[p->i];
        if (ch == '.') {
                if (p->i + 1 < p->n && is_alnum(p->s[p->i + 1])) {
                        n = gnode_new(c, GN_FIELD, st);
                        n->fields = parse_fields(p, &n->nfields);
                        if (p->want_cut)
                                for (int k = 0; k < n->nfields; k++)
                                        if (!strcmp(n->fields[k], "Response"))
                                                p->cut = 1;
                        return n;
                }
                p->i++;
                return gnode_new(c, GN_DOT, st);
        }
        if (ch == '$') {
                p->i++;
                while (p->i < p->n && is_alnum(p->s[p->i]))
                        p->i++;
                n = gnode_new(c, GN_VAR, st);
                n->s = jstrndup(c, p->s + st, p->i - st);
                n->fields = parse_fields(p, &n->nfields);
                return n;
        }
        if (ch == '(') {
                p->i++;
                n = parse_pipe(p, 1);
                int nf;
                const char **f = parse_fields(p, &nf);
                if (nf) {
                        struct gnode *fld = gnode_new(c, GN_FIELD, st);
                        fld->base = n;
                        fld->fields = f;
                        fld->nfields = nf;
                        return fld;
                }
                return n;
        }
        if (ch == '"' || ch == '`') {
                struct jbuf b = {0};
                p->i++;
                for (;;) {
                        if (p->i >= p->n || (ch == '"' && p->s[p->i] == '\n'))
                                gfail(p, "unterminated string");
                        char d = p->s[p->i++];
                        if (d == ch)
                                break;
                        if (ch == '"' && d == '\\' && p->i < p->n) {
                                char e = p->s[p->i++];
                                const char *r = e == 'n' ? "\n" : e == 't' ? "\t" : e == 'r' ? "\r"
                                              : e == '"' ? "\"" : e == '\\' ? "\\" : NULL;
                                if (!r)
                                        gfail(p, "unsupported escape in string");
                                jbuf_adds(c, &b, r);
                                continue;
                        }
                        jbuf_add(c, &b, &d, 1);
                }
                n = gnode_new(c, GN_STR, st);
                n->s = b.p ? b.p : "";
                n->n = b.n;
                return n;
        }
        if ((ch >= '0' && ch <= '9') || ch == '-') {
                char *end;
                n = gnode_new(c, GN_NUM, st);
                n->num = strtoll(p->s + p->i, &end, 10);
                if (end == p->s + p->i)
                        gfail(p, "bad number");
                p->i = (size_t)(end - p->s);
                return n;
        }
        if (is_alnum(ch)) {
                while (p->i < p->n && is_alnum(p->s[p->i]))
                        p->i++;
                size_t len = p->i - st;
                if ((len == 4 && !memcmp(p->s + st, "true", 4)) || (len == 5 && !memcmp(p->s + st, "false", 5))) {
                        n = gnode_new(c, GN_BOOL, st);
                        n->num = len == 4;
                        return n;
                }
                if (len == 3 && !memcmp(p->s + st, "nil", 3))
                        return gnode_new(c, GN_NIL, st);
                n = gnode_new(c, GN_FUNC, st);
                n->s = jstrndup(c, p->s + st, len);
                return n;
        }
        gfail(p, "unexpected character in action");
}

/* pipeline: [$a[, $b] (:=|=)] cmd (| cmd)*, ends at "}}" / ")" (not consumed for "}}") */
static struct gnode *parse_pipe(struct gparser *p, int in_parens)
{
        struct jctx *c = p->c;
        struct gnode *pipe = gnode_new(c, GN_PIPE, p->i);
        size_t save = p->i;

        skip_sp(p);
        /* declarations */
        if (p->i < p->n && p->s[p->i] == '$') {
                const char *names[2];
                int nn = 0;
                size_t st;
                for (;;) {
                        skip_sp(p);
                        if (p->i >= p->n || p->s[p->i] != '$')
                                break;
                        st = p->i++;
                        while (p->i < p->n && is_alnum(p->s[p->i]))
                                p->i++;
                        if (nn < 2)
                                names[nn++] = jstrndup(c, p->s + st, p->i - st);
                        skip_sp(p);
                        if (p->i < p->n && p->s[p->i] == ',') {
                                p->i++;
                                continue;
                        }
                        break;
                }
                skip_sp(p);
                if (p->i + 1 < p->n && p->s[p->i] == ':' && p->s[p->i + 1] == '=') {
                        p->i += 2;
                } else if (p->i < p->n && p->s[p->i] == '=' && !(p->i + 1 < p->n && p->s[p->i + 1] == '=')) {
                        p->i += 1;
                        pipe->assign = 1;
                } else {
                        nn = 0;
                        p->i = save;
                }
                pipe->ndecl = nn;
                for (int k = 0; k < nn; k++)
                        pipe->decl[k] = names[k];
        }
        struct glist *cmd = jalloc(c, sizeof(*cmd));
        for (;;) {
                skip_sp(p);
                if (p->i >= p->n)
                        gfail(p, "unclosed action");
                char ch = p->s[p->i];
                if (in_parens && ch == ')') {
                        p->i++;
                        break;
                }
                if (!in_parens && ((ch == '}' && p->i + 1 < p->n && p->s[p->i + 1] == '}') ||
                                   (ch == '-' && p->i + 2 < p->n && p->s[p->i + 1] == '}' &&
                                    p->s[p->i + 2] == '}')))
                        break;
                if (ch == '|') {
                        if (!cmd->n)
                                gfail(p, "missing command before '|'");
                        p->i++;
                        glist_push(c, &pipe->cmds, (struct gnode *)cmd);
                        cmd = jalloc(c, sizeof(*cmd));
                        continue;
                }
                glist_push(c, cmd, parse_operand(p));
        }
        if (!cmd->n)
                gfail(p, "missing value for command");
        glist_push(c, &pipe->cmds, (struct gnode *)cmd);
        return pipe;
}

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

/* Parses nodes into l until {{ end }} / {{ else ... }} / EOF.  For else,
 * p->i is left after "else" (inside the action). */
static enum stop parse_list(struct gparser *p, struct glist *l, int *trim_next, int depth);

static void expect_close(struct gparser *p, int *trim_next)
{
        if (!at_close(p, trim_next))
                gfail(p, "expected '}}'");
}

static struct gnode *parse_control(struct gparser *p, enum gn_kind kind, size_t pos, int *trim_next,
                                   int depth)
{
        struct gnode *n = gnode_new(p->c, kind, pos);
        int saved_cut = p->cut;

        n->pipe = parse_pipe(p, 0);
        p->cut = saved_cut;  /* conditions never trigger the legacy cut */
        expect_close(p, trim_next);
        enum stop st = parse_list(p, &n->list, trim_next, depth + 1);
        if (st == STOP_EOF)
                gfail(p, "missing {{ end }}");
        if (st == STOP_ELSE) {
                if (kind == GN_IF && peek_word(p, "if")) {
                        p->i += 2;
                        glist_push(p->c, &n->elselist, parse_control(p, GN_IF, p->i, trim_next, depth + 1));
                        return n;  /* the nested if consumed the shared {{ end }} */
                }
                if (kind == GN_WITH && peek_word(p, "with")) {
                        p->i += 4;
                        glist_push(p->c, &n->elselist, parse_control(p, GN_WITH, p->i, trim_next, depth + 1));
                        return n;
                }
                expect_close(p, trim_next);
                st = parse_list(p, &n->elselist, trim_next, depth + 1);
                if (st != STOP_END)
                        gfail(p, "missing {{ end }}");
        }
        return n;
}

static enum stop parse_list(struct gparser *p, struct glist *l, int *trim_next, int depth)
{
        struct jctx *c = p->c;

        if (depth > JINJA_MAX_DEPTH)
                jctx_fail(c, MU_ERANGE, p->i, "nesting deeper than %d", JINJA_MAX_DEPTH);
        for (;;) {
                size_t st = p->i;
                int cut_before = p->cut;
                const char *open = p->i < p->n ? strstr(p->s + p->i, "{{") : NULL;
                size_t end = open ? (size_t)(open - p->s) : p->n;
                int trim_before = open && end + 3 < p->n + 1 && open[2] == '-' && is_space(open[3]);
                size_t a = st, b = end;
                if (*trim_next)
                        while (a < b && is_space(p->s[a]))
                                a++;
                if (trim_before)
                        while (b > a && is_space(p->s[b - 1]))
                                b--;
                if (b > a && !p->cut) {
                        struct gnode *t = gnode_new(c, GN_TEXT, a);
                        t->s = p->s + a;
                        t->n = b - a;
                        glist_push(c, l, t);
                }
                if (!open) {
                        p->i = p->n;
                        return STOP_EOF;
                }
                p->i = end + 2 + (trim_before ? 2 : 0);
                *trim_next = 0;
                size_t pos = end;
                skip_sp(p);
                if (p->i + 1 < p->n && p->s[p->i] == '/' && p->s[p->i + 1] == '*') {
                        const char *e = strstr(p->s + p->i, "*/");
                        if (!e)
                                gfail(p, "unclosed comment");
                        p->i = (size_t)(e - p->s) + 2;
                        expect_close(p, trim_next);
                        continue;
                }
                if (peek_word(p, "end")) {
                        p->i += 3;
                        expect_close(p, trim_next);
                        return STOP_END;
                }
                if (peek_word(p, "else")) {
                        p->i += 4;
                        return STOP_ELSE;
                }
                struct gnode *n;
                if (peek_word(p, "if")) {
                        p->i += 2;
                        n = parse_control(p, GN_IF, pos, trim_next, depth);
                } else if (peek_word(p, "range")) {
                        p->i += 5;
                        n = parse_control(p, GN_RANGE, pos, trim_next, depth);
                } else if (peek_word(p, "with")) {
                        p->i += 4;
                        n = parse_control(p, GN_WITH, pos, trim_next, depth);
                } else if (peek_word(p, "break") || peek_word(p, "continue")) {
                        n = gnode_new(c, p->s[p->i] == 'b' ? GN_BREAK : GN_CONTINUE, pos);
                        p->i += p->s[p->i] == 'b' ? 5 : 8;
                        expect_close(p, trim_next);
                } else if (peek_word(p, "template") || peek_word(p, "define") || peek_word(p, "block")) {
                        jctx_fail(c, MU_EUNSUPPORTED, pos, "template/define/block actions are not supported");
                } else {
                        n = gnode_new(c, GN_ACTION, pos);
                        n->pipe = parse_pipe(p, 0);
                        expect_close(p, trim_next);
                }
                if (!cut_before)
                        glist_push(c, l, n);
        }
}

/* ---- evaluation --------------------------------------------------------- */

struct gvar {
        const char *name;
        struct gval v;
};

struct geval {
        struct jctx *c;
        struct gval root;
        struct gvar *vars;
        int nvars, cap;
        struct jbuf *out;
        int depth;
};

static struct gval gv_str(const char *s, size_t n)
{
        return (struct gval){.t = GV_STR, .s = s, .n = n};
}

static int gv_truthy(struct gval v)
{
        switch (v.t) {
        case GV_NIL: return 0;
        case GV_BOOL:
        case GV_INT: return v.i != 0;
        case GV_STR:
        case GV_LIST:
        case GV_MAP: return v.n != 0;
        }
        return 0;
}

static void gv_print(struct jctx *c, struct jbuf *b, struct gval v)
{
        char tmp[32];

        switch (v.t) {
        case GV_NIL: jbuf_adds(c, b, "<no value>"); return;
        case GV_BOOL: jbuf_adds(c, b, v.i ? "true" : "false"); return;
        case GV_INT:
                snprintf(tmp, sizeof(tmp), "%lld", v.i);
                jbuf_adds(c, b, tmp);
                return;
        case GV_STR: jbuf_add(c, b, v.s, v.n); return;
        case GV_LIST:
                jbuf_adds(c, b, "[");
                for (size_t i = 0; i < v.n; i++) {
                        if (i)
                                jbuf_adds(c, b, " ");
                        gv_print(c, b, v.items[i]);
                }
                jbuf_adds(c, b, "]");
                return;
        case GV_MAP:
                jbuf_adds(c, b, "map[");
                for (size_t i = 0; i < v.n; i++) {
                        if (i)
                                jbuf_adds(c, b, " ");
                        jbuf_adds(c, b, v.keys[i]);
                        jbuf_adds(c, b, ":");
                        gv_print(c, b, v.items[i]);
                }
                jbuf_adds(c, b, "]");
                return;
        }
}

static void gv_json(struct jctx *c, struct jbuf *b, struct gval v)
{
        struct jv j;
        struct jjson_opts o = {.item_sep = ",", .key_sep = ":", .undef_as_null = 1};

        switch (v.t) {
        case GV_NIL: j = jv_none(); break;
        case GV_BOOL: j = jv_bool((int)v.i); break;
        case GV_INT: j = jv_int(v.i); break;
        case GV_STR: j = jv_str(c, v.s, v.n); break;
        default:
                jbuf_adds(c, b, v.t == GV_LIST ? "[" : "{");
                for (size_t i = 0; i < v.n; i++) {
                        if (i)
                                jbuf_adds(c, b, ",");
                        if (v.t == GV_MAP) {
                                jv_tojson(c, b, jv_cstr(c, v.keys[i]), &o, 0, JNOPOS);
                                jbuf_adds(c, b, ":");
                        }
                        gv_json(c, b, v.items[i]);
                }
                jbuf_adds(c, b, v.t == GV_LIST ? "]" : "}");
                return;
        }
        jv_tojson(c, b, j, &o, 0, JNOPOS);
}

static struct gval field(struct geval *e, struct gval v, const char *name, size_t pos)
{
        if (v.t == GV_MAP) {
                for (size_t i = 0; i < v.n; i++)
                        if (!strcmp(v.keys[i], name))
                                return v.items[i];
                if (!v.strict)
                        return (struct gval){.t = GV_NIL};
        }
        jctx_fail(e->c, MU_EINVAL, pos, "can't evaluate field %s", name);
}

static struct gval eval_pipe(struct geval *e, struct gval dot, const struct gnode *pipe);

static struct gval lookup_var(struct geval *e, const char *name, size_t pos)
{
        if (!strcmp(name, "$"))
                return e->root;
        for (int i = e->nvars - 1; i >= 0; i--)
                if (!strcmp(e->vars[i].name, name))
                        return e->vars[i].v;
        jctx_fail(e->c, MU_EINVAL, pos, "undefined variable %s", name);
}

static void push_var(struct geval *e, const char *name, struct gval v)
{
        if (e->nvars == e->cap) {
                int cap = e->cap ? e->cap * 2 : 16;
                struct gvar *nv = jalloc(e->c, (size_t)cap * sizeof(*nv));
                if (e->nvars)
                        memcpy(nv, e->vars, (size_t)e->nvars * sizeof(*nv));
                e->vars = nv;
                e->cap = cap;
        }
        e->vars[e->nvars].name = name;
        e->vars[e->nvars++].v = v;
}

static struct gval eval_operand(struct geval *e, struct gval dot, const struct gnode *n)
{
        struct gval v;

        switch (n->kind) {
        case GN_DOT: return dot;
        case GN_STR: return gv_str(n->s, n->n);
        case GN_NUM: return (struct gval){.t = GV_INT, .i = n->num};
        case GN_BOOL: return (struct gval){.t = GV_BOOL, .i = n->num};
        case GN_NIL: return (struct gval){.t = GV_NIL};
        case GN_PIPE: return eval_pipe(e, dot, n);
        case GN_VAR:
                v = lookup_var(e, n->s, n->pos);
                break;
        case GN_FIELD:
                v = n->base ? eval_pipe(e, dot, n->base) : dot;
                break;
        default:
                jctx_fail(e->c, MU_EINVAL, n->pos, "function used as a value");
        }
        for (int i = 0; i < n->nfields; i++)
                v = field(e, v, n->fields[i], n->pos);
        return v;
}

static int gv_cmp(struct geval *e, struct gval a, struct gval b, size_t pos, int ordered)
{
        if (a.t != b.t) {
                if (!ordered && (a.t == GV_NIL || b.t == GV_NIL))
                        return 1;
                jctx_fail(e->c, MU_EINVAL, pos, "incompatible types for comparison");
        }
        if (a.t == GV_STR) {
                size_t n = a.n < b.n ? a.n : b.n;
                int r = memcmp(a.s, b.s, n);
                return r ? r : (a.n > b.n) - (a.n < b.n);
        }
        if (a.t == GV_INT || a.t == GV_BOOL) {
                if (ordered && a.t == GV_BOOL)
                        jctx_fail(e->c, MU_EINVAL, pos, "invalid type for comparison");
                return (a.i > b.i) - (a.i < b.i);
        }
        if (a.t == GV_NIL)
                return 0;
        jctx_fail(e->c, MU_EINVAL, pos, "uncomparable type");
}

static struct gval call_func(struct geval *e, struct gval dot, const struct glist *cmd, int has_final,
                             struct gval final)
{
        const struct gnode *fn = cmd->v[0];
        const char *name = fn->s;
        int argc = cmd->n - 1 + has_final;
        struct jctx *c = e->c;
        struct gval *args = jalloc(c, (size_t)(argc + 1) * sizeof(*args));

        /* and / or short-circuit: evaluate lazily */
        if (!strcmp(name, "and") || !strcmp(name, "or")) {
                if (argc < 1)
                        jctx_fail(c, MU_EINVAL, fn->pos, "%s needs arguments", name);
                struct gval v = {0};
                for (int i = 0; i < argc; i++) {
                        v = i < cmd->n - 1 ? eval_operand(e, dot, cmd->v[i + 1]) : final;
                        if (gv_truthy(v) != (name[0] == 'a'))
                                return v;
                }
                return v;
        }
        for (int i = 0; i < cmd->n - 1; i++)
                args[i] = eval_operand(e, dot, cmd->v[i + 1]);
        if (has_final)
                args[argc - 1] = final;
        if (!strcmp(name, "not")) {
                if (argc != 1)
                        jctx_fail(c, MU_EINVAL, fn->pos, "not needs 1 argument");
                return (struct gval){.t = GV_BOOL, .i = !gv_truthy(args[0])};
        }
        if (!strcmp(name, "eq") || !strcmp(name, "ne")) {
                if (argc < 2 || (name[0] == 'n' && argc != 2))
                        jctx_fail(c, MU_EINVAL, fn->pos, "%s needs 2 arguments", name);
                int eq = 0;
                for (int i = 1; i < argc && !eq; i++)
                        eq = gv_cmp(e, args[0], args[i], fn->pos, 0) == 0;
                return (struct gval){.t = GV_BOOL, .i = name[0] == 'e' ? eq : !eq};
        }
        if (!strcmp(name, "lt") || !strcmp(name, "le") || !strcmp(name, "gt") || !strcmp(name, "ge")) {
                if (argc != 2)
                        jctx_fail(c, MU_EINVAL, fn->pos, "%s needs 2 arguments", name);
                int r = gv_cmp(e, args[0], args[1], fn->pos, 1);
                int ok = name[0] == 'l' ? (name[1] == 't' ? r < 0 : r <= 0) : (name[1] == 't' ? r > 0 : r >= 0);
                return (struct gval){.t = GV_BOOL, .i = ok};
        }
        if (!strcmp(name, "len")) {
                if (argc != 1 || (args[0].t != GV_STR && args[0].t != GV_LIST && args[0].t != GV_MAP))
                        jctx_fail(c, MU_EINVAL, fn->pos, "len of a value without length");
                return (struct gval){.t = GV_INT, .i = (long long)args[0].n};
        }
        if (!strcmp(name, "index")) {
                struct gval v = argc ? args[0] : (struct gval){0};
                for (int i = 1; i < argc; i++) {
                        if (v.t == GV_LIST && args[i].t == GV_INT) {
                                if (args[i].i < 0 || (size_t)args[i].i >= v.n)
                                        jctx_fail(c, MU_EINVAL, fn->pos, "index out of range: %lld", args[i].i);
                                v = v.items[args[i].i];
                        } else if (v.t == GV_MAP && args[i].t == GV_STR) {
                                v = field(e, v, jstrndup(c, args[i].s, args[i].n), fn->pos);
                        } else {
                                jctx_fail(c, MU_EINVAL, fn->pos, "cannot index");
                        }
                }
                return v;
        }
        if (!strcmp(name, "slice")) {
                if (argc < 1 || argc > 3 || (args[0].t != GV_STR && args[0].t != GV_LIST))
                        jctx_fail(c, MU_EINVAL, fn->pos, "bad arguments to slice");
                long long n = (long long)args[0].n;
                long long lo = argc > 1 ? args[1].i : 0, hi = argc > 2 ? args[2].i : n;
                if ((argc > 1 && args[1].t != GV_INT) || (argc > 2 && args[2].t != GV_INT) || lo < 0 ||
                    hi < lo || hi > n)
                        jctx_fail(c, MU_EINVAL, fn->pos, "slice index out of range");
                struct gval r = args[0];
                if (r.t == GV_STR)
                        r.s += lo;
                else
                        r.items += lo;
                r.n = (size_t)(hi - lo);
                return r;
        }
        if (!strcmp(name, "print") || !strcmp(name, "println") || !strcmp(name, "printf") ||
            !strcmp(name, "json")) {
                struct jbuf b = {0};
                if (name[0] == 'j') {
                        if (argc != 1)
                                jctx_fail(c, MU_EINVAL, fn->pos, "json needs 1 argument");
                        gv_json(c, &b, args[0]);
                } else if (!strcmp(name, "printf")) {
                        if (argc < 1 || args[0].t != GV_STR)
                                jctx_fail(c, MU_EINVAL, fn->pos, "printf needs a format string");
                        int k = 1;
                        for (size_t i = 0; i < args[0].n; i++) {
                                char ch = args[0].s[i];
                                if (ch != '%' || i + 1 >= args[0].n) {
                                        jbuf_add(c, &b, &ch, 1);
                                        continue;
                                }
                                char verb = args[0].s[++i];
                                if (verb == '%') {
                                        jbuf_adds(c, &b, "%");
                                } else if (k >= argc) {
                                        jbuf_adds(c, &b, "%!");
                                        jbuf_add(c, &b, &verb, 1);
                                        jbuf_adds(c, &b, "(MISSING)");
                                } else if (verb == 'q' && args[k].t == GV_STR) {
                                        struct jjson_opts o = {0};
                                        jv_tojson(c, &b, jv_str(c, args[k].s, args[k].n), &o, 0, fn->pos);
                                        k++;
                                } else {
                                        gv_print(c, &b, args[k++]);
                                }
                        }
                } else {
                        for (int i = 0; i < argc; i++) {
                                if (i && (name[5] == 'l' || (args[i].t != GV_STR && args[i - 1].t != GV_STR)))
                                        jbuf_adds(c, &b, " ");
                                gv_print(c, &b, args[i]);
                        }
                        if (name[5] == 'l')
                                jbuf_adds(c, &b, "\n");
                }
                return gv_str(b.p ? b.p : "", b.n);
        }
        jctx_fail(c, MU_EINVAL, fn->pos, "function \"%s\" not defined", name);
}

static struct gval eval_pipe(struct geval *e, struct gval dot, const struct gnode *pipe)
{
        struct gval v = {0};
        int have = 0;

        if (++e->depth > JINJA_MAX_DEPTH)
                jctx_fail(e->c, MU_ERANGE, pipe->pos, "nesting deeper than %d", JINJA_MAX_DEPTH);
        for (int i = 0; i < pipe->cmds.n; i++) {
                const struct glist *cmd = (const struct glist *)pipe->cmds.v[i];
                if (cmd->v[0]->kind == GN_FUNC) {
                        v = call_func(e, dot, cmd, have, v);
                } else {
                        if (cmd->n > 1 || have)
                                jctx_fail(e->c, MU_EINVAL, cmd->v[0]->pos, "can't give argument to non-function");
                        v = eval_operand(e, dot, cmd->v[0]);
                }
                have = 1;
        }
        e->depth--;
        if (pipe->ndecl && !pipe->assign)
                push_var(e, pipe->decl[pipe->ndecl - 1], v);
        if (pipe->ndecl && pipe->assign) {
                for (int i = e->nvars - 1; i >= 0; i--)
                        if (!strcmp(e->vars[i].name, pipe->decl[0])) {
                                e->vars[i].v = v;
                                return v;
                        }
                jctx_fail(e->c, MU_EINVAL, pipe->pos, "undefined variable %s", pipe->decl[0]);
        }
        return v;
}

static int exec_list(struct geval *e, struct gval dot, const struct glist *l);

static int exec_node(struct geval *e, struct gval dot, const struct gnode *n)
{
        struct jctx *c = e->c;

        if (++c->steps > GO_MAX_STEPS)
                jctx_fail(c, MU_ERANGE, n->pos, "evaluation step limit exceeded");
        switch (n->kind) {
        case GN_TEXT:
                jbuf_add(c, e->out, n->s, n->n);
                return 0;
        case GN_ACTION: {
                struct gval v = eval_pipe(e, dot, n->pipe);
                if (!n->pipe->ndecl)
                        gv_print(c, e->out, v);
                return 0;
        }
        case GN_BREAK: return 1;
        case GN_CONTINUE: return 2;
        case GN_IF:
        case GN_WITH: {
                int mark = e->nvars, r;
                struct gval v = eval_pipe(e, dot, n->pipe);
                if (gv_truthy(v))
                        r = exec_list(e, n->kind == GN_WITH ? v : dot, &n->list);
                else
                        r = exec_list(e, dot, &n->elselist);
                e->nvars = mark;
                return r;
        }
        case GN_RANGE: {
                int mark = e->nvars;
                const struct gnode *p = n->pipe;
                int nd = p->ndecl;
                struct gnode tmp = *p;
                tmp.ndecl = 0;  /* range binds its own variables per item */
                struct gval v = eval_pipe(e, dot, &tmp);
                if (v.t == GV_INT) {
                        if (v.i > 1000000)
                                jctx_fail(c, MU_ERANGE, n->pos, "range too large");
                } else if (v.t != GV_LIST && v.t != GV_MAP && v.t != GV_NIL) {
                        jctx_fail(c, MU_EINVAL, n->pos, "range can't iterate over this value");
                }
                size_t cnt = v.t == GV_INT ? (size_t)(v.i < 0 ? 0 : v.i) : v.t == GV_NIL ? 0 : v.n;
                for (size_t i = 0; i < cnt; i++) {
                        struct gval item = v.t == GV_INT ? (struct gval){.t = GV_INT, .i = (long long)i}
                                                         : v.items[i];
                        struct gval key = v.t == GV_MAP ? gv_str(v.keys[i], strlen(v.keys[i]))
                                                        : (struct gval){.t = GV_INT, .i = (long long)i};
                        if (++c->steps > GO_MAX_STEPS)
                                jctx_fail(c, MU_ERANGE, n->pos, "evaluation step limit exceeded");
                        e->nvars = mark;
                        if (nd == 1)
                                push_var(e, p->decl[0], item);
                        if (nd == 2) {
                                push_var(e, p->decl[0], key);
                                push_var(e, p->decl[1], item);
                        }
                        int r = exec_list(e, item, &n->list);
                        if (r == 1)
                                break;
                }
                e->nvars = mark;
                if (!cnt)
                        exec_list(e, dot, &n->elselist);
                return 0;
        }
        default:
                jctx_fail(c, MU_EINVAL, n->pos, "bad node");
        }
}

static int exec_list(struct geval *e, struct gval dot, const struct glist *l)
{
        if (++e->depth > JINJA_MAX_DEPTH * 2)
                jctx_fail(e->c, MU_ERANGE, JNOPOS, "nesting too deep");
        for (int i = 0; i < l->n; i++) {
                int r = exec_node(e, dot, l->v[i]);
                if (r) {
                        e->depth--;
                        return r;
                }
        }
        e->depth--;
        return 0;
}

/* ---- data and entry ----------------------------------------------------- */

static struct gval mkmap(struct jctx *c, int strict, int n, const char *const *keys,
                         const struct gval *vals)
{
        struct gval m = {.t = GV_MAP, .strict = strict, .n = (size_t)n};
        const char **k = jalloc(c, (size_t)n * sizeof(*k));
        struct gval *v = jalloc(c, (size_t)n * sizeof(*v));

        memcpy(k, keys, (size_t)n * sizeof(*k));
        memcpy(v, vals, (size_t)n * sizeof(*v));
        m.keys = k;
        m.items = v;
        return m;
}

static struct gval cstr(const char *s)
{
        return gv_str(s ? s : "", s ? strlen(s) : 0);
}

struct go_in {
        const char *tmpl, *system;
        const struct chat_msg *msgs;
        int n;
};

static void render_go(struct jctx *c, const struct go_in *in, struct jbuf *out)
{
        /* a given system prompt applies when the conversation has none */
        int has_sys = 0;
        for (int i = 0; i < in->n; i++)
                has_sys |= in->msgs[i].role && !strcmp(in->msgs[i].role, "system");
        int total = in->n + (in->system && !has_sys);
        struct chat_msg *src = jalloc(c, (size_t)(total + 1) * sizeof(*src));
        if (total > in->n)
                src[0] = (struct chat_msg){"system", in->system};
        if (in->n)
                memcpy(src + (total - in->n), in->msgs, (size_t)in->n * sizeof(*src));
        /* collate: merge runs of one role, gather system messages */
        struct chat_msg *m = jalloc(c, (size_t)(total + 1) * sizeof(*m));
        int nm = 0;
        struct jbuf sys = {0};
        for (int i = 0; i < total; i++) {
                const char *role = src[i].role ? src[i].role : "user";
                const char *content = src[i].content ? src[i].content : "";
                if (!strcmp(role, "system")) {
                        if (sys.n)
                                jbuf_adds(c, &sys, "\n\n");
                        jbuf_adds(c, &sys, content);
                }
                if (nm && !strcmp(m[nm - 1].role, role)) {
                        struct jbuf b = {0};
                        jbuf_adds(c, &b, m[nm - 1].content);
                        jbuf_adds(c, &b, "\n\n");
                        jbuf_adds(c, &b, content);
                        m[nm - 1].content = b.p;
                } else {
                        m[nm].role = role;
                        m[nm++].content = content;
                }
        }
        const char *system = sys.p ? sys.p : "";

        struct gparser p = {.c = c, .s = c->src, .n = c->src_len};
        int trim = 0;
        struct glist prog = {0};
        if (parse_list(&p, &prog, &trim, 0) != STOP_EOF)
                jctx_fail(c, MU_EFORMAT, p.i, "syntax error: unexpected {{ end }} or {{ else }}");

        struct geval e = {.c = c, .out = out};
        static const char *const root_keys[] = {"System", "Prompt", "Response", "Messages", "Tools",
                                                "Suffix", "Think"};
        if (strstr(c->src, ".Messages")) {
                struct gval *items = jalloc(c, (size_t)(nm + 1) * sizeof(*items));
                static const char *const mkeys[] = {"Role", "Content"};
                for (int i = 0; i < nm; i++) {
                        struct gval mv[2] = {cstr(m[i].role), cstr(m[i].content)};
                        items[i] = mkmap(c, 1, 2, mkeys, mv);
                }
                struct gval list = {.t = GV_LIST, .items = items, .n = (size_t)nm};
                struct gval vals[] = {cstr(system), cstr(""), cstr(""), list, {.t = GV_LIST},
                                      cstr(""), {.t = GV_BOOL}};
                e.root = mkmap(c, 0, 7, root_keys, vals);
                exec_list(&e, e.root, &prog);
                return;
        }
        /* legacy: one execution per turn, the last one cut after .Response */
        struct gparser pc = {.c = c, .s = c->src, .n = c->src_len, .want_cut = 1};
        struct glist cut = {0};
        trim = 0;
        parse_list(&pc, &cut, &trim, 0);
        const char *sysv = "", *prompt = "", *resp = "";
#define EXEC_TURN(list)                                                               \
        do {                                                                          \
                struct gval vals[] = {cstr(sysv), cstr(prompt), cstr(resp), {.t = GV_LIST}, \
                                      {.t = GV_LIST}, cstr(""), {.t = GV_BOOL}};      \
                e.root = mkmap(c, 0, 7, root_keys, vals);                             \
                e.nvars = 0;                                                          \
                exec_list(&e, e.root, list);                                          \
                sysv = prompt = resp = "";                                            \
        } while (0)
        for (int i = 0; i < nm; i++) {
                if (!strcmp(m[i].role, "system")) {
                        if (*prompt || *resp)
                                EXEC_TURN(&prog);
                        sysv = m[i].content;
                } else if (!strcmp(m[i].role, "user")) {
                        if (*resp)
                                EXEC_TURN(&prog);
                        prompt = m[i].content;
                } else if (!strcmp(m[i].role, "assistant")) {
                        resp = m[i].content;
                }
        }
        EXEC_TURN(&cut);
#undef EXEC_TURN
}

int chat_render_go(const char *tmpl, const char *system, const struct chat_msg *msgs, int n,
                   char **out, struct mu_err *err)
{
        struct jctx *c = mu_xcalloc(1, sizeof(*c));
        struct go_in in = {tmpl, system, msgs, n < 0 ? 0 : n};
        int rc = 0;

        *out = NULL;
        c->err = err;
        c->src = tmpl ? tmpl : "";
        c->src_len = strlen(c->src);
        if (setjmp(c->jmp) == 0) {
                struct jbuf b = {0};
                if (c->src_len > JINJA_MAX_SOURCE)
                        jctx_fail(c, MU_ENOMEM, JNOPOS, "template too large");
                render_go(c, &in, &b);
                *out = mu_xstrndup(b.p ? b.p : "", b.n);
        } else {
                rc = err && err->code ? err->code : MU_EINVAL;
        }
        while (c->arena) {
                struct jarena_chunk *nx = c->arena->next;
                free(c->arena);
                c->arena = nx;
        }
        free(c);
        return rc;
}
