/* modelfile.h -- Ollama's Modelfile format: parse, validate, render.
 *
 * Grammar (one directive per line; keywords case-insensitive):
 *   # comment                     only where a directive could start
 *   FROM <model ref | path>       required, once
 *   PARAMETER <name> <value>      typed (see modelfile_param_type); stop repeats
 *   TEMPLATE <text>               Go template text
 *   SYSTEM <text>
 *   ADAPTER <path | ref>          repeatable
 *   LICENSE <text>                repeatable
 *   MESSAGE <role> <text>         role: system, user or assistant
 *   REQUIRES <version>            minimum version, e.g. 0.5.0
 * mullama extensions:
 *   GPU_LAYERS n (= PARAMETER num_gpu n), THREADS n (= num_thread),
 *   CONTEXT n (= num_ctx), FLASH_ATTENTION on|off.
 * A <text>/<value> is either `"""...."""` (may span lines, kept verbatim),
 * `"..."` (may span lines; \" is a literal quote, \\ a backslash) or the rest
 * of the line with surrounding blanks trimmed.  Nothing but blanks may follow
 * a closing quote.
 *
 * Deprecated Ollama parameters (mirostat*, penalize_newline, low_vram, f16_kv,
 * logits_all, vocab_only, use_mlock, tfs_z) are accepted, dropped, and
 * reported in modelfile.warnings.  When a parameter is set twice (also via an
 * extension keyword) the later one wins and a warning names both lines.
 *
 * Errors: MU_EFORMAT with "FILE:LINE:COL: what was expected"; unknown
 * keywords and parameters add "(did you mean 'X'?)" when one is close. */
#ifndef MULLAMA_MODELFILE_H
#define MULLAMA_MODELFILE_H

#include "mullama/mullama.h"

enum modelfile_ptype {
        MODELFILE_PINT,
        MODELFILE_PFLOAT,
        MODELFILE_PBOOL,
        MODELFILE_PSTRING, /* stop: repeatable, an array in params JSON */
};

struct modelfile_param {
        char *name;  /* canonical name, e.g. "num_gpu" */
        char *value; /* as written, unquoted; validated against its type */
        int line;
};

struct modelfile_message {
        char *role; /* "system", "user" or "assistant" */
        char *content;
};

struct modelfile {
        char *from;
        int from_line;
        char *tmpl;     /* TEMPLATE or NULL */
        char *system;   /* SYSTEM or NULL */
        char *requires; /* REQUIRES or NULL */
        char **adapters;
        int n_adapters;
        char **licenses;
        int n_licenses;
        struct modelfile_message *messages;
        int n_messages;
        struct modelfile_param *params; /* in order; only stop repeats */
        int n_params;
        int flash_attention; /* -1 unset, 0 off, 1 on */
        char **warnings;     /* "FILE:LINE: message" */
        int n_warnings;
};

/* Parse text (len bytes, may contain NULs, which are an error).  name is
 * used in messages ("Modelfile").  On success fill *mf (release with
 * modelfile_release); on failure *mf is left empty. */
int modelfile_parse(struct modelfile *mf, const char *name, const char *text,
                    size_t len, struct mu_err *err);
/* Read and parse a file (at most 16 MiB). */
int modelfile_parse_file(struct modelfile *mf, const char *path, struct mu_err *err);
void modelfile_release(struct modelfile *mf);

/* Type of a known parameter: 0 and *type set, or MU_ENOTFOUND.
 * *deprecated is set to 1 for deprecated names (may be NULL). */
int modelfile_param_type(const char *name, enum modelfile_ptype *type, int *deprecated);
/* Last value of a parameter or NULL. */
const char *modelfile_get_param(const struct modelfile *mf, const char *name);

/* Parameters as Ollama's params layer JSON: {"stop":["a"],"top_k":40,...}.
 * Returns NULL when there are none (and no flash_attention).  Caller frees. */
char *modelfile_params_json(const struct modelfile *mf);
/* MESSAGE directives as a JSON array of {role, content}; NULL when none. */
char *modelfile_messages_json(const struct modelfile *mf);

/* Render back to Modelfile text that modelfile_parse() reads to the same
 * struct (FROM, TEMPLATE, SYSTEM, ADAPTER, PARAMETER..., FLASH_ATTENTION,
 * MESSAGE, LICENSE, REQUIRES).  Caller frees. */
char *modelfile_render(const struct modelfile *mf);
/* Append the line "KW v\n" (KW from the printf-style kw_fmt) with v quoted
 * so that modelfile_parse() reads back exactly v: bare (unless block),
 * """...""" or "..." with escapes, the first that does. */
struct mu_buf;
void modelfile_add_line(struct mu_buf *b, int block, const char *v, const char *kw_fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Levenshtein distance (bytes, case-insensitive); exported for tests. */
int modelfile_edit_distance(const char *a, const char *b);

#endif
