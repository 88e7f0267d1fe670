/* completion.c -- `mullama completion bash|zsh|fish`: print a shell
 * completion script.  The scripts are completions/mullama.{bash,zsh,fish},
 * embedded at build time into gen/completions.h by tools/embed.sh (see the
 * Makefile), so the binary always carries the scripts of its own source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "completions.h"

static const struct {
        const char *shell;
        const unsigned char *text;
        size_t len; /* with the trailing NUL */
} scripts[] = {
        {"bash", mu_completion_bash, sizeof(mu_completion_bash)},
        {"zsh", mu_completion_zsh, sizeof(mu_completion_zsh)},
        {"fish", mu_completion_fish, sizeof(mu_completion_fish)},
};

int cmd_completion(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "completion", "bash|zsh|fish", "Print a shell completion script",
                "Load it in the current shell:\n"
                "  bash:  source <(mullama completion bash)\n"
                "  zsh:   source <(mullama completion zsh)     (after compinit)\n"
                "  fish:  mullama completion fish | source\n"
                "`make install` also installs the scripts where each shell finds them."};
        static const struct opt opts[] = {{0}};
        char **pos = NULL;
        int n_pos = 0, rc;

        (void)cfg;
        rc = opt_parse(&u, opts, argc - 1, argv + 1, &n_pos, &pos);
        if (rc == OPT_HELP)
                return MU_EXIT_OK;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (n_pos != 1) {
                free(pos);
                return opt_error(&u, n_pos ? "too many arguments" : "which shell? bash, zsh or fish");
        }
        for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
                if (strcmp(pos[0], scripts[i].shell))
                        continue;
                free(pos);
                fwrite(scripts[i].text, 1, scripts[i].len - 1, stdout);
                return MU_EXIT_OK;
        }
        rc = opt_error(&u, "unknown shell '%s' (bash, zsh or fish)", pos[0]);
        free(pos);
        return rc;
}
