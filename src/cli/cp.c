/* cp.c -- `mullama cp SRC DST`: copy a model (a new manifest naming the
 * same blobs; a model from Ollama's store has its blobs imported first). */
#include <stdlib.h>

#include "cli/cli.h"
#include "mullama/store.h"

int cmd_cp(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {"cp", "SOURCE DESTINATION", "Copy a model", NULL};
        static const struct opt opts[] = {{0}};
        struct mu_err err;
        char **pos = NULL;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np != 2) {
                free(pos);
                return opt_error(&u, np < 2 ? "need SOURCE and DESTINATION" : "too many arguments");
        }
        rc = store_copy(cfg, pos[0], pos[1], &err);
        if (!rc)
                printf("copied '%s' to '%s'\n", pos[0], pos[1]);
        free(pos);
        return rc ? cli_fail(&err) : 0;
}
