/* json_prefix.c -- see json_prefix.h.  A push-down recogniser over bytes;
 * strings are checked for escapes and control characters, numbers follow
 * RFC 8259's grammar, literals are spelled out. */
#include <string.h>

#include "mullama/json_prefix.h"

enum {
        S_START,        /* before the top-level object: ws or '{' */
        S_VALUE,        /* a value is expected */
        S_OBJ_FIRST,    /* after '{': key or '}' */
        S_OBJ_KEY,      /* after ',' in an object: key */
        S_COLON,        /* after a key */
        S_OBJ_NEXT,     /* after a member: ',' or '}' */
        S_ARR_FIRST,    /* after '[': value or ']' */
        S_ARR_NEXT,     /* after an element: ',' or ']' */
        S_STRING,
        S_ESC,
        S_UHEX,
        S_NUMBER,
        S_LITERAL,
        S_END,          /* top-level object closed: only whitespace */
};

/* number phases */
enum { N_SIGN, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

static const char *const literals[3] = {"true", "false", "null"};

void json_prefix_init(struct json_prefix *p)
{
        memset(p, 0, sizeof(*p));
        p->state = S_START;
}

int json_prefix_done(const struct json_prefix *p) { return p->done; }

static int is_ws(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* A value just ended: go to the state after it in the enclosing container. */
static void value_done(struct json_prefix *p)
{
        if (p->depth == 0) {
                p->state = S_END;
                p->done = 1;
                return;
        }
        p->state = p->stack[p->depth - 1] == '{' ? S_OBJ_NEXT : S_ARR_NEXT;
}

static int push(struct json_prefix *p, uint8_t c)
{
        if (p->depth >= JSON_PREFIX_MAX_DEPTH)
                return -1;
        p->stack[p->depth++] = c;
        p->state = c == '{' ? S_OBJ_FIRST : S_ARR_FIRST;
        return 0;
}

static int start_value(struct json_prefix *p, int c)
{
        switch (c) {
        case '{':
        case '[':
                return push(p, (uint8_t)c);
        case '"':
                p->state = S_STRING;
                p->in_key = 0;
                return 0;
        case 't':
        case 'f':
        case 'n':
                p->state = S_LITERAL;
                p->sub = (uint8_t)((c == 't' ? 0 : c == 'f' ? 1 : 2) << 4 | 1);
                return 0;
        case '-':
                p->state = S_NUMBER;
                p->sub = N_SIGN;
                return 0;
        }
        if (c >= '0' && c <= '9') {
                p->state = S_NUMBER;
                p->sub = c == '0' ? N_ZERO : N_INT;
                return 0;
        }
        return -1;
}

/* One byte; returns 0 or -1. */
static int feed1(struct json_prefix *p, int c)
{
        if (p->state != S_STRING && p->state != S_ESC && p->state != S_UHEX &&
            p->state != S_NUMBER && p->state != S_LITERAL) {
                if (is_ws(c)) {
                        if (++p->ws > JSON_PREFIX_MAX_WS)
                                return -1;
                        return 0;
                }
                p->ws = 0;
        }
        switch (p->state) {
        case S_START:
                return c == '{' ? push(p, '{') : -1;
        case S_VALUE:
                return start_value(p, c);
        case S_OBJ_FIRST:
                if (c == '}') {
                        p->depth--;
                        value_done(p);
                        return 0;
                }
                /* fall through */
        case S_OBJ_KEY:
                if (c != '"')
                        return -1;
                p->state = S_STRING;
                p->in_key = 1;
                return 0;
        case S_COLON:
                if (c != ':')
                        return -1;
                p->state = S_VALUE;
                return 0;
        case S_OBJ_NEXT:
                if (c == ',') {
                        p->state = S_OBJ_KEY;
                        return 0;
                }
                if (c == '}') {
                        p->depth--;
                        value_done(p);
                        return 0;
                }
                return -1;
        case S_ARR_FIRST:
                if (c == ']') {
                        p->depth--;
                        value_done(p);
                        return 0;
                }
                return start_value(p, c);
        case S_ARR_NEXT:
                if (c == ',') {
                        p->state = S_VALUE;
                        return 0;
                }
                if (c == ']') {
                        p->depth--;
                        value_done(p);
                        return 0;
                }
                return -1;
        case S_STRING:
                if (c == '"') {
                        if (p->in_key)
                                p->state = S_COLON;
                        else
                                value_done(p);
                        return 0;
                }
                if (c == '\\') {
                        p->state = S_ESC;
                        return 0;
                }
                return (unsigned)c < 0x20 ? -1 : 0;
        case S_ESC:
                if (c == 'u') {
                        p->state = S_UHEX;
                        p->sub = 0;
                        return 0;
                }
                if (!strchr("\"\\/bfnrt", c) || c == 0)
                        return -1;
                p->state = S_STRING;
                return 0;
        case S_UHEX:
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                      (c >= 'A' && c <= 'F')))
                        return -1;
                if (++p->sub == 4)
                        p->state = S_STRING;
                return 0;
        case S_LITERAL: {
                const char *lit = literals[p->sub >> 4];
                int i = p->sub & 15;
                if (c != lit[i])
                        return -1;
                if (lit[i + 1] == '\0')
                        value_done(p);
                else
                        p->sub = (uint8_t)((p->sub & 0xf0) | (i + 1));
                return 0;
        }
        case S_NUMBER: {
                int digit = c >= '0' && c <= '9';
                switch (p->sub) {
                case N_SIGN:
                        if (!digit)
                                return -1;
                        p->sub = c == '0' ? N_ZERO : N_INT;
                        return 0;
                case N_ZERO:
                case N_INT:
                        if (digit && p->sub == N_INT)
                                return 0;
                        if (c == '.') {
                                p->sub = N_DOT;
                                return 0;
                        }
                        if (c == 'e' || c == 'E') {
                                p->sub = N_E;
                                return 0;
                        }
                        break; /* the number ends here */
                case N_DOT:
                        if (!digit)
                                return -1;
                        p->sub = N_FRAC;
                        return 0;
                case N_FRAC:
                        if (digit)
                                return 0;
                        if (c == 'e' || c == 'E') {
                                p->sub = N_E;
                                return 0;
                        }
                        break;
                case N_E:
                        if (c == '+' || c == '-') {
                                p->sub = N_ESIGN;
                                return 0;
                        }
                        /* fall through */
                case N_ESIGN:
                        if (!digit)
                                return -1;
                        p->sub = N_EXP;
                        return 0;
                case N_EXP:
                        if (digit)
                                return 0;
                        break;
                }
                /* the number is complete; c belongs to what follows */
                value_done(p);
                return feed1(p, c);
        }
        case S_END:
                return -1;
        }
        return -1;
}

int json_prefix_feed(struct json_prefix *p, const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (feed1(p, (unsigned char)s[i]) < 0)
                        return -1;
        return 0;
}
