/* create.c -- `mullama create NAME [-f Modelfile] [--quantize TYPE]`:
 * parse the Modelfile (relative FROM/ADAPTER paths resolve against its
 * directory), then store_create().  Progress goes to stderr in Ollama's
 * words ("gathering model components", "copying file sha256:... 100%",
 * "writing manifest", "success"). */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/modelfile.h"
#include "mullama/quantize.h"
#include "mullama/store.h"

struct progress {
        int tty;
        int last_pct;
};

static void on_status(void *ud, const char *msg, const char *digest, uint64_t done,
                      uint64_t total)
{
        struct progress *p = ud;

        if (!strcmp(msg, "copying file")) {
                int pct = total ? (int)(done * 100 / total) : 100;
                if (digest) {
                        fprintf(stderr, "%scopying file %s 100%%\n", p->tty ? "\r\033[K" : "",
                                digest);
                        p->last_pct = -1;
                } else if (p->tty && pct != p->last_pct) {
                        fprintf(stderr, "\r\033[Kcopying file %d%%", pct);
                        p->last_pct = pct;
                }
                return;
        }
        if (digest)
                fprintf(stderr, "%s %s\n", msg, digest);
        else
                fprintf(stderr, "%s\n", msg);
}

int cmd_create(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "create", "NAME",
                "Create a model from a Modelfile",
                "FROM may name a GGUF file (relative paths resolve against the\n"
                "Modelfile's directory) or an existing model, whose layers are\n"
                "inherited.  See modelfiles/ for examples."};
        const char *file = NULL, *quant = NULL;
        const struct opt opts[] = {
                {"file", 'f', OPT_STR, &file, "FILE", "Modelfile to read (default ./Modelfile)"},
                {"quantize", 'q', OPT_STR, &quant, "TYPE", "quantize the weights (q4_K_M, q8_0, ...; see mullama quantize)"},
                {0},
        };
        struct store_create_opts co = {0};
        struct progress pr = {isatty(2), -1};
        struct modelfile mf;
        struct mu_err err;
        char **pos = NULL, *dir;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np != 1) {
                free(pos);
                return opt_error(&u, np ? "too many arguments" : "missing model NAME");
        }
        if (quant && quantize_ftype_from_name(quant) < 0) {
                rc = opt_error(&u, "unknown quantization type '%s' (one of: %s)", quant,
                               quantize_type_names());
                free(pos);
                return rc;
        }
        if (!file)
                file = "Modelfile";
        rc = modelfile_parse_file(&mf, file, &err);
        if (rc) {
                free(pos);
                return cli_fail(&err);
        }
        for (int i = 0; i < mf.n_warnings; i++)
                fprintf(stderr, "warning: %s\n", mf.warnings[i]);
        dir = mu_xstrdup(file);
        co.base_dir = dirname(dir);
        co.status = on_status;
        co.ud = &pr;
        mu_install_sigint();
        rc = store_create_quantized(cfg, pos[0], &mf, &co, quant, &err);
        mu_restore_sigint();
        free(dir);
        modelfile_release(&mf);
        free(pos);
        if (pr.tty && pr.last_pct >= 0)
                fputc('\n', stderr);
        return rc ? cli_fail(&err) : 0;
}
