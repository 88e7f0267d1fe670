/* run.c -- `mullama run`: not implemented yet (placeholder, exits 1). */
#include <stdlib.h>

#include "cli/cli.h"

int cmd_run(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {"run", "", "not implemented yet", NULL};
        static const struct opt opts[] = {{0}};
        char **pos = NULL;
        int np = 0, rc;

        (void)cfg;
        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        free(pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        fprintf(stderr, "error: 'mullama run' is not implemented yet\n");
        return MU_EXIT_ERROR;
}
