/* export.c -- `mullama export MODEL... -o FILE`: the models' manifests and
 * blobs as a tar archive in the store's layout (store_archive.h); the
 * compression follows FILE's extension. */
#include <stdlib.h>

#include "cli/cli.h"
#include "mullama/store_archive.h"

int cmd_export(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "export", "MODEL... -o FILE",
                "Export models (manifests and blobs) to an archive",
                "FILE ends in .tar, .tar.gz (.tgz), .tar.zst (.tzst) or .tar.xz.  Load it\n"
                "on another machine with 'mullama import FILE'."};
        const char *out = NULL;
        const struct opt opts[] = {
                {"output", 'o', OPT_STR, &out, "FILE", "archive to write"},
                {0},
        };
        struct mu_err err = {0};
        char **pos = NULL;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np < 1 || !out) {
                free(pos);
                return opt_error(&u, np < 1 ? "missing MODEL" : "missing -o FILE");
        }
        mu_install_sigint();
        rc = store_export(cfg, pos, np, out, &err);
        mu_restore_sigint();
        free(pos);
        if (rc)
                return cli_fail(&err);
        fprintf(stderr, "exported %d model%s to %s\n", np, np == 1 ? "" : "s", out);
        return 0;
}
