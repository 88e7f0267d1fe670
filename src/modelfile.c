/* modelfile.c -- Modelfile parser, validator and renderer (see modelfile.h).
 *
 * The parser walks the whole text with one cursor; it never copies a line
 * into a fixed buffer, so line length is bounded only by the input size.
 * Every error carries "NAME:LINE:COL"; the line/column are computed from the
 * cursor (line counting is incremental, columns are bytes + 1). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mullama/fs.h"
#include "mullama/modelfile.h"

#define MODELFILE_MAX_SIZE (16u << 20)

/* ---- parameter table ---------------------------------------------------- */

static const struct {
        const char *name;
        enum modelfile_ptype type;
        int deprecated;
} params[] = {
        {"num_ctx", MODELFILE_PINT, 0},
        {"num_predict", MODELFILE_PINT, 0},
        {"num_keep", MODELFILE_PINT, 0},
        {"temperature", MODELFILE_PFLOAT, 0},
        {"top_k", MODELFILE_PINT, 0},
        {"top_p", MODELFILE_PFLOAT, 0},
        {"min_p", MODELFILE_PFLOAT, 0},
        {"typical_p", MODELFILE_PFLOAT, 0},
        {"repeat_penalty", MODELFILE_PFLOAT, 0},
        {"repeat_last_n", MODELFILE_PINT, 0},
        {"presence_penalty", MODELFILE_PFLOAT, 0},
        {"frequency_penalty", MODELFILE_PFLOAT, 0},
        {"seed", MODELFILE_PINT, 0},
        {"stop", MODELFILE_PSTRING, 0},
        {"num_batch", MODELFILE_PINT, 0},
        {"num_thread", MODELFILE_PINT, 0},
        {"num_gpu", MODELFILE_PINT, 0},
        {"main_gpu", MODELFILE_PINT, 0},
        {"use_mmap", MODELFILE_PBOOL, 0},
        {"draft_num_predict", MODELFILE_PINT, 0},
        /* deprecated in Ollama: accepted with a warning, then dropped */
        {"mirostat", MODELFILE_PINT, 1},
        {"mirostat_tau", MODELFILE_PFLOAT, 1},
        {"mirostat_eta", MODELFILE_PFLOAT, 1},
        {"penalize_newline", MODELFILE_PBOOL, 1},
        {"low_vram", MODELFILE_PBOOL, 1},
        {"f16_kv", MODELFILE_PBOOL, 1},
        {"logits_all", MODELFILE_PBOOL, 1},
        {"vocab_only", MODELFILE_PBOOL, 1},
        {"use_mlock", MODELFILE_PBOOL, 1},
        {"tfs_z", MODELFILE_PFLOAT, 1},
};
#define N_PARAMS (sizeof(params) / sizeof(params[0]))

static const char *const keywords[] = {
        "FROM",    "PARAMETER", "TEMPLATE",   "SYSTEM",  "ADAPTER",
        "LICENSE", "MESSAGE",   "REQUIRES",   "GPU_LAYERS", "THREADS",
        "CONTEXT", "FLASH_ATTENTION",
};
#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

int modelfile_param_type(const char *name, enum modelfile_ptype *type, int *deprecated)
{
        for (size_t i = 0; i < N_PARAMS; i++)
                if (!strcmp(params[i].name, name)) {
                        if (type)
                                *type = params[i].type;
                        if (deprecated)
                                *deprecated = params[i].deprecated;
                        return 0;
                }
        return MU_ENOTFOUND;
}

int modelfile_edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        int *row, d;

        if (la > 256 || lb > 256)
                return 1 << 20;
        row = mu_xmalloc((lb + 1) * sizeof(int));
        for (size_t j = 0; j <= lb; j++)
                row[j] = (int)j;
        for (size_t i = 1; i <= la; i++) {
                int diag = row[0];
                row[0] = (int)i;
                for (size_t j = 1; j <= lb; j++) {
                        int up = row[j];
                        int cost = tolower((unsigned char)a[i - 1]) !=
                                   tolower((unsigned char)b[j - 1]);
                        int v = diag + cost;
                        if (row[j] + 1 < v)
                                v = row[j] + 1;
                        if (row[j - 1] + 1 < v)
                                v = row[j - 1] + 1;
                        row[j] = v;
                        diag = up;
                }
        }
        d = row[lb];
        free(row);
        return d;
}

/* Closest candidate within distance 2 (and less than its length), or NULL. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
        const char *best = NULL;
        int bestd = 3;

        for (size_t i = 0; i < n; i++) {
                const char *c = cands[i];
                int d = modelfile_edit_distance(word, c);
                if (d < bestd && d < (int)strlen(c)) {
                        bestd = d;
                        best = c;
                }
        }
        return best;
}

/* ---- parser state -------------------------------------------------------- */

struct parser {
        const char *s;
        size_t len, pos;
        int line;          /* line of pos, 1-based */
        size_t line_start; /* offset of that line's first byte */
        const char *name;
        struct modelfile *mf;
        struct mu_err *err;
        int vline, vcol; /* where the last value read started */
};

static void advance_to(struct parser *p, size_t to)
{
        for (; p->pos < to; p->pos++)
                if (p->s[p->pos] == '\n') {
                        p->line++;
                        p->line_start = p->pos + 1;
                }
}

static int col_of(const struct parser *p, size_t pos)
{
        return (int)(pos - p->line_start) + 1;
}

/* Error at offset pos (must be on the current line). */
static int perr(struct parser *p, size_t pos, const char *fmt, ...) MU_PRINTF(3, 4);
static int perr(struct parser *p, size_t pos, const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return mu_fail(p->err, MU_EFORMAT, "%s:%d:%d: %s", p->name, p->line,
                       col_of(p, pos), msg);
}

/* Error at the start of the last value read. */
static int verr(struct parser *p, const char *fmt, ...) MU_PRINTF(2, 3);
static int verr(struct parser *p, const char *fmt, ...)
{
        char msg[400];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return mu_fail(p->err, MU_EFORMAT, "%s:%d:%d: %s", p->name, p->vline, p->vcol, msg);
}

static void warn(struct parser *p, int line, const char *fmt, ...) MU_PRINTF(3, 4);
static void warn(struct parser *p, int line, const char *fmt, ...)
{
        struct modelfile *mf = p->mf;
        struct mu_buf b = MU_BUF_INIT;
        va_list ap;

        mu_buf_addf(&b, "%s:%d: ", p->name, line);
        va_start(ap, fmt);
        char *m = NULL;
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        mu_buf_adds(&b, m ? m : "(warning)");
        free(m);
        mf->warnings = mu_xrealloc(mf->warnings, (size_t)(mf->n_warnings + 1) * sizeof(char *));
        mf->warnings[mf->n_warnings++] = mu_buf_detach(&b);
}

static int at_eol(const struct parser *p)
{
        return p->pos >= p->len || p->s[p->pos] == '\n';
}

static int is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void skip_blanks(struct parser *p)
{
        while (p->pos < p->len && is_blank(p->s[p->pos]))
                p->pos++;
}

/* A short printable excerpt of s[pos..] for messages. */
static char *excerpt(const struct parser *p, size_t pos, size_t n)
{
        size_t e = pos;

        while (e < p->len && e - pos < n && p->s[e] != '\n' && !is_blank(p->s[e]))
                e++;
        return mu_xstrndup(p->s + pos, e - pos);
}

/* After a value only blanks may follow on the line. */
static int expect_eol(struct parser *p, const char *after)
{
        skip_blanks(p);
        if (!at_eol(p)) {
                char *x = excerpt(p, p->pos, 40);
                int rc = perr(p, p->pos, "unexpected '%s' after %s", x, after);
                free(x);
                return rc;
        }
        return 0;
}

/* expect_eol after a quoted value; on failure the value is dropped. */
static int value_end(struct parser *p, char **out, const char *after)
{
        int rc = expect_eol(p, after);

        if (rc) {
                free(*out);
                *out = NULL;
        }
        return rc;
}

/* A bare word (up to a blank or end of line). */
static int read_word(struct parser *p, const char *what, const char *kw, char **out)
{
        size_t st;

        skip_blanks(p);
        if (at_eol(p))
                return perr(p, p->pos, "expected %s after %s", what, kw);
        st = p->pos;
        while (!at_eol(p) && !is_blank(p->s[p->pos]))
                p->pos++;
        *out = mu_xstrndup(p->s + st, p->pos - st);
        return 0;
}

/* A value: """...""", "..." or the rest of the line.  Consumes the line end
 * check too.  Records where the value starts in p->vline/vcol. */
static int read_value(struct parser *p, const char *what, const char *kw, char **out)
{
        skip_blanks(p);
        if (at_eol(p))
                return perr(p, p->pos, "expected %s after %s", what, kw);
        p->vline = p->line;
        p->vcol = col_of(p, p->pos);
        if (p->len - p->pos >= 3 && !memcmp(p->s + p->pos, "\"\"\"", 3)) {
                size_t open = p->pos, st = p->pos + 3;
                const char *end = memmem(p->s + st, p->len - st, "\"\"\"", 3);
                if (!end)
                        return perr(p, open, "unterminated \"\"\" string (no closing \"\"\")");
                *out = mu_xstrndup(p->s + st, (size_t)(end - (p->s + st)));
                advance_to(p, (size_t)(end - p->s) + 3);
                return value_end(p, out, "closing \"\"\"");
        }
        if (p->s[p->pos] == '"') {
                size_t open = p->pos, i = p->pos + 1;
                struct mu_buf b = MU_BUF_INIT;
                for (; i < p->len; i++) {
                        char c = p->s[i];
                        if (c == '\\' && i + 1 < p->len &&
                            (p->s[i + 1] == '"' || p->s[i + 1] == '\\')) {
                                mu_buf_addc(&b, p->s[++i]);
                                continue;
                        }
                        if (c == '"')
                                break;
                        mu_buf_addc(&b, c);
                }
                if (i >= p->len) {
                        mu_buf_release(&b);
                        return perr(p, open, "unterminated quoted string (no closing \")");
                }
                if (!b.data)
                        mu_buf_adds(&b, "");
                *out = mu_buf_detach(&b);
                advance_to(p, i + 1);
                return value_end(p, out, "closing quote");
        }
        size_t st = p->pos, e;
        while (!at_eol(p))
                p->pos++;
        e = p->pos;
        while (e > st && is_blank(p->s[e - 1]))
                e--;
        *out = mu_xstrndup(p->s + st, e - st);
        return 0;
}

/* ---- typed values ----------------------------------------------------------- */

static int parse_int(const char *v, long long *out)
{
        char *end;

        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end)
                return -1;
        if (out)
                *out = x;
        return 0;
}

static int parse_float(const char *v)
{
        char *end;

        errno = 0;
        double x = strtod(v, &end);
        return (errno || end == v || *end || !isfinite(x)) ? -1 : 0;
}

/* Go's strconv.ParseBool set; returns 0/1 or -1. */
static int parse_bool(const char *v)
{
        static const char *t[] = {"1", "t", "true"}, *f[] = {"0", "f", "false"};

        for (int i = 0; i < 3; i++) {
                if (!strcasecmp(v, t[i]))
                        return 1;
                if (!strcasecmp(v, f[i]))
                        return 0;
        }
        return -1;
}

static const char *type_words(enum modelfile_ptype t)
{
        switch (t) {
        case MODELFILE_PINT: return "an integer";
        case MODELFILE_PFLOAT: return "a number";
        case MODELFILE_PBOOL: return "true or false";
        case MODELFILE_PSTRING: return "a string";
        }
        return "a value";
}

/* Set parameter name (canonical) = value; later wins with a warning. */
static void set_param(struct parser *p, const char *name, const char *value, int line,
                      const char *how)
{
        struct modelfile *mf = p->mf;

        if (strcmp(name, "stop") != 0) {
                for (int i = 0; i < mf->n_params; i++) {
                        struct modelfile_param *q = &mf->params[i];
                        if (strcmp(q->name, name))
                                continue;
                        warn(p, line, "%s %s overrides %s %s from line %d (the later one wins)",
                             how, value, name, q->value, q->line);
                        free(q->name);
                        free(q->value);
                        memmove(q, q + 1, (size_t)(mf->n_params - i - 1) * sizeof(*q));
                        mf->n_params--;
                        break;
                }
        }
        mf->params = mu_xrealloc(mf->params, (size_t)(mf->n_params + 1) * sizeof(*mf->params));
        mf->params[mf->n_params].name = mu_xstrdup(name);
        mf->params[mf->n_params].value = mu_xstrdup(value);
        mf->params[mf->n_params].line = line;
        mf->n_params++;
}

static int do_parameter(struct parser *p, int line)
{
        char *name = NULL, *value = NULL;
        size_t npos;
        enum modelfile_ptype type;
        int dep = 0, rc;

        skip_blanks(p);
        npos = p->pos;
        rc = read_word(p, "a parameter name", "PARAMETER", &name);
        if (rc)
                return rc;
        for (char *c = name; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        if (modelfile_param_type(name, &type, &dep) != 0) {
                const char *live[N_PARAMS];
                size_t n = 0;
                for (size_t i = 0; i < N_PARAMS; i++)
                        if (!params[i].deprecated)
                                live[n++] = params[i].name;
                const char *s = suggest(name, (const char *const *)live, n);
                if (s)
                        rc = perr(p, npos, "unknown parameter '%s' (did you mean '%s'?)", name, s);
                else
                        rc = perr(p, npos, "unknown parameter '%s'", name);
                free(name);
                return rc;
        }
        char kw[128];
        snprintf(kw, sizeof(kw), "PARAMETER %s", name);
        rc = read_value(p, "a value", kw, &value);
        if (rc)
                goto out;
        if (dep) {
                warn(p, line, "parameter '%s' is deprecated and ignored", name);
                goto out;
        }
        if ((type == MODELFILE_PINT && parse_int(value, NULL)) ||
            (type == MODELFILE_PFLOAT && parse_float(value)) ||
            (type == MODELFILE_PBOOL && parse_bool(value) < 0)) {
                rc = verr(p, "PARAMETER %s expects %s, got '%.60s'", name, type_words(type),
                          value);
                goto out;
        }
        if (type == MODELFILE_PBOOL) {
                int b = parse_bool(value);
                free(value);
                value = mu_xstrdup(b ? "true" : "false");
        }
        set_param(p, name, value, line, kw);
out:
        free(name);
        free(value);
        return rc;
}

static int do_extension(struct parser *p, const char *kw, const char *param, int line)
{
        char *v = NULL;
        int rc = read_value(p, "an integer", kw, &v);

        if (rc)
                return rc;
        if (parse_int(v, NULL)) {
                rc = verr(p, "%s expects an integer, got '%.60s'", kw, v);
                free(v);
                return rc;
        }
        char how[64];
        snprintf(how, sizeof(how), "%s", kw);
        set_param(p, param, v, line, how);
        free(v);
        return 0;
}

static void add_str(char ***arr, int *n, char *s)
{
        *arr = mu_xrealloc(*arr, (size_t)(*n + 1) * sizeof(char *));
        (*arr)[(*n)++] = s;
}

static int valid_version(const char *v)
{
        /* semver-ish: digits and dots, optional -prerelease / +build */
        if (*v == 'v')
                v++;
        if (!isdigit((unsigned char)*v))
                return 0;
        for (; *v && *v != '-' && *v != '+'; v++)
                if (!isdigit((unsigned char)*v) && *v != '.')
                        return 0;
        for (; *v; v++)
                if (!isalnum((unsigned char)*v) && !strchr(".-+", *v))
                        return 0;
        return 1;
}

/* One directive starting at p->pos (a letter). */
static int do_directive(struct parser *p)
{
        struct modelfile *mf = p->mf;
        size_t kpos = p->pos;
        int line = p->line, rc = 0;
        char kw[32];
        char *v = NULL;

        while (p->pos < p->len && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_'))
                p->pos++;
        if (p->pos - kpos >= sizeof(kw) || (!at_eol(p) && !is_blank(p->s[p->pos]))) {
                char *x = excerpt(p, kpos, 40);
                rc = perr(p, kpos, "expected a directive (FROM, PARAMETER, TEMPLATE, ...), got '%s'", x);
                free(x);
                return rc;
        }
        memcpy(kw, p->s + kpos, p->pos - kpos);
        kw[p->pos - kpos] = '\0';
        for (char *c = kw; *c; c++)
                *c = (char)toupper((unsigned char)*c);

        if (!strcmp(kw, "FROM")) {
                if (mf->from)
                        return perr(p, kpos, "FROM given twice (first on line %d)", mf->from_line);
                rc = read_value(p, "a model name or path", "FROM", &v);
                if (!rc) {
                        mf->from = v;
                        mf->from_line = line;
                }
                return rc;
        }
        if (!strcmp(kw, "PARAMETER"))
                return do_parameter(p, line);
        if (!strcmp(kw, "TEMPLATE") || !strcmp(kw, "SYSTEM")) {
                char **dst = kw[0] == 'T' ? &mf->tmpl : &mf->system;
                rc = read_value(p, "text", kw, &v);
                if (rc)
                        return rc;
                if (*dst)
                        warn(p, line, "%s given again; the later one wins", kw);
                free(*dst);
                *dst = v;
                return 0;
        }
        if (!strcmp(kw, "ADAPTER") || !strcmp(kw, "LICENSE")) {
                int isad = kw[0] == 'A';
                rc = read_value(p, isad ? "a path or model name" : "text", kw, &v);
                if (rc)
                        return rc;
                if (isad)
                        add_str(&mf->adapters, &mf->n_adapters, v);
                else
                        add_str(&mf->licenses, &mf->n_licenses, v);
                return 0;
        }
        if (!strcmp(kw, "MESSAGE")) {
                char *role = NULL;
                size_t rpos;
                skip_blanks(p);
                rpos = p->pos;
                rc = read_word(p, "a role (system, user or assistant)", "MESSAGE", &role);
                if (rc)
                        return rc;
                for (char *c = role; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                if (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")) {
                        rc = perr(p, rpos, "MESSAGE role must be system, user or assistant, got '%.40s'",
                                  role);
                        free(role);
                        return rc;
                }
                rc = read_value(p, "message text", "MESSAGE role", &v);
                if (rc) {
                        free(role);
                        return rc;
                }
                mf->messages = mu_xrealloc(mf->messages,
                                           (size_t)(mf->n_messages + 1) * sizeof(*mf->messages));
                mf->messages[mf->n_messages].role = role;
                mf->messages[mf->n_messages].content = v;
                mf->n_messages++;
                return 0;
        }
        if (!strcmp(kw, "REQUIRES")) {
                rc = read_value(p, "a version", "REQUIRES", &v);
                if (rc)
                        return rc;
                if (!valid_version(v)) {
                        rc = verr(p, "REQUIRES expects a version like 0.5.0, got '%.40s'", v);
                        free(v);
                        return rc;
                }
                free(mf->requires);
                mf->requires = v;
                return 0;
        }
        if (!strcmp(kw, "GPU_LAYERS"))
                return do_extension(p, "GPU_LAYERS", "num_gpu", line);
        if (!strcmp(kw, "THREADS"))
                return do_extension(p, "THREADS", "num_thread", line);
        if (!strcmp(kw, "CONTEXT"))
                return do_extension(p, "CONTEXT", "num_ctx", line);
        if (!strcmp(kw, "FLASH_ATTENTION")) {
                rc = read_value(p, "on or off", "FLASH_ATTENTION", &v);
                if (rc)
                        return rc;
                int b = !strcasecmp(v, "on") ? 1 : !strcasecmp(v, "off") ? 0 : parse_bool(v);
                if (b < 0)
                        rc = verr(p, "FLASH_ATTENTION expects on or off, got '%.40s'", v);
                else
                        mf->flash_attention = b;
                free(v);
                return rc;
        }
        const char *s = suggest(kw, keywords, N_KEYWORDS);
        if (s)
                return perr(p, kpos, "unknown directive '%s' (did you mean '%s'?)", kw, s);
        return perr(p, kpos, "unknown directive '%s'", kw);
}

int modelfile_parse(struct modelfile *mf, const char *name, const char *text, size_t len,
                    struct mu_err *err)
{
        struct parser p = {text, len, 0, 1, 0, name ? name : "Modelfile", mf, err, 0, 0};
        const char *nul = memchr(text, '\0', len);
        int rc = 0;

        memset(mf, 0, sizeof(*mf));
        mf->flash_attention = -1;
        if (nul) {
                advance_to(&p, (size_t)(nul - text));
                return perr(&p, p.pos, "unexpected NUL byte (is this a binary file?)");
        }
        while (!rc) {
                skip_blanks(&p);
                if (p.pos >= p.len)
                        break;
                char c = p.s[p.pos];
                if (c == '\n') {
                        advance_to(&p, p.pos + 1);
                        continue;
                }
                if (c == '#') {
                        while (!at_eol(&p))
                                p.pos++;
                        continue;
                }
                if (!isalpha((unsigned char)c)) {
                        char *x = excerpt(&p, p.pos, 40);
                        rc = perr(&p, p.pos, "expected a directive (FROM, PARAMETER, TEMPLATE, ...), got '%s'", x);
                        free(x);
                        break;
                }
                rc = do_directive(&p);
        }
        if (!rc && !mf->from)
                rc = mu_fail(err, MU_EFORMAT, "%s: no FROM line (every Modelfile needs FROM <model or file>)",
                             p.name);
        if (rc)
                modelfile_release(mf);
        return rc;
}

int modelfile_parse_file(struct modelfile *mf, const char *path, struct mu_err *err)
{
        char *text = NULL;
        size_t len = 0;
        int rc;

        memset(mf, 0, sizeof(*mf));
        mf->flash_attention = -1;
        rc = mu_read_file(path, MODELFILE_MAX_SIZE, &text, &len, err);
        if (rc)
                return rc;
        rc = modelfile_parse(mf, path, text, len, err);
        free(text);
        return rc;
}

void modelfile_release(struct modelfile *mf)
{
        free(mf->from);
        free(mf->tmpl);
        free(mf->system);
        free(mf->requires);
        for (int i = 0; i < mf->n_adapters; i++)
                free(mf->adapters[i]);
        free(mf->adapters);
        for (int i = 0; i < mf->n_licenses; i++)
                free(mf->licenses[i]);
        free(mf->licenses);
        for (int i = 0; i < mf->n_messages; i++) {
                free(mf->messages[i].role);
                free(mf->messages[i].content);
        }
        free(mf->messages);
        for (int i = 0; i < mf->n_params; i++) {
                free(mf->params[i].name);
                free(mf->params[i].value);
        }
        free(mf->params);
        for (int i = 0; i < mf->n_warnings; i++)
                free(mf->warnings[i]);
        free(mf->warnings);
        memset(mf, 0, sizeof(*mf));
        mf->flash_attention = -1;
}

const char *modelfile_get_param(const struct modelfile *mf, const char *name)
{
        const char *v = NULL;

        for (int i = 0; i < mf->n_params; i++)
                if (!strcmp(mf->params[i].name, name))
                        v = mf->params[i].value;
        return v;
}

/* ---- JSON layers ------------------------------------------------------------ */

char *modelfile_params_json(const struct modelfile *mf)
{
        cJSON *o, *stop = NULL;
        char *s;

        if (!mf->n_params && mf->flash_attention < 0)
                return NULL;
        o = cJSON_CreateObject();
        for (int i = 0; i < mf->n_params; i++) {
                const struct modelfile_param *q = &mf->params[i];
                enum modelfile_ptype t = MODELFILE_PSTRING;
                long long iv = 0;
                modelfile_param_type(q->name, &t, NULL);
                switch (t) {
                case MODELFILE_PSTRING:
                        if (!stop) {
                                stop = cJSON_CreateArray();
                                cJSON_AddItemToObject(o, q->name, stop);
                        }
                        cJSON_AddItemToArray(stop, cJSON_CreateString(q->value));
                        break;
                case MODELFILE_PINT:
                        parse_int(q->value, &iv);
                        cJSON_AddNumberToObject(o, q->name, (double)iv);
                        break;
                case MODELFILE_PFLOAT:
                        cJSON_AddNumberToObject(o, q->name, strtod(q->value, NULL));
                        break;
                case MODELFILE_PBOOL:
                        cJSON_AddBoolToObject(o, q->name, parse_bool(q->value) == 1);
                        break;
                }
        }
        if (mf->flash_attention >= 0)
                cJSON_AddBoolToObject(o, "flash_attention", mf->flash_attention);
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s)
                abort(); /* cJSON only fails on OOM */
        return s;
}

char *modelfile_messages_json(const struct modelfile *mf)
{
        cJSON *a;
        char *s;

        if (!mf->n_messages)
                return NULL;
        a = cJSON_CreateArray();
        for (int i = 0; i < mf->n_messages; i++) {
                cJSON *m = cJSON_CreateObject();
                cJSON_AddStringToObject(m, "role", mf->messages[i].role);
                cJSON_AddStringToObject(m, "content", mf->messages[i].content);
                cJSON_AddItemToArray(a, m);
        }
        s = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
        if (!s)
                abort();
        return s;
}

/* ---- rendering ----------------------------------------------------------------- */

/* Write v so that read_value() gives it back. */
static void quote(struct mu_buf *b, const char *v, int block)
{
        size_t n = strlen(v);
        int plain = !block && n > 0 && !is_blank(v[0]) && !is_blank(v[n - 1]) && v[0] != '"' &&
                    !strchr(v, '\n');

        if (plain) {
                mu_buf_adds(b, v);
                return;
        }
        if (n > 0 && !strstr(v, "\"\"\"") && v[n - 1] != '"') {
                mu_buf_addf(b, "\"\"\"%s\"\"\"", v);
                return;
        }
        mu_buf_addc(b, '"');
        for (; *v; v++) {
                if (*v == '"' || *v == '\\')
                        mu_buf_addc(b, '\\');
                mu_buf_addc(b, *v);
        }
        mu_buf_addc(b, '"');
}

void modelfile_add_line(struct mu_buf *b, int block, const char *v, const char *kw_fmt, ...)
{
        va_list ap;

        va_start(ap, kw_fmt);
        mu_buf_vaddf(b, kw_fmt, ap);
        va_end(ap);
        mu_buf_addc(b, ' ');
        quote(b, v, block);
        mu_buf_addc(b, '\n');
}

char *modelfile_render(const struct modelfile *mf)
{
        struct mu_buf b = MU_BUF_INIT;

        modelfile_add_line(&b, 0, mf->from ? mf->from : "", "FROM");
        if (mf->tmpl)
                modelfile_add_line(&b, 0, mf->tmpl, "TEMPLATE");
        if (mf->system)
                modelfile_add_line(&b, 0, mf->system, "SYSTEM");
        for (int i = 0; i < mf->n_adapters; i++)
                modelfile_add_line(&b, 0, mf->adapters[i], "ADAPTER");
        for (int i = 0; i < mf->n_params; i++)
                modelfile_add_line(&b, 0, mf->params[i].value, "PARAMETER %s", mf->params[i].name);
        if (mf->flash_attention >= 0)
                mu_buf_addf(&b, "FLASH_ATTENTION %s\n", mf->flash_attention ? "on" : "off");
        for (int i = 0; i < mf->n_messages; i++)
                modelfile_add_line(&b, 0, mf->messages[i].content, "MESSAGE %s", mf->messages[i].role);
        for (int i = 0; i < mf->n_licenses; i++)
                modelfile_add_line(&b, 0, mf->licenses[i], "LICENSE");
        if (mf->requires)
                mu_buf_addf(&b, "REQUIRES %s\n", mf->requires);
        return mu_buf_detach(&b);
}
