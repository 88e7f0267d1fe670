/* run.c -- `mullama run MODEL [PROMPT]`: one-shot generation streamed to
 * stdout, reading the prompt from the arguments and/or a piped stdin.
 * With a terminal and no prompt it opens the interactive chat (repl.c).
 *
 * Options: defaults, then the model's Modelfile parameters (params layer),
 * then --param key=value / the dedicated flags.  The chat template is the
 * Modelfile TEMPLATE when the model has one, else the GGUF's Jinja template;
 * --raw sends the prompt as is.  Nothing but the answer goes to stdout. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/runner.h"
#include "mullama/store.h"

struct run_out {
        int any;
        int last_nl;
};

static int on_piece(void *ud, const char *text, size_t len)
{
        struct run_out *o = ud;

        fwrite(text, 1, len, stdout);
        fflush(stdout);
        o->any = 1;
        o->last_nl = text[len - 1] == '\n';
        return ferror(stdout) ? 1 : 0;
}

static char *read_stdin(void)
{
        struct mu_buf b = MU_BUF_INIT;
        char tmp[65536];
        size_t n;

        while ((n = fread(tmp, 1, sizeof(tmp), stdin)) > 0)
                mu_buf_add(&b, tmp, n);
        return mu_buf_detach(&b);
}

int repl_main(const struct mu_config *cfg, const char *ref, const char *path,
              struct store_model *sm, struct runner_options *o, int verbose,
              const char *system, int format_json, int wordwrap);

int cmd_run(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "run", "MODEL [PROMPT...]",
                "Run a model: answer PROMPT (or piped stdin) and exit, or chat "
                "interactively on a terminal.",
                "Parameters: --param KEY=VALUE for any Ollama option (num_ctx, top_k,\n"
                "stop, ...); the flags below are shortcuts."};
        int raw = 0, verbose = 0, nowordwrap = 0, threads = 0, num_ctx = 0, predict = -2;
        float temperature = -1;
        const char *system = NULL, *format = NULL, *seed = NULL, *keepalive = NULL,
                   *gpu_layers = NULL;
        char **params = NULL;
        const struct opt opts[] = {
                {"raw", 0, OPT_BOOL, &raw, NULL, "do not apply the chat template"},
                {"system", 0, OPT_STR, &system, "TEXT", "system prompt (overrides the model's)"},
                {"format", 0, OPT_STR, &format, "FMT", "response format: json"},
                {"verbose", 0, OPT_BOOL, &verbose, NULL, "print timings after the answer"},
                {"seed", 0, OPT_STR, &seed, "N", "random seed (same seed, same answer)"},
                {"temperature", 0, OPT_FLOAT, &temperature, "T", "sampling temperature (0: greedy)"},
                {"num-predict", 'n', OPT_INT, &predict, "N", "maximum tokens to generate"},
                {"ctx", 'c', OPT_INT, &num_ctx, "N", "context length (num_ctx)"},
                {"threads", 't', OPT_INT, &threads, "N", "threads (num_thread)"},
                {"gpu-layers", 0, OPT_STR, &gpu_layers, "N|all",
                 "blocks to offload to a Vulkan GPU (num_gpu)"},
                {"param", 'p', OPT_LIST, &params, "K=V", "set any parameter (repeatable)"},
                {"nowordwrap", 0, OPT_BOOL, &nowordwrap, NULL, "do not wrap words (chat)"},
                {"keepalive", 0, OPT_STR, &keepalive, "DUR", "accepted for Ollama compatibility"},
                {0},
        };
        struct runner_options o;
        struct store_model *sm = NULL;
        struct runner *r = NULL;
        struct runner_stats st;
        struct mu_err err = {0};
        struct mu_buf prompt = MU_BUF_INIT;
        char **pos = NULL, *path = NULL, *text = NULL, *in = NULL;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc != OPT_OK) {
                free(params);
                return rc == OPT_HELP ? 0 : MU_EXIT_USAGE;
        }
        runner_options_init(&o);
        if (np < 1) {
                rc = opt_error(&u, "missing MODEL");
                goto done;
        }
        if (format && strcmp(format, "json") && strcmp(format, "")) {
                rc = opt_error(&u, "--format must be 'json'");
                goto done;
        }
        rc = cli_resolve_model(cfg, pos[0], &path, &sm, &err);
        if (rc == MU_ENOTFOUND && !store_is_path(pos[0])) {
                /* not local: pull it first, as Ollama does */
                struct mu_err perr = {0};
                rc = cli_pull(cfg, pos[0], 0, 0, 0, &perr);
                if (rc == MU_ENET) {
                        struct mu_err first = err;
                        rc = mu_fail(&err, MU_ENOTFOUND, "%s, and pulling it failed: %s",
                                     first.msg, perr.msg);
                }
                else if (rc)
                        err = perr;
                else
                        rc = cli_resolve_model(cfg, pos[0], &path, &sm, &err);
        }
        if (rc) {
                rc = cli_fail(&err);
                goto done;
        }
        /* option precedence: defaults < Modelfile < flags */
        if (sm && sm->params_json && runner_options_apply_json(&o, sm->params_json, &err)) {
                rc = cli_fail(&err);
                goto done;
        }
        for (char **p = params; p && *p; p++) {
                char *eq = strchr(*p, '=');
                if (!eq) {
                        rc = opt_error(&u, "--param expects KEY=VALUE, got '%s'", *p);
                        goto done;
                }
                *eq = '\0';
                rc = runner_options_set(&o, *p, eq + 1, &err);
                *eq = '=';
                if (rc) {
                        rc = opt_error(&u, "%s", err.msg);
                        goto done;
                }
        }
        if (gpu_layers && runner_options_set(&o, "num_gpu", strcmp(gpu_layers, "all") &&
                                             strcmp(gpu_layers, "-1") ? gpu_layers
                                             : "999", &err)) {
                rc = opt_error(&u, "--gpu-layers: %s", err.msg);
                goto done;
        }
        if (seed && runner_options_set(&o, "seed", seed, &err)) {
                rc = opt_error(&u, "%s", err.msg);
                goto done;
        }
        if (temperature >= 0)
                o.temperature = temperature;
        if (predict != -2)
                o.num_predict = predict;
        if (num_ctx > 0)
                o.num_ctx = num_ctx;
        if (threads > 0)
                o.num_thread = threads;

        for (int i = 1; i < np; i++) {
                if (i > 1)
                        mu_buf_addc(&prompt, ' ');
                mu_buf_adds(&prompt, pos[i]);
        }
        if (!isatty(0)) {
                in = read_stdin();
                if (*in) {
                        if (prompt.len)
                                mu_buf_adds(&prompt, "\n\n");
                        mu_buf_adds(&prompt, in);
                }
        }
        if (!prompt.len && isatty(0)) {
                rc = repl_main(cfg, pos[0], path, sm, &o, verbose, system,
                               format && *format, !nowordwrap);
                goto done;
        }
        rc = runner_open(&r, path, &o, verbose ? 2 : 1, &err);
        if (rc) {
                rc = cli_fail(&err);
                goto done;
        }
        {
                struct chat_msg msgs[1] = {{"user", mu_buf_str(&prompt)}};
                const char *sys = system ? system : sm ? sm->system : NULL;
                /* Modelfile MESSAGEs come before the prompt */
                struct chat_msg *all = NULL;
                int n_all = 0;
                rc = cli_history_from_json(sm ? sm->messages_json : NULL, &all, &n_all);
                all = mu_xrealloc(all, (size_t)(n_all + 1) * sizeof(*all));
                all[n_all++] = msgs[0];
                rc = runner_render(r, sm ? sm->tmpl : NULL, sys, all, n_all, raw, &text, &err);
                cli_history_free(all, n_all - 1);
                if (rc) {
                        rc = cli_fail(&err);
                        goto done;
                }
        }
        MU_LOG_DEBUG("prompt: %s", text);
        {
                struct run_out out = {0, 1};
                mu_install_sigint();
                rc = runner_generate(r, text, &o, format != NULL && *format, &mu_interrupted,
                                     on_piece, &out, &st, &err);
                mu_restore_sigint();
                if (out.any && !out.last_nl)
                        fputc('\n', stdout);
                if (rc) {
                        rc = cli_fail(&err);
                        goto done;
                }
                if (verbose) {
                        fflush(stdout);
                        fputc('\n', stderr);
                        runner_stats_print(stderr, &st);
                }
                if (!strcmp(st.done_reason, "canceled"))
                        rc = MU_EXIT_INTERRUPT;
        }
done:
        runner_close(r);
        runner_options_release(&o);
        store_model_free(sm);
        mu_buf_release(&prompt);
        free(text);
        free(in);
        free(path);
        free(params);
        free(pos);
        return rc;
}
