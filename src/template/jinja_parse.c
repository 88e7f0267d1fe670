/* jinja_parse.c -- recursive-descent parser from tokens to the AST in jinja.h.
 *
 * Expression precedence, loosest first (as in @huggingface/jinja and close
 * to Python Jinja):  a if c else b  |  or  |  and  |  not  |  comparisons,
 * in, not in  |  + - ~  |  * / // %  |  **  |  is tests  |  | filters  |
 * unary + -  |  calls, .attr, [index], [a:b:c]  |  literals, names, ( ).
 * Statements: set (incl. block set and tuple / ns.attr targets), if / elif /
 * else, for (tuple targets, "if" filter, else), macro, call, filter, break,
 * continue.  Nesting is capped at JINJA_MAX_DEPTH so hostile input cannot
 * overflow the C stack; every syntax error reports line:col (MU_EFORMAT). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "template/jinja.h"

static struct jtok *peek(struct jctx *c)
{
        return &c->toks[c->itok];
}

static struct jtok *peek2(struct jctx *c)
{
        return c->itok + 1 < c->ntok ? &c->toks[c->itok + 1] : &c->toks[c->ntok - 1];
}

static struct jtok *next(struct jctx *c)
{
        struct jtok *t = &c->toks[c->itok];

        if (t->t != JT_EOF)
                c->itok++;
        return t;
}

static int tok_is(const struct jtok *t, enum jtok_type ty, const char *s)
{
        return t->t == ty && (!s || (t->n == strlen(s) && memcmp(t->s, s, t->n) == 0));
}

static int is_ident(struct jctx *c, const char *name)
{
        return tok_is(peek(c), JT_IDENT, name);
}

static const char *tok_desc(const struct jtok *t, char *buf, size_t cap)
{
        if (t->t == JT_EOF)
                return "end of template";
        if (t->t == JT_TEXT)
                return "text";
        snprintf(buf, cap, "'%.*s'", (int)(t->n > 40 ? 40 : t->n), t->s);
        return buf;
}

static _Noreturn void syntax(struct jctx *c, const char *what)
{
        char buf[64];
        struct jtok *t = peek(c);

        jctx_fail(c, MU_EFORMAT, t->pos, "syntax error: expected %s, got %s", what,
                  tok_desc(t, buf, sizeof(buf)));
}

static struct jtok *expect(struct jctx *c, enum jtok_type ty, const char *s, const char *what)
{
        if (!tok_is(peek(c), ty, s))
                syntax(c, what);
        return next(c);
}

static struct jnode *node(struct jctx *c, enum jn_kind k, size_t pos)
{
        struct jnode *n = jalloc(c, sizeof(*n));

        n->kind = k;
        n->pos = pos;
        return n;
}

void jnode_list_push(struct jctx *c, struct jnode_list *l, struct jnode *n)
{
        if (l->n == l->cap) {
                int cap = l->cap ? l->cap * 2 : 4;
                struct jnode **nv = jalloc(c, (size_t)cap * sizeof(*nv));
                if (l->n)
                        memcpy(nv, l->v, (size_t)l->n * sizeof(*nv));
                l->v = nv;
                l->cap = cap;
        }
        l->v[l->n++] = n;
}

static void enter(struct jctx *c)
{
        if (++c->depth > JINJA_MAX_DEPTH)
                jctx_fail(c, MU_ERANGE, peek(c)->pos, "nesting deeper than %d", JINJA_MAX_DEPTH);
}

static void leave(struct jctx *c)
{
        c->depth--;
}

/* ---- expressions -------------------------------------------------------- */

static struct jnode *parse_expr(struct jctx *c);
static struct jnode *parse_primary(struct jctx *c);
static struct jnode *parse_postfix(struct jctx *c, struct jnode *n);

static void parse_args(struct jctx *c, struct jnode_list *args, int params)
{
        expect(c, JT_LPAREN, NULL, "'('");
        int saw_kw = 0;
        while (!tok_is(peek(c), JT_RPAREN, NULL)) {
                struct jtok *t = peek(c);
                struct jnode *a;
                if (t->t == JT_IDENT && tok_is(peek2(c), JT_ASSIGN, NULL)) {
                        next(c);
                        next(c);
                        a = node(c, JN_KWARG, t->pos);
                        a->str = jstr_new(c, t->s, t->n);
                        a->a = parse_expr(c);
                        saw_kw = 1;
                } else {
                        a = parse_expr(c);
                        if (params && a->kind != JN_NAME)
                                jctx_fail(c, MU_EFORMAT, a->pos,
                                          "syntax error: expected a parameter name");
                        if (saw_kw)
                                jctx_fail(c, MU_EFORMAT, a->pos,
                                          "syntax error: positional argument after keyword argument");
                }
                jnode_list_push(c, args, a);
                if (!tok_is(peek(c), JT_COMMA, NULL))
                        break;
                next(c);
        }
        expect(c, JT_RPAREN, NULL, "')'");
}

static struct jnode *parse_primary(struct jctx *c)
{
        struct jtok *t = next(c);
        struct jnode *n;
        char *end;

        switch (t->t) {
        case JT_NUM: {
                char tmp[64];
                size_t len = t->n < sizeof(tmp) - 1 ? t->n : sizeof(tmp) - 1;
                memcpy(tmp, t->s, len);
                tmp[len] = 0;
                if (memchr(tmp, '.', len)) {
                        n = node(c, JN_FLOAT, t->pos);
                        n->f = strtod(tmp, &end);
                } else {
                        errno = 0;
                        long long v = strtoll(tmp, &end, 10);
                        if (errno == ERANGE) {
                                n = node(c, JN_FLOAT, t->pos);
                                n->f = strtod(tmp, &end);
                        } else {
                                n = node(c, JN_INT, t->pos);
                                n->i = v;
                        }
                }
                return n;
        }
        case JT_STR: {
                struct jbuf b = {0};
                jbuf_add(c, &b, t->s, t->n);
                while (peek(c)->t == JT_STR) {
                        struct jtok *u = next(c);
                        jbuf_add(c, &b, u->s, u->n);
                }
                n = node(c, JN_STR, t->pos);
                n->str = jbuf_str(c, &b);
                return n;
        }
        case JT_IDENT:
                n = node(c, JN_NAME, t->pos);
                n->str = jstr_new(c, t->s, t->n);
                return n;
        case JT_LPAREN: {
                enter(c);
                if (tok_is(peek(c), JT_RPAREN, NULL)) {
                        next(c);
                        leave(c);
                        return node(c, JN_TUPLE, t->pos);
                }
                n = parse_expr(c);
                if (tok_is(peek(c), JT_COMMA, NULL)) {
                        struct jnode *tup = node(c, JN_TUPLE, t->pos);
                        jnode_list_push(c, &tup->args, n);
                        while (tok_is(peek(c), JT_COMMA, NULL)) {
                                next(c);
                                if (tok_is(peek(c), JT_RPAREN, NULL))
                                        break;
                                jnode_list_push(c, &tup->args, parse_expr(c));
                        }
                        n = tup;
                }
                expect(c, JT_RPAREN, NULL, "')'");
                leave(c);
                return n;
        }
        case JT_LBRACKET:
                enter(c);
                n = node(c, JN_LIST, t->pos);
                while (!tok_is(peek(c), JT_RBRACKET, NULL)) {
                        jnode_list_push(c, &n->args, parse_expr(c));
                        if (!tok_is(peek(c), JT_COMMA, NULL))
                                break;
                        next(c);
                }
                expect(c, JT_RBRACKET, NULL, "']'");
                leave(c);
                return n;
        case JT_LBRACE:
                enter(c);
                n = node(c, JN_DICT, t->pos);
                while (!tok_is(peek(c), JT_RBRACE, NULL)) {
                        jnode_list_push(c, &n->args, parse_expr(c));
                        expect(c, JT_COLON, NULL, "':'");
                        jnode_list_push(c, &n->args, parse_expr(c));
                        if (!tok_is(peek(c), JT_COMMA, NULL))
                                break;
                        next(c);
                }
                expect(c, JT_RBRACE, NULL, "'}'");
                leave(c);
                return n;
        default:
                if (t->t != JT_EOF)
                        c->itok--;
                syntax(c, "an expression");
        }
}

/* index or slice inside [ ] */
static struct jnode *parse_subscript(struct jctx *c, struct jnode *obj, size_t pos)
{
        struct jnode *parts[3] = {NULL, NULL, NULL};
        int k = 0, slice = 0;

        while (!tok_is(peek(c), JT_RBRACKET, NULL)) {
                if (tok_is(peek(c), JT_COLON, NULL)) {
                        next(c);
                        slice = 1;
                        if (++k > 2)
                                syntax(c, "']'");
                        continue;
                }
                if (parts[k])
                        syntax(c, "':' or ']'");
                parts[k] = parse_expr(c);
        }
        next(c);
        struct jnode *n;
        if (slice) {
                n = node(c, JN_SLICE, pos);
                n->b = parts[0];
                n->c = parts[1];
                if (parts[2])  /* the step rides in args */
                        jnode_list_push(c, &n->args, parts[2]);
        } else {
                if (!parts[0])
                        syntax(c, "an index");
                n = node(c, JN_INDEX, pos);
                n->b = parts[0];
        }
        n->a = obj;
        return n;
}

static struct jnode *parse_postfix(struct jctx *c, struct jnode *n)
{
        for (;;) {
                struct jtok *t = peek(c);
                if (t->t == JT_DOT) {
                        next(c);
                        struct jtok *name = next(c);
                        struct jnode *m;
                        if (name->t == JT_IDENT) {
                                m = node(c, JN_ATTR, name->pos);
                                m->str = jstr_new(c, name->s, name->n);
                        } else if (name->t == JT_NUM && !memchr(name->s, '.', name->n)) {
                                m = node(c, JN_INDEX, name->pos);
                                m->b = node(c, JN_INT, name->pos);
                                m->b->i = strtoll(jstrndup(c, name->s, name->n), NULL, 10);
                        } else {
                                if (name->t != JT_EOF)
                                        c->itok--;
                                syntax(c, "an attribute name");
                        }
                        m->a = n;
                        n = m;
                } else if (t->t == JT_LBRACKET) {
                        next(c);
                        enter(c);
                        n = parse_subscript(c, n, t->pos);
                        leave(c);
                } else if (t->t == JT_LPAREN) {
                        struct jnode *call = node(c, JN_CALL, t->pos);
                        call->a = n;
                        enter(c);
                        parse_args(c, &call->args, 0);
                        leave(c);
                        n = call;
                } else {
                        return n;
                }
        }
}

static struct jnode *parse_unary(struct jctx *c)
{
        struct jtok *t = peek(c);

        if ((t->t == JT_UNARY || t->t == JT_ADD) && t->n == 1 && (t->s[0] == '-' || t->s[0] == '+')) {
                next(c);
                enter(c);
                struct jnode *n = node(c, JN_UNARY, t->pos);
                n->op = t->s[0];
                n->a = parse_unary(c);
                leave(c);
                return n;
        }
        return parse_postfix(c, parse_primary(c));
}

static struct jnode *parse_filter(struct jctx *c)
{
        struct jnode *n = parse_unary(c);

        while (tok_is(peek(c), JT_PIPE, NULL)) {
                next(c);
                struct jtok *name = expect(c, JT_IDENT, NULL, "a filter name");
                struct jnode *f = node(c, JN_FILTER, name->pos);
                f->str = jstr_new(c, name->s, name->n);
                f->a = n;
                if (tok_is(peek(c), JT_LPAREN, NULL)) {
                        f->op = 1;  /* called with parentheses */
                        parse_args(c, &f->args, 0);
                }
                n = f;
        }
        return n;
}

static struct jnode *parse_test(struct jctx *c)
{
        struct jnode *n = parse_filter(c);

        while (is_ident(c, "is")) {
                next(c);
                int neg = 0;
                if (is_ident(c, "not")) {
                        next(c);
                        neg = 1;
                }
                struct jtok *name = expect(c, JT_IDENT, NULL, "a test name");
                struct jnode *t = node(c, JN_TEST, name->pos);
                t->str = jstr_new(c, name->s, name->n);
                t->op = neg;
                t->a = n;
                if (tok_is(peek(c), JT_LPAREN, NULL))
                        parse_args(c, &t->args, 0);
                n = t;
        }
        return n;
}

static struct jnode *binary(struct jctx *c, int op, struct jnode *a, struct jnode *b, size_t pos)
{
        struct jnode *n = node(c, JN_BINARY, pos);

        n->op = op;
        n->a = a;
        n->b = b;
        return n;
}

static struct jnode *parse_pow(struct jctx *c)
{
        struct jnode *n = parse_test(c);

        while (peek(c)->t == JT_POW) {
                size_t pos = next(c)->pos;
                n = binary(c, JOP_POW, n, parse_test(c), pos);
        }
        return n;
}

static struct jnode *parse_mul(struct jctx *c)
{
        struct jnode *n = parse_pow(c);

        while (peek(c)->t == JT_MUL) {
                struct jtok *t = next(c);
                int op = t->n == 2 ? JOP_FLOORDIV : t->s[0] == '*' ? JOP_MUL : t->s[0] == '/' ? JOP_DIV
                                                                                              : JOP_MOD;
                n = binary(c, op, n, parse_pow(c), t->pos);
        }
        return n;
}

static struct jnode *parse_add(struct jctx *c)
{
        struct jnode *n = parse_mul(c);

        while (peek(c)->t == JT_ADD) {
                struct jtok *t = next(c);
                int op = t->s[0] == '+' ? JOP_ADD : t->s[0] == '-' ? JOP_SUB : JOP_CONCAT;
                n = binary(c, op, n, parse_mul(c), t->pos);
        }
        return n;
}

static struct jnode *parse_cmp(struct jctx *c)
{
        struct jnode *n = parse_add(c);

        for (;;) {
                struct jtok *t = peek(c);
                int op;
                if (is_ident(c, "not") && tok_is(peek2(c), JT_IDENT, "in")) {
                        next(c);
                        next(c);
                        op = JOP_NOTIN;
                } else if (is_ident(c, "in")) {
                        next(c);
                        op = JOP_IN;
                } else if (t->t == JT_CMP) {
                        next(c);
                        op = t->s[0] == '=' ? JOP_EQ : t->s[0] == '!' ? JOP_NE
                           : t->s[0] == '<' ? (t->n == 2 ? JOP_LE : JOP_LT)
                                            : (t->n == 2 ? JOP_GE : JOP_GT);
                } else {
                        return n;
                }
                n = binary(c, op, n, parse_add(c), t->pos);
        }
}

static struct jnode *parse_not(struct jctx *c)
{
        if (is_ident(c, "not")) {
                struct jtok *t = next(c);
                enter(c);
                struct jnode *n = node(c, JN_NOT, t->pos);
                n->a = parse_not(c);
                leave(c);
                return n;
        }
        return parse_cmp(c);
}

static struct jnode *parse_and(struct jctx *c)
{
        struct jnode *n = parse_not(c);

        while (is_ident(c, "and")) {
                struct jnode *m = node(c, JN_AND, next(c)->pos);
                m->a = n;
                m->b = parse_not(c);
                n = m;
        }
        return n;
}

static struct jnode *parse_or(struct jctx *c)
{
        struct jnode *n = parse_and(c);

        while (is_ident(c, "or")) {
                struct jnode *m = node(c, JN_OR, next(c)->pos);
                m->a = n;
                m->b = parse_and(c);
                n = m;
        }
        return n;
}

static struct jnode *parse_expr(struct jctx *c)
{
        enter(c);
        struct jnode *n = parse_or(c);
        if (is_ident(c, "if")) {
                struct jtok *t = next(c);
                struct jnode *cond = parse_or(c);
                struct jnode *m;
                if (is_ident(c, "else")) {
                        next(c);
                        m = node(c, JN_TERNARY, t->pos);
                        m->c = parse_expr(c);
                } else {
                        m = node(c, JN_SELECT, t->pos);
                }
                m->a = n;
                m->b = cond;
                n = m;
        }
        leave(c);
        return n;
}

/* a, b, c  (a tuple when there is a comma) */
static struct jnode *parse_seq(struct jctx *c, int primary)
{
        struct jnode *n = primary ? parse_primary(c) : parse_expr(c);

        if (!tok_is(peek(c), JT_COMMA, NULL))
                return n;
        struct jnode *t = node(c, JN_TUPLE, n->pos);
        jnode_list_push(c, &t->args, n);
        while (tok_is(peek(c), JT_COMMA, NULL)) {
                next(c);
                jnode_list_push(c, &t->args, primary ? parse_primary(c) : parse_expr(c));
        }
        return t;
}

/* ---- statements --------------------------------------------------------- */

static int at_stmt(struct jctx *c, const char *const *names)
{
        if (peek(c)->t != JT_OPEN_STMT)
                return 0;
        for (; *names; names++)
                if (tok_is(peek2(c), JT_IDENT, *names))
                        return 1;
        return 0;
}

static void parse_body(struct jctx *c, struct jnode_list *body, const char *const *stops);

static void close_stmt(struct jctx *c)
{
        expect(c, JT_CLOSE_STMT, NULL, "'%}'");
}

static void expect_end(struct jctx *c, const char *name)
{
        char what[40];

        snprintf(what, sizeof(what), "'%s'", name);
        expect(c, JT_OPEN_STMT, NULL, what);
        expect(c, JT_IDENT, name, what);
        close_stmt(c);
}

static struct jnode *parse_if(struct jctx *c, size_t pos)
{
        static const char *const stops[] = {"elif", "else", "endif", NULL};
        static const char *const endif[] = {"endif", NULL};
        struct jnode *n = node(c, JN_IF, pos);

        n->a = parse_expr(c);
        close_stmt(c);
        parse_body(c, &n->body, stops);
        if (at_stmt(c, (const char *const[]){"elif", NULL})) {
                next(c);
                size_t p = next(c)->pos;
                enter(c);
                jnode_list_push(c, &n->alt, parse_if(c, p));
                leave(c);
        } else if (at_stmt(c, (const char *const[]){"else", NULL})) {
                next(c);
                next(c);
                close_stmt(c);
                parse_body(c, &n->alt, endif);
        }
        return n;
}

static struct jnode *parse_stmt(struct jctx *c)
{
        struct jtok *open = next(c);  /* {% */
        struct jtok *kw = peek(c);
        struct jnode *n;

        if (kw->t != JT_IDENT)
                syntax(c, "a statement name");
        next(c);
        enter(c);
        if (tok_is(kw, JT_IDENT, "set")) {
                n = node(c, JN_SET, kw->pos);
                n->a = parse_seq(c, 0);
                if (n->a->kind != JN_NAME && n->a->kind != JN_TUPLE && n->a->kind != JN_ATTR)
                        jctx_fail(c, MU_EFORMAT, n->a->pos, "syntax error: cannot assign to this");
                if (tok_is(peek(c), JT_ASSIGN, NULL)) {
                        next(c);
                        n->b = parse_seq(c, 0);
                        close_stmt(c);
                } else {
                        close_stmt(c);
                        parse_body(c, &n->body, (const char *const[]){"endset", NULL});
                        expect_end(c, "endset");
                }
        } else if (tok_is(kw, JT_IDENT, "if")) {
                n = parse_if(c, kw->pos);
                expect_end(c, "endif");
        } else if (tok_is(kw, JT_IDENT, "for")) {
                n = node(c, JN_FOR, kw->pos);
                n->a = parse_seq(c, 1);
                if (n->a->kind != JN_NAME && n->a->kind != JN_TUPLE)
                        jctx_fail(c, MU_EFORMAT, n->a->pos, "syntax error: bad loop variable");
                for (int i = 0; n->a->kind == JN_TUPLE && i < n->a->args.n; i++)
                        if (n->a->args.v[i]->kind != JN_NAME)
                                jctx_fail(c, MU_EFORMAT, n->a->pos, "syntax error: bad loop variable");
                expect(c, JT_IDENT, "in", "'in'");
                struct jnode *it = parse_expr(c);
                if (it->kind == JN_SELECT) {
                        n->b = it->a;
                        n->c = it->b;
                } else {
                        n->b = it;
                }
                close_stmt(c);
                parse_body(c, &n->body, (const char *const[]){"endfor", "else", NULL});
                if (at_stmt(c, (const char *const[]){"else", NULL})) {
                        next(c);
                        next(c);
                        close_stmt(c);
                        parse_body(c, &n->alt, (const char *const[]){"endfor", NULL});
                }
                expect_end(c, "endfor");
        } else if (tok_is(kw, JT_IDENT, "macro")) {
                struct jtok *name = expect(c, JT_IDENT, NULL, "a macro name");
                n = node(c, JN_MACRO, kw->pos);
                n->str = jstr_new(c, name->s, name->n);
                parse_args(c, &n->args, 1);
                close_stmt(c);
                parse_body(c, &n->body, (const char *const[]){"endmacro", NULL});
                expect_end(c, "endmacro");
        } else if (tok_is(kw, JT_IDENT, "call")) {
                n = node(c, JN_CALLBLOCK, kw->pos);
                if (tok_is(peek(c), JT_LPAREN, NULL))
                        parse_args(c, &n->args, 1);
                struct jtok *name = expect(c, JT_IDENT, NULL, "a macro name");
                struct jnode *callee = node(c, JN_NAME, name->pos);
                callee->str = jstr_new(c, name->s, name->n);
                n->a = node(c, JN_CALL, name->pos);
                n->a->a = callee;
                parse_args(c, &n->a->args, 0);
                close_stmt(c);
                parse_body(c, &n->body, (const char *const[]){"endcall", NULL});
                expect_end(c, "endcall");
        } else if (tok_is(kw, JT_IDENT, "filter")) {
                struct jtok *name = expect(c, JT_IDENT, NULL, "a filter name");
                n = node(c, JN_FILTERBLOCK, kw->pos);
                n->str = jstr_new(c, name->s, name->n);
                if (tok_is(peek(c), JT_LPAREN, NULL)) {
                        n->op = 1;
                        parse_args(c, &n->args, 0);
                }
                close_stmt(c);
                parse_body(c, &n->body, (const char *const[]){"endfilter", NULL});
                expect_end(c, "endfilter");
        } else if (tok_is(kw, JT_IDENT, "break") || tok_is(kw, JT_IDENT, "continue")) {
                n = node(c, kw->s[0] == 'b' ? JN_BREAK : JN_CONTINUE, kw->pos);
                close_stmt(c);
        } else {
                jctx_fail(c, MU_EFORMAT, kw->pos, "syntax error: unknown or unexpected statement '%.*s'",
                          (int)(kw->n > 40 ? 40 : kw->n), kw->s);
        }
        (void)open;
        leave(c);
        return n;
}

static void parse_body(struct jctx *c, struct jnode_list *body, const char *const *stops)
{
        for (;;) {
                struct jtok *t = peek(c);
                if (stops && at_stmt(c, stops))
                        return;
                switch (t->t) {
                case JT_EOF:
                        if (stops) {
                                char what[64];
                                snprintf(what, sizeof(what), "'{%% %s %%}'", stops[0]);
                                syntax(c, what);
                        }
                        return;
                case JT_TEXT: {
                        struct jnode *n = node(c, JN_TEXT, t->pos);
                        n->str = jstr_new(c, t->s, t->n);
                        next(c);
                        jnode_list_push(c, body, n);
                        break;
                }
                case JT_COMMENT:
                        next(c);
                        break;
                case JT_OPEN_STMT:
                        jnode_list_push(c, body, parse_stmt(c));
                        break;
                case JT_OPEN_EXPR: {
                        next(c);
                        struct jnode *n = node(c, JN_OUTPUT, t->pos);
                        n->a = parse_expr(c);
                        expect(c, JT_CLOSE_EXPR, NULL, "'}}'");
                        jnode_list_push(c, body, n);
                        break;
                }
                default:
                        syntax(c, "text or a tag");
                }
        }
}

struct jnode_list jinja_parse(struct jctx *c)
{
        struct jnode_list prog = {0};

        c->itok = 0;
        c->depth = 0;
        parse_body(c, &prog, NULL);
        return prog;
}
