/* main.c -- global flags, configuration from the environment, the command
 * table, the stdout check and the exit status.  Commands live in src/cli/. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/mullama.h"

#ifndef MU_BUILD_COMMIT
#define MU_BUILD_COMMIT "unknown"
#endif

const char *mu_backends(void);  /* kernels/cpu.c: "cpu(avx512) blas vulkan" */

static const struct cmd {
        const char *name;
        int (*fn)(int argc, char **argv, const struct mu_config *cfg);
        const char *summary;
} cmds[] = {
        {"serve", cmd_serve, "Start the HTTP server (Ollama and OpenAI APIs)"},
        {"create", cmd_create, "Create a model from a Modelfile"},
        {"show", cmd_show, "Show information for a model or GGUF file"},
        {"run", cmd_run, "Run a model: one-shot prompt or interactive chat"},
        {"bench", cmd_bench, "Benchmark a model (prompt and generation speed)"},
        {"devices", cmd_devices, "List Vulkan devices (GPU offload)"},
        {"pull", cmd_pull, "Pull a model from a registry"},
        {"list", cmd_list, "List local models"},
        {"ps", cmd_ps, "List models loaded by the server"},
        {"cp", cmd_cp, "Copy a model"},
        {"rm", cmd_rm, "Remove one or more models"},
        {"import", cmd_import, "Import a model from an archive"},
        {"export", cmd_export, "Export a model to an archive"},
        {"completion", cmd_completion, "Print a shell completion script (bash, zsh, fish)"},
        {"quantize", cmd_quantize, "Quantize a GGUF model (llama-quantize's types)"},
        {"perplexity", cmd_perplexity, "Perplexity of a model on a text file"},
};
#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct {
        const char *alias, *name;
} aliases[] = {{"ls", "list"}, {"delete", "rm"}, {"copy", "cp"}, {"start", "serve"}};

static void usage(FILE *f)
{
        fprintf(f, "Usage: mullama [--version] [--help] COMMAND [ARGS...]\n\n"
                   "Large language model runner with its own inference engine.\n\n"
                   "Commands:\n");
        for (size_t i = 0; i < N_CMDS; i++)
                fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].summary);
        fprintf(f, "  %-11s %s\n", "help", "Help about any command");
        fprintf(f,
                "\nFlags:\n"
                "  -h, --help      show this help\n"
                "  -v, --version   show version, build commit and backends\n"
                "\nEnvironment:\n"
                "  MULLAMA_MODELS  model store (default ~/.mullama/models)\n"
                "  MULLAMA_HOST    server address (default 127.0.0.1:11434)\n"
                "  MULLAMA_DEBUG   1 for debug logs on stderr\n"
                "  MULLAMA_CPU     force a CPU kernel set: scalar, avx2, avx512\n"
                "  OLLAMA_MODELS   Ollama store searched read-only (default ~/.ollama/models)\n"
                "\nExit status: 0 ok, 1 error, 2 usage error, 3 model or file not found,\n"
                "4 network or registry error, 130 interrupted.\n"
                "\nUse \"mullama help COMMAND\" or \"mullama COMMAND --help\" for more.\n");
}

static const struct cmd *find_cmd(const char *name)
{
        for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
                if (!strcmp(name, aliases[i].alias))
                        name = aliases[i].name;
        for (size_t i = 0; i < N_CMDS; i++)
                if (!strcmp(name, cmds[i].name))
                        return &cmds[i];
        return NULL;
}

static void config_init(struct mu_config *cfg)
{
        const char *e;
        char *models, *ollama;

        e = getenv("MULLAMA_MODELS");
        models = e && *e ? mu_expand_home(e)
                         : mu_xasprintf("%s/.mullama/models", mu_home_dir());
        e = getenv("OLLAMA_MODELS");
        ollama = e && *e ? mu_expand_home(e)
                         : mu_xasprintf("%s/.ollama/models", mu_home_dir());
        cfg->models_dir = models;
        cfg->ollama_dir = ollama;
        e = getenv("MULLAMA_HOST");
        cfg->host = e && *e ? e : "127.0.0.1:11434";
        e = getenv("MULLAMA_DEBUG");
        cfg->debug = e && *e && strcmp(e, "0") != 0 && strcmp(e, "false") != 0;
        mu_log_set_level(cfg->debug ? MU_LOG_DEBUG : MU_LOG_INFO);
}

static void config_release(struct mu_config *cfg)
{
        free((char *)cfg->models_dir);
        free((char *)cfg->ollama_dir);
}

static int finish(int rc)
{
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "error: cannot write output\n");
                return rc ? rc : MU_EXIT_ERROR;
        }
        return rc;
}

static int dispatch(int argc, char **argv, struct mu_config *cfg);

int main(int argc, char **argv)
{
        struct mu_config cfg;
        int rc;

        config_init(&cfg);
        rc = dispatch(argc, argv, &cfg);
        config_release(&cfg);
        return rc;
}

static int dispatch(int argc, char **argv, struct mu_config *cfgp)
{
        const struct mu_config cfg = *cfgp;
        const struct cmd *c;

        if (argc < 2) {
                usage(stderr);
                return MU_EXIT_USAGE;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
                usage(stdout);
                return finish(0);
        }
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version") ||
            !strcmp(argv[1], "version")) {
                printf("mullama version %s\nbuild commit: %s\nbackends: %s\n",
                       MU_VERSION, MU_BUILD_COMMIT, mu_backends());
                return finish(0);
        }
        if (!strcmp(argv[1], "help")) {
                if (argc < 3) {
                        usage(stdout);
                        return finish(0);
                }
                c = find_cmd(argv[2]);
                if (!c) {
                        fprintf(stderr, "error: unknown command '%s'\n", argv[2]);
                        usage(stderr);
                        return MU_EXIT_USAGE;
                }
                char *hargv[] = {argv[2], "--help", NULL};
                return finish(c->fn(2, hargv, &cfg));
        }
        if (argv[1][0] == '-') {
                fprintf(stderr, "error: unknown flag '%s'\n", argv[1]);
                usage(stderr);
                return MU_EXIT_USAGE;
        }
        c = find_cmd(argv[1]);
        if (!c) {
                fprintf(stderr, "error: unknown command '%s'\n", argv[1]);
                usage(stderr);
                return MU_EXIT_USAGE;
        }
        return finish(c->fn(argc - 1, argv + 1, &cfg));
}
