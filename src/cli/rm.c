/* rm.c -- `mullama rm NAME...`: remove models from our store (their
 * manifests, then blobs no other model uses).  Ollama's store is never
 * touched.  Every name is tried; the exit status is the first failure's. */
#include <stdlib.h>

#include "cli/cli.h"
#include "mullama/store.h"

int cmd_rm(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {"rm", "NAME...", "Remove one or more models",
                                           NULL};
        static const struct opt opts[] = {{0}};
        struct mu_err err;
        char **pos = NULL;
        int np = 0, rc, status = 0;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np < 1) {
                free(pos);
                return opt_error(&u, "missing model NAME");
        }
        for (int i = 0; i < np; i++) {
                if (store_remove(cfg, pos[i], &err)) {
                        int x = cli_fail(&err);
                        if (!status)
                                status = x;
                        continue;
                }
                printf("deleted '%s'\n", pos[i]);
        }
        free(pos);
        return status;
}
