/* show.h -- what cli/show.c and cli/show_json.c share: the model being
 * shown (GGUF + facts, and the store's layers when it came from the store). */
#ifndef MULLAMA_CLI_SHOW_H
#define MULLAMA_CLI_SHOW_H

#include "mullama/gguf.h"
#include "mullama/model_info.h"
#include "mullama/store.h"

struct show_model {
        const char *arg;            /* as given on the command line */
        char *path;                 /* GGUF path (expanded) */
        struct gguf *g;
        struct model_info mi;
        struct store_model *sm;     /* NULL when arg was a file path */
        const char *tmpl;           /* store TEMPLATE, else GGUF chat template */
        const char *system;         /* store SYSTEM or NULL */
        const char *params_json;    /* store params layer or NULL */
        const char *const *licenses;
        int n_licenses;
};

/* Print the model as one JSON object on stdout (verbose: every kv with its
 * full value, and the tensor list). */
void show_json(const struct show_model *m, int verbose);

#endif
