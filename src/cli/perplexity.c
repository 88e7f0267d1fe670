/* perplexity.c -- `mullama perplexity MODEL FILE`: the model's perplexity on
 * a text file, computed like llama.cpp's llama-perplexity: the text is
 * tokenized (BOS as the model adds it) and cut into chunks of --ctx tokens;
 * each chunk is a fresh context whose first token is replaced by BOS (when
 * the model uses one), and only its second half is scored, so every scored
 * token has at least ctx/2 tokens of context.  Prints one line per chunk
 * ("[i] ppl") on stderr and the final estimate on stdout:
 *   "mean log-likelihood -2.3456 per token over N tokens, perplexity 10.4418" */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/model.h"
#include "mullama/tokenizer.h"
#include "mullama/types.h"

int cmd_perplexity(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "perplexity", "MODEL FILE",
                "Perplexity of a model on a text file (like llama-perplexity)",
                "Chunks of --ctx tokens; the second half of each chunk is scored."};
        int n_ctx = 512, threads = 0, max_chunks = 0;
        const char *kv = "f16";
        const struct opt opts[] = {
                {"ctx", 'c', OPT_INT, &n_ctx, "N", "tokens per chunk (default 512)"},
                {"chunks", 0, OPT_INT, &max_chunks, "N", "score at most N chunks"},
                {"threads", 't', OPT_INT, &threads, "N", "threads (default: physical cores)"},
                {"kv-type", 0, OPT_STR, &kv, "TYPE", "KV cache type: f16, q8_0, f32"},
                {0},
        };
        struct model_params mp = model_default_params();
        struct session_params sp = session_default_params();
        struct model *m = NULL;
        struct tokenizer *tok = NULL;
        struct session *s = NULL;
        struct mu_err err = {0};
        char **pos = NULL, *path = NULL, *text = NULL;
        int32_t *ids = NULL, *chunk = NULL;
        double *lp = NULL, sum = 0;
        size_t len = 0, n_ids = 0;
        long count = 0;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np != 2) {
                free(pos);
                return opt_error(&u, np < 2 ? "expected MODEL FILE" : "too many arguments");
        }
        if (n_ctx < 8) {
                free(pos);
                return opt_error(&u, "--ctx must be at least 8");
        }
        sp.kv_type = mu_type_from_name(kv);
        if (sp.kv_type != MU_TYPE_F16 && sp.kv_type != MU_TYPE_Q8_0 &&
            sp.kv_type != MU_TYPE_F32) {
                rc = opt_error(&u, "--kv-type must be f16, q8_0 or f32");
                free(pos);
                return rc;
        }
        rc = mu_read_file(pos[1], 0, &text, &len, &err);
        if (!rc)
                rc = cli_resolve_model(cfg, pos[0], &path, NULL, &err);
        if (!rc)
                rc = model_load(&m, path, &mp, &err);
        if (!rc)
                rc = tokenizer_create(&tok, model_gguf(m), &err);
        if (!rc)
                rc = tokenizer_encode(tok, text, len, 1, 0, &ids, &n_ids, &err);
        if (!rc) {
                sp.n_ctx = n_ctx;
                sp.n_threads = threads;
                rc = session_create(&s, m, &sp, &err);
        }
        int bos = tok && tokenizer_add_bos(tok) ? tokenizer_bos(tok) : -1;
        if (!rc && (long)n_ids < 2L * n_ctx) {
                rc = MU_EINVAL;
                mu_fail(&err, rc, "%s: %zu tokens; need at least %d (2 x --ctx)", pos[1],
                        n_ids, 2 * n_ctx);
        }
        if (!rc) {
                int n_chunks = (int)(n_ids / (size_t)n_ctx);
                if (max_chunks > 0 && n_chunks > max_chunks)
                        n_chunks = max_chunks;
                chunk = mu_xcalloc((size_t)n_ctx, sizeof(int32_t));
                lp = mu_xcalloc((size_t)n_ctx, sizeof(double));
                for (int c = 0; c < n_chunks && !rc; c++) {
                        int n = n_ctx;
                        memcpy(chunk, ids + (size_t)c * n_ctx, (size_t)n_ctx * sizeof(int32_t));
                        if (bos >= 0)
                                chunk[0] = bos;
                        session_truncate(s, 0);
                        rc = session_loglik(s, chunk, n, lp, &err);
                        /* lp[i] scores chunk[i + 1]: score the second half */
                        for (int i = n_ctx / 2; !rc && i < n - 1; i++) {
                                sum += lp[i];
                                count++;
                        }
                        if (!rc)
                                fprintf(stderr, "[%d/%d] perplexity so far %.4f\n", c + 1,
                                        n_chunks, exp(-sum / (double)count));
                }
        }
        if (!rc)
                printf("mean log-likelihood %.6f per token over %ld tokens, perplexity %.4f\n",
                       sum / (double)count, count, exp(-sum / (double)count));
        free(lp);
        free(chunk);
        free(ids);
        session_free(s);
        tokenizer_free(tok);
        model_free(m);
        free(path);
        free(text);
        free(pos);
        return rc ? cli_fail(&err) : 0;
}
