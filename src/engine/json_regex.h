/* json_regex.h -- the regular-expression subset of JSON Schema "pattern"
 * that constrained output enforces (json_schema.c), as a position automaton
 * (Glushkov: one state per character position, no empty moves) whose set
 * of live positions fits one uint64_t, so a checker state stays a small
 * plain struct that can be copied per candidate token.
 *
 * Supported: literals, '.', classes [a-z0-9_] and [^...], \d \w \s \D \W \S,
 * escaped punctuation, \t \n \r, groups (...) and (?:...), alternation |,
 * quantifiers * + ? {n} {n,} {n,m} (a lazy '?' after them is ignored), '^'
 * at the start and '$' at the end.  Without '^' (or '$') the match is a
 * search, as JSON Schema asks: any text may come before (after).  Symbols
 * are ASCII bytes 0..127 and 128 for any non-ASCII character ('.' and
 * negated classes match it).  Anything else (backreferences, lookaround,
 * anchors inside, more than JSON_REGEX_MAX_POS positions) does not compile. */
#ifndef MULLAMA_ENGINE_JSON_REGEX_H
#define MULLAMA_ENGINE_JSON_REGEX_H

#include <stdint.h>

#define JSON_REGEX_MAX_POS 64
#define JSON_REGEX_NONASCII 128

struct json_regex;

/* NULL when the pattern is outside the subset or too large. */
struct json_regex *json_regex_compile(const char *pattern);
void json_regex_free(struct json_regex *r);  /* NULL is a no-op */

/* Advance the live set over one symbol (*started: 0 before the first).
 * 0 while some match is still possible, -1 when none is. */
int json_regex_step(const struct json_regex *r, uint64_t *set, uint8_t *started, int sym);
/* 1 when the text fed so far is a match. */
int json_regex_accepts(const struct json_regex *r, uint64_t set, int started);

#endif
