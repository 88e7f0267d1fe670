/* opt.c -- the shared option parser and usage printer (see cli.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

void opt_usage(FILE *f, const struct cmd_usage *u, const struct opt *opts)
{
        fprintf(f, "Usage: mullama %s [OPTIONS] %s\n\n%s\n", u->name,
                u->synopsis ? u->synopsis : "", u->summary);
        if (u->details)
                fprintf(f, "\n%s\n", u->details);
        fprintf(f, "\nOptions:\n");
        for (const struct opt *o = opts; o && o->lng; o++) {
                char left[64];
                if (o->shrt)
                        snprintf(left, sizeof(left), "-%c, --%s%s%s", o->shrt, o->lng,
                                 o->arg ? " " : "", o->arg ? o->arg : "");
                else
                        snprintf(left, sizeof(left), "    --%s%s%s", o->lng,
                                 o->arg ? " " : "", o->arg ? o->arg : "");
                fprintf(f, "  %-28s %s\n", left, o->help);
        }
        fprintf(f, "  %-28s %s\n", "-h, --help", "show this help");
}

int opt_error(const struct cmd_usage *u, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "error: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nUsage: mullama %s [OPTIONS] %s\n"
                        "Run 'mullama %s --help' for more.\n",
                u->name, u->synopsis ? u->synopsis : "", u->name);
        return MU_EXIT_USAGE;
}

int cli_fail(const struct mu_err *err)
{
        fprintf(stderr, "error: %s\n", err->msg);
        return mu_exit_code(err->code);
}

static int set_value(const struct cmd_usage *u, const struct opt *o,
                     const char *val)
{
        char *end;

        switch (o->kind) {
        case OPT_BOOL:
                *(int *)o->dst = 1;
                return OPT_OK;
        case OPT_INT: {
                errno = 0;
                long v = strtol(val, &end, 10);
                if (errno || end == val || *end || v < INT_MIN || v > INT_MAX) {
                        opt_error(u, "option '--%s' expects an integer, got '%s'",
                                  o->lng, val);
                        return OPT_ERROR;
                }
                *(int *)o->dst = (int)v;
                return OPT_OK;
        }
        case OPT_FLOAT: {
                errno = 0;
                float v = strtof(val, &end);
                if (errno || end == val || *end) {
                        opt_error(u, "option '--%s' expects a number, got '%s'", o->lng,
                                  val);
                        return OPT_ERROR;
                }
                *(float *)o->dst = v;
                return OPT_OK;
        }
        case OPT_STR:
                *(const char **)o->dst = val;
                return OPT_OK;
        case OPT_LIST: {
                char ***lp = o->dst;
                size_t n = 0;
                while (*lp && (*lp)[n])
                        n++;
                *lp = mu_xrealloc(*lp, (n + 2) * sizeof(char *));
                (*lp)[n] = (char *)val;
                (*lp)[n + 1] = NULL;
                return OPT_OK;
        }
        }
        return OPT_ERROR;
}

int opt_parse(const struct cmd_usage *u, const struct opt *opts, int argc,
              char **argv, int *n_pos, char ***pos)
{
        int np = 0, only_pos = 0;

        *pos = mu_xcalloc((size_t)argc + 1, sizeof(char *));
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                const struct opt *o = NULL;
                const char *val = NULL;

                if (only_pos || a[0] != '-' || a[1] == '\0') {
                        (*pos)[np++] = argv[i];
                        continue;
                }
                if (strcmp(a, "--") == 0) {
                        only_pos = 1;
                        continue;
                }
                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        opt_usage(stdout, u, opts);
                        free(*pos);
                        *pos = NULL;
                        return OPT_HELP;
                }
                if (a[1] == '-') {
                        const char *name = a + 2, *eq = strchr(name, '=');
                        size_t len = eq ? (size_t)(eq - name) : strlen(name);
                        for (const struct opt *p = opts; p && p->lng; p++)
                                if (strlen(p->lng) == len && !strncmp(p->lng, name, len))
                                        o = p;
                        if (o && eq)
                                val = eq + 1;
                        if (o && eq && o->kind == OPT_BOOL) {
                                opt_error(u, "option '--%s' takes no value", o->lng);
                                goto fail;
                        }
                } else if (a[2] == '\0') {
                        for (const struct opt *p = opts; p && p->lng; p++)
                                if (p->shrt == a[1])
                                        o = p;
                }
                if (!o) {
                        opt_error(u, "unknown option '%s'", a);
                        goto fail;
                }
                if (o->kind != OPT_BOOL && !val) {
                        if (i + 1 >= argc) {
                                opt_error(u, "option '--%s' needs a value", o->lng);
                                goto fail;
                        }
                        val = argv[++i];
                }
                if (set_value(u, o, val) != OPT_OK)
                        goto fail;
        }
        *n_pos = np;
        return OPT_OK;
fail:
        free(*pos);
        *pos = NULL;
        return OPT_ERROR;
}
