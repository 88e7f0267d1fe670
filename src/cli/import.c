/* import.c -- `mullama import PATH [--name NAME]`: add models from an
 * archive made by `mullama export`, from a store directory (Ollama's or
 * mullama's), or from a GGUF file (store_archive.h).  Each model added is
 * reported on stderr as "imported NAME". */
#include <stdlib.h>

#include "cli/cli.h"
#include "mullama/store_archive.h"

static void on_model(void *ud, const char *name)
{
        (void)ud;
        fprintf(stderr, "imported %s\n", name);
}

int cmd_import(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "import", "PATH",
                "Import models from an archive, a store directory or a GGUF file",
                "PATH: an archive from 'mullama export' (.tar, .tar.gz, .tar.zst, ...),\n"
                "a model store directory (e.g. ~/.ollama/models), or a .gguf file.\n"
                "Every blob is checked against its SHA-256; on any error nothing is added."};
        const char *name = NULL;
        const struct opt opts[] = {
                {"name", 0, OPT_STR, &name, "NAME", "model name for a GGUF file (default: file name)"},
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
        if (np != 1) {
                free(pos);
                return opt_error(&u, np ? "too many arguments" : "missing PATH");
        }
        mu_install_sigint();
        rc = store_import(cfg, pos[0], name, on_model, NULL, &err);
        mu_restore_sigint();
        free(pos);
        return rc ? cli_fail(&err) : 0;
}
