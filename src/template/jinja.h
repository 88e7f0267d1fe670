/* jinja.h -- internals of the Jinja chat-template interpreter (src/template/jinja_*.c).
 *
 * Pipeline: jinja_lex() preprocesses the source the way HF transformers
 * renders chat templates (trim_blocks + lstrip_blocks, one trailing newline
 * dropped, {% generation %} tags removed) and cuts it into tokens;
 * jinja_parse() builds an AST; jinja_exec() walks it into an output buffer.
 *
 * Memory: every token, node, value and scratch string of one render lives in
 * one arena (struct jctx.arena) that is freed in one go when the render
 * ends.  Errors longjmp() back to jinja_render() (jctx_fail), which is safe
 * because nothing outside the arena needs cleanup.  The arena has a byte cap,
 * and evaluation has step, depth and output-size limits, so a hostile
 * template ends with an MU_E* error instead of exhausting the machine.
 *
 * Semantics follow @huggingface/jinja (the reference renderer used for the
 * tests) where it and Python Jinja disagree in ways templates can observe:
 * true/false print as "true"/"false", {{ none }} prints nothing, lists and
 * dicts print as JSON, == on lists/dicts is identity.
 * Python's behaviour is used for str.strip(chars) & co (HF ignores chars). */
#ifndef MU_TEMPLATE_JINJA_H
#define MU_TEMPLATE_JINJA_H

#include <setjmp.h>
#include <stddef.h>

#include "mullama/mullama.h"

/* ---- limits ------------------------------------------------------------- */

#define JINJA_MAX_SOURCE (1u << 20)          /* template bytes */
#define JINJA_MAX_ARENA ((size_t)256 << 20)  /* all allocations of one render */
#define JINJA_MAX_OUTPUT ((size_t)16 << 20)  /* rendered text */
#define JINJA_MAX_STEPS 5000000LL            /* evaluated nodes */
#define JINJA_MAX_DEPTH 200                  /* parser and evaluator nesting */
#define JINJA_MAX_RANGE 1000000              /* items from range() */

/* ---- arena -------------------------------------------------------------- */

struct jarena_chunk {
        struct jarena_chunk *next;
        size_t used, cap;
        max_align_t data[];
};

struct jctx;
void *jalloc(struct jctx *c, size_t n);          /* zeroed, never NULL */
char *jstrndup(struct jctx *c, const char *s, size_t n);

/* ---- values ------------------------------------------------------------- */

enum jv_type {
        JV_UNDEF, JV_NONE, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_LIST, JV_DICT, JV_NS, JV_FUNC
};

struct jstr {
        size_t n;
        char p[];  /* NUL-terminated */
};

struct jv {
        enum jv_type t;
        union {
                int b;
                long long i;
                double f;
                struct jstr *s;
                struct jlist *l;
                struct jdict *d;  /* JV_DICT and JV_NS */
                struct jfunc *fn;
        } u;
};

struct jlist {
        size_t n, cap;
        struct jv *v;
};

struct jdict {  /* insertion-ordered, string keys, linear lookup */
        size_t n, cap;
        struct jstr **k;
        struct jv *v;
};

struct jnode;
struct jscope;

enum jfunc_kind {
        JF_GLOBAL,  /* id = enum jglobal */
        JF_METHOD,  /* bound method: self + name */
        JF_MACRO,   /* node = macro definition */
        JF_CALLER,  /* node = call block; scope = where it appeared */
};

struct jfunc {
        enum jfunc_kind kind;
        int id;
        const char *name;
        struct jv self;
        const struct jnode *node;
        struct jscope *scope;
};

struct jscope {
        struct jscope *parent;
        struct jdict vars;
};

/* ---- tokens ------------------------------------------------------------- */

enum jtok_type {
        JT_EOF, JT_TEXT, JT_COMMENT, JT_NUM, JT_STR, JT_IDENT,
        JT_OPEN_STMT, JT_CLOSE_STMT, JT_OPEN_EXPR, JT_CLOSE_EXPR,
        JT_LPAREN, JT_RPAREN, JT_LBRACE, JT_RBRACE, JT_LBRACKET, JT_RBRACKET,
        JT_COMMA, JT_DOT, JT_COLON, JT_PIPE, JT_ASSIGN,
        JT_CMP,    /* == != < > <= >= */
        JT_ADD,    /* + - ~ */
        JT_MUL,    /* * / // % */
        JT_POW,    /* ** */
        JT_UNARY,  /* a lone + or - where an operand is expected */
};

struct jtok {
        enum jtok_type t;
        const char *s;  /* text, unescaped string value, number or operator */
        size_t n;
        size_t pos;     /* offset in the original source, for line:col */
};

/* ---- AST ---------------------------------------------------------------- */

enum jn_kind {
        /* statements */
        JN_TEXT, JN_OUTPUT, JN_IF, JN_FOR, JN_SET, JN_MACRO, JN_CALLBLOCK,
        JN_FILTERBLOCK, JN_BREAK, JN_CONTINUE,
        /* expressions */
        JN_STR, JN_INT, JN_FLOAT, JN_NAME, JN_LIST, JN_TUPLE, JN_DICT,
        JN_ATTR, JN_INDEX, JN_SLICE, JN_CALL, JN_KWARG, JN_FILTER, JN_TEST,
        JN_UNARY, JN_BINARY, JN_AND, JN_OR, JN_NOT, JN_TERNARY, JN_SELECT,
};

enum jop {
        JOP_NONE, JOP_ADD, JOP_SUB, JOP_CONCAT, JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD,
        JOP_POW, JOP_EQ, JOP_NE, JOP_LT, JOP_GT, JOP_LE, JOP_GE, JOP_IN, JOP_NOTIN,
};

struct jnode_list {
        struct jnode **v;
        int n, cap;
};

struct jnode {
        enum jn_kind kind;
        int op;         /* enum jop; JN_TEST: negated; JN_UNARY: '-' or '+' */
        size_t pos;     /* source offset */
        struct jstr *str;  /* literal, name, attribute, filter/test/macro name */
        long long i;
        double f;
        struct jnode *a, *b, *c;
        struct jnode_list args;  /* call/filter args, list items, dict k,v pairs, macro params */
        struct jnode_list body, alt;
};

/* ---- context ------------------------------------------------------------ */

struct jctx {
        struct jarena_chunk *arena;
        size_t arena_bytes;
        jmp_buf jmp;
        struct mu_err *err;
        const char *src;      /* original template */
        size_t src_len;
        struct jtok *toks;
        int ntok, itok;
        int depth;
        long long steps;
        struct jscope *globals;
};

_Noreturn void jctx_fail(struct jctx *c, int code, size_t pos, const char *fmt, ...)
        MU_PRINTF(4, 5);
#define JNOPOS ((size_t)-1)

/* lexer + parser: fill c->toks, return the program's statement list */
void jinja_lex(struct jctx *c);
struct jnode_list jinja_parse(struct jctx *c);
void jnode_list_push(struct jctx *c, struct jnode_list *l, struct jnode *n);

/* ---- value helpers (jinja_value.c) -------------------------------------- */

struct jbuf {
        char *p;
        size_t n, cap;
};
void jbuf_add(struct jctx *c, struct jbuf *b, const char *s, size_t n);
void jbuf_adds(struct jctx *c, struct jbuf *b, const char *s);
struct jstr *jbuf_str(struct jctx *c, struct jbuf *b);

struct jstr *jstr_new(struct jctx *c, const char *s, size_t n);
struct jv jv_undef(void);
struct jv jv_none(void);
struct jv jv_bool(int b);
struct jv jv_int(long long i);
struct jv jv_float(double f);
struct jv jv_str(struct jctx *c, const char *s, size_t n);
struct jv jv_cstr(struct jctx *c, const char *s);
struct jv jv_strv(struct jstr *s);
struct jv jv_list(struct jctx *c);
struct jv jv_dict(struct jctx *c);
struct jv jv_func(struct jctx *c, enum jfunc_kind kind, int id, const char *name);
void jlist_push(struct jctx *c, struct jlist *l, struct jv v);
struct jv *jdict_get(const struct jdict *d, const char *k, size_t n);
void jdict_set(struct jctx *c, struct jdict *d, struct jstr *k, struct jv v);
void jdict_setc(struct jctx *c, struct jdict *d, const char *k, struct jv v);

const char *jv_type_name(enum jv_type t);
int jv_truthy(struct jv v);
int jv_is_num(struct jv v);       /* int, float or bool */
double jv_num(struct jv v);
int jv_loose_eq(struct jv a, struct jv b);    /* JS == on .value, like the reference */
int jv_strict_eq(struct jv a, struct jv b);   /* JS === on .value (list membership) */
/* Append the printed form (what {{ v }} shows). */
void jv_print(struct jctx *c, struct jbuf *b, struct jv v, size_t pos);
struct jstr *jv_to_str(struct jctx *c, struct jv v, size_t pos);

struct jjson_opts {
        int indent;          /* <= 0: none */
        int ensure_ascii;
        int sort_keys;
        const char *item_sep, *key_sep;  /* NULL: defaults */
        int undef_as_null;
};
void jv_tojson(struct jctx *c, struct jbuf *b, struct jv v, const struct jjson_opts *o,
               int depth, size_t pos);

/* UTF-8 helpers */
size_t utf8_ws_len(const char *s, size_t n);          /* whitespace at s, 0 if none */
size_t utf8_ws_len_back(const char *s, size_t n);     /* whitespace ending at s+n */
size_t utf8_count(const char *s, size_t n);           /* code points */
size_t utf8_next(const char *s, size_t n, size_t i);  /* offset after the char at i */

/* ---- evaluator (jinja_eval.c) and builtins (jinja_builtins.c) ----------- */

struct jargs {
        struct jv *pos;
        int npos;
        struct jstr **kwk;
        struct jv *kwv;
        int nkw;
};

struct jv jinja_eval(struct jctx *c, struct jscope *s, const struct jnode *n);
struct jv jinja_call(struct jctx *c, struct jscope *s, struct jv fn, struct jargs *a,
                     size_t pos);
void jinja_exec_block(struct jctx *c, struct jscope *s, const struct jnode_list *body,
                      struct jbuf *out, int *ctl);
struct jv jscope_lookup(struct jscope *s, const char *name, size_t n);

enum jglobal {
        JG_RANGE, JG_NAMESPACE, JG_DICT, JG_RAISE, JG_STRFTIME, JG_COUNT
};
extern const char *const jinja_global_names[JG_COUNT];
struct jv *jargs_kw(struct jargs *a, const char *name);
/* argument i (positional) or keyword name, NULL when absent */
struct jv *jargs_get(struct jargs *a, int i, const char *name);

struct jv jinja_global_call(struct jctx *c, int id, struct jargs *a, size_t pos);
struct jv jinja_method_call(struct jctx *c, struct jv self, const char *name, struct jargs *a,
                            size_t pos);
int jinja_has_method(struct jv self, const char *name);
struct jv jinja_filter(struct jctx *c, struct jscope *s, struct jv v, const char *name,
                       struct jargs *a, int has_call, size_t pos);
int jinja_test(struct jctx *c, struct jv v, const char *name, struct jargs *a, size_t pos);
struct jv jinja_slice(struct jctx *c, struct jv v, struct jv start, struct jv stop,
                      struct jv step, size_t pos);

#endif
