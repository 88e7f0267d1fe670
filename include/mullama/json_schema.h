/* json_schema.h -- JSON-schema constrained output, on top of json_prefix.
 *
 * json_schema_compile() reads the subset of JSON Schema that structured
 * output uses (what Ollama's `format` and OpenAI's json_schema carry):
 * "type" (a name or a list: object, array, string, number, integer, boolean,
 * null), "properties" with "required" (an object with properties accepts
 * only those keys, each at most once, and closes only when every required
 * one is present), "items", string "enum" and "const";
 * "$ref" to a local JSON pointer ("#", "#/$defs/X", "#/definitions/X", any
 * "#/a/b"; recursion allowed, other refs accept any value);
 * "anyOf"/"oneOf": the alternative is chosen by the value's first byte (its
 * JSON kind); alternatives of the same kind are merged into their union
 * (keys of any of them, required only when required by all, enums joined,
 * the loosest bounds), so a value may pass that no single alternative
 * accepts, and oneOf's "exactly one" is not checked; keywords next to
 * anyOf/oneOf are ignored;
 * "minimum"/"maximum" and "exclusiveMinimum"/"exclusiveMaximum" (numbers:
 * every prefix must still be able to reach the range; no exponent then);
 * "minLength"/"maxLength" (characters: code points, an escape is one);
 * "minItems"/"maxItems";
 * "pattern": a regular expression subset (literals, ., [classes], \d \w \s
 * and their negations, groups, |, * + ? {n,m}, ^ and $ at the ends; at most
 * 62 character positions after expanding {n,m}), matched as JSON Schema
 * does (a search unless anchored); other patterns accept any string.
 * Other keywords are ignored.  Numbers take at most JSON_SCHEMA_MAX_DIGITS
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
        /* the string or number being read (always the innermost value) */
        uint8_t uesc;      /* \u escape: hex digits still to come */
        uint8_t nneg, ndot, nexp, nidig, nfdig;  /* number: sign, '.', 'e', digit counts */
        uint8_t re_started;
        uint16_t ucode;    /* \u escape: code so far */
        uint32_t nchar;    /* string: characters so far */
        double nint, nfrac;  /* number: integer part, fraction so far */
        uint64_t re;       /* pattern: positions reached */
        char str[JSON_SCHEMA_MAX_STR];  /* the key or enum string being read */
};

void json_schema_state_init(struct json_schema_state *st, const struct json_schema *s);
/* 0 while the bytes fit the schema, -1 when not (st unspecified then). */
int json_schema_feed(struct json_schema_state *st, const char *p, size_t n);
int json_schema_done(const struct json_schema_state *st);

#endif
