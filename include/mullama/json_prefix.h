/* json_prefix.h -- is this text the beginning of a JSON object?
 *
 * An incremental recogniser for `format json` (Ollama's JSON mode, like
 * llama.cpp's json.gbnf: the top-level value is an object).  Feed bytes; it
 * says whether they can still be extended to valid JSON, and when the object
 * is complete.  The state is a small plain struct, so a sampler can copy it
 * and try each candidate token's bytes cheaply.  Whitespace runs between
 * tokens are capped (JSON_PREFIX_MAX_WS) so a model cannot loop on blanks,
 * and nesting is capped at JSON_PREFIX_MAX_DEPTH. */
#ifndef MULLAMA_JSON_PREFIX_H
#define MULLAMA_JSON_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#define JSON_PREFIX_MAX_DEPTH 48
#define JSON_PREFIX_MAX_WS 16

struct json_prefix {
        uint8_t stack[JSON_PREFIX_MAX_DEPTH];  /* '{' or '[' */
        uint8_t depth;
        uint8_t state;
        uint8_t sub;    /* literal index / number phase / \u digit count */
        uint8_t ws;     /* current whitespace run */
        uint8_t in_key; /* the string being read is an object key */
        uint8_t done;   /* the top-level object is closed */
};

void json_prefix_init(struct json_prefix *p);
/* Feed n bytes.  Returns 0 when the text so far is still a valid prefix,
 * -1 when not (p is then unspecified: feed a copy to test). */
int json_prefix_feed(struct json_prefix *p, const char *s, size_t n);
/* 1 when a complete top-level object has been read. */
int json_prefix_done(const struct json_prefix *p);

#endif
