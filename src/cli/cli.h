/* cli.h -- subcommands and the one shared option parser.
 *
 * Adding a subcommand: write cmd_foo() in src/cli/foo.c with a usage string
 * and an option table, declare it here, add it to the table in src/main.c,
 * then add tests (tests/cli/) and docs (man/mullama.1, completions/).
 * The return value of cmd_foo() is the process exit status (enum mu_exit). */
#ifndef MULLAMA_CLI_H
#define MULLAMA_CLI_H

#include "mullama/mullama.h"

int cmd_bench(int argc, char **argv, const struct mu_config *cfg);
int cmd_completion(int argc, char **argv, const struct mu_config *cfg);
int cmd_cp(int argc, char **argv, const struct mu_config *cfg);
int cmd_create(int argc, char **argv, const struct mu_config *cfg);
int cmd_devices(int argc, char **argv, const struct mu_config *cfg);
int cmd_export(int argc, char **argv, const struct mu_config *cfg);
int cmd_import(int argc, char **argv, const struct mu_config *cfg);
int cmd_list(int argc, char **argv, const struct mu_config *cfg);
int cmd_ps(int argc, char **argv, const struct mu_config *cfg);
int cmd_pull(int argc, char **argv, const struct mu_config *cfg);
int cmd_quantize(int argc, char **argv, const struct mu_config *cfg);
int cmd_perplexity(int argc, char **argv, const struct mu_config *cfg);
int cmd_rm(int argc, char **argv, const struct mu_config *cfg);
int cmd_run(int argc, char **argv, const struct mu_config *cfg);
int cmd_serve(int argc, char **argv, const struct mu_config *cfg);
int cmd_show(int argc, char **argv, const struct mu_config *cfg);

/* ---- option parsing ------------------------------------------------------
 * Long options "--name", "--name=value", "--name value"; short "-x", "-x v".
 * "--" ends options.  Positional arguments are collected in order.
 * OPT_LIST appends every occurrence to a NULL-terminated char ** (caller
 * frees the array, not the strings, which point into argv).
 * opt_parse() returns OPT_OK, OPT_HELP (usage was printed to stdout: exit 0)
 * or OPT_ERROR (one-line error and usage on stderr: exit 2). */
enum opt_kind { OPT_BOOL, OPT_INT, OPT_FLOAT, OPT_STR, OPT_LIST };

struct opt {
        const char *lng;      /* long name without "--" */
        char shrt;            /* short letter or 0 */
        enum opt_kind kind;
        void *dst;            /* int*, int*, float*, const char**, char*** */
        const char *arg;      /* argument name for usage ("N", "FILE") */
        const char *help;
};

enum { OPT_OK = 0, OPT_HELP = 1, OPT_ERROR = 2 };

struct cmd_usage {
        const char *name;      /* "run" */
        const char *synopsis;  /* "MODEL [PROMPT]" */
        const char *summary;   /* one line */
        const char *details;   /* extra paragraph or NULL */
};

int opt_parse(const struct cmd_usage *u, const struct opt *opts, int argc,
              char **argv, int *n_pos, char ***pos);
void opt_usage(FILE *f, const struct cmd_usage *u, const struct opt *opts);
/* "error: MSG" + short usage hint on stderr; returns MU_EXIT_USAGE. */
int opt_error(const struct cmd_usage *u, const char *fmt, ...) MU_PRINTF(2, 3);

/* ---- shared by commands that load models (resolve.c) ------------------ */
struct store_model;
struct chat_msg;
/* ref is a path (./x.gguf, /abs, ~/x) or a store name.  *path is the GGUF
 * to load (caller frees); *sm (optional) the store entry with its layers. */
int cli_resolve_model(const struct mu_config *cfg, const char *ref, char **path,
                      struct store_model **sm, struct mu_err *err);
/* Parse a messages layer ([{"role":..,"content":..}]); free with
 * cli_history_free(msgs, n). */
int cli_history_from_json(const char *json, struct chat_msg **out, int *n);
void cli_history_free(struct chat_msg *msgs, int n);

/* Pull ref with progress on stderr (a bar per layer on a terminal, plain
 * lines otherwise; nothing when quiet; NDJSON on stdout when json). */
int cli_pull(const struct mu_config *cfg, const char *ref, int insecure, int quiet, int json,
             struct mu_err *err);

/* Print "error: <err.msg>" and map the code to an exit status. */
int cli_fail(const struct mu_err *err);

#endif
