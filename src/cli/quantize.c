/* quantize.c -- `mullama quantize IN OUT TYPE`: write a copy of a GGUF (a path
 * or a local model name) with its weights in TYPE, byte-identical to
 * llama.cpp's llama-quantize (see include/mullama/quantize.h).  Progress on
 * stderr; a summary line (sizes) at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mullama/quantize.h"

static void on_progress(void *ud, int i, int n, const char *name)
{
        if (*(int *)ud)
                fprintf(stderr, "\r\033[Kquantizing [%d/%d] %s", i + 1, n, name);
}

int cmd_quantize(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "quantize", "IN OUT TYPE",
                "Quantize a GGUF model (like llama.cpp's llama-quantize)",
                "IN is a GGUF file or a local model; OUT the GGUF file to write.\n"
                "TYPE: q4_0 q4_1 q5_0 q5_1 q8_0 q2_K q3_K_S q3_K_M q3_K_L q4_K_S\n"
                "q4_K_M q5_K_S q5_K_M q6_K f16 bf16 f32 (q3_K, q4_K, q5_K: the _M mix)."};
        int threads = 0;
        const struct opt opts[] = {
                {"threads", 't', OPT_INT, &threads, "N", "threads (default: physical cores)"},
                {0},
        };
        struct quantize_stats st;
        struct mu_err err = {0};
        char **pos = NULL, *in = NULL;
        int np = 0, rc, tty = isatty(2);

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np != 3) {
                free(pos);
                return opt_error(&u, np < 3 ? "expected IN OUT TYPE" : "too many arguments");
        }
        if (quantize_ftype_from_name(pos[2]) < 0) {
                rc = opt_error(&u, "unknown quantization type '%s'", pos[2]);
                free(pos);
                return rc;
        }
        rc = cli_resolve_model(cfg, pos[0], &in, NULL, &err);
        if (!rc)
                rc = quantize_file(in, pos[1], pos[2], threads, on_progress, &tty, &st, &err);
        if (tty)
                fputs("\r\033[K", stderr);
        if (!rc)
                fprintf(stderr, "quantized %d tensors (%d converted): %.2f MiB -> %.2f MiB\n",
                        st.n_tensors, st.n_converted, st.bytes_in / 1048576.0,
                        st.bytes_out / 1048576.0);
        free(in);
        free(pos);
        return rc ? cli_fail(&err) : 0;
}
