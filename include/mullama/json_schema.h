/* json_schema.h -- JSON-schema constrained output, on top of json_prefix.
 *
 * json_schema_compile() reads the subset of JSON Schema that structured
 * output uses (what Ollama's `format` and OpenAI's json_schema carry):
 * "type" (a name or a list: object, array, string, number, integer, boolean,
 * null), "properties" with "required" (an object with properties accepts
 * only those keys, each at most once, and closes only when every required
 * one is present), "items", string "enum" and "const".  Other keywords
 * ($ref, anyOf, pattern, min/max...) are ignored: that part of the value is
 * only checked to be JSON.  Numbers take at most JSON_SCHEMA_MAX_DIGITS
 * digits in a row.
 *
 * A json_schema_state is a small plain struct, fed bytes of the output as
 * they are produced; like json_prefix it can be copied to try a candidate
 * token.  It assumes the bytes are also checked by json_prefix (lexical
 * validity is not re-checked here). */
#ifndef MULLAMA_JSON_SCHEMA_H
#define MULLAMA_JSON_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/mullama.h"

#define JSON_SCHEMA_MAX_DEPTH 32
#define JSON_SCHEMA_MAX_STR 128
#define JSON_SCHEMA_MAX_DIGITS 15  /* digits in a row in a number */

struct json_schema;

int json_schema_compile(const char *schema_json, struct json_schema **out,
                        struct mu_err *err);
void json_schema_free(struct json_schema *s);

struct json_schema_frame {
        int16_t node;      /* -1: anything */
        uint8_t kind;
        uint8_t phase;
        int16_t prop;      /* object: property of the value being read */
        uint32_t seen;     /* object: properties already present (first 32) */
};

struct json_schema_state {
        const struct json_schema *s;
        struct json_schema_frame st[JSON_SCHEMA_MAX_DEPTH];
        uint8_t depth;
        uint8_t esc;       /* inside a string, after a backslash */
        uint8_t slen;
        uint8_t done;
        char str[JSON_SCHEMA_MAX_STR];  /* the key or enum string being read */
};

void json_schema_state_init(struct json_schema_state *st, const struct json_schema *s);
/* 0 while the bytes fit the schema, -1 when not (st unspecified then). */
int json_schema_feed(struct json_schema_state *st, const char *p, size_t n);
int json_schema_done(const struct json_schema_state *st);

#endif
