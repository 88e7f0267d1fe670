/* bench.c -- `mullama bench`: in-process prompt-processing and generation
 * benchmark, llama-bench style sweeps, table / JSON / CSV / Markdown output.
 *
 * Per model: a cold load (page cache of the file dropped with
 * posix_fadvise when the kernel lets us) and a warm load, each timed to the
 * first token's logits.  Per combination of threads, gpu layers, batch, depth
 * and test: one session; `warmup` unrecorded runs, then `runs` recorded ones.
 * A run clears the KV cache, pre-fills `depth` tokens (untimed), then times
 * the prompt (pp: one session_eval of n_prompt random tokens) or the
 * generation (tg: n_gen single-token evals, each fed the argmax of the
 * previous logits, every inter-token latency kept). */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mullama/bench.h"
#include "mullama/fs.h"
#include "mullama/gguf.h"
#include "mullama/model.h"
#include "mullama/pool.h"
#include "mullama/sha256.h"

struct int_list {
        int n;
        int v[64];
};

struct bench_opts {
        struct int_list threads, prompt, gen, gpu, batch, depth;
        int runs, warmup, pg, no_digest;
        const char *output, *format, *compare, *kv_type;
};

/* Parse "1,2,4" (or "all"/"half" for gpu layers: -1 / -2). */
static int parse_list(struct int_list *l, const char *s, const char *what, int min,
                      int allow_words)
{
        const char *p = s;

        l->n = 0;
        while (*p) {
                char *end;
                long v;
                size_t len = strcspn(p, ",");
                if (allow_words && len == 3 && !strncmp(p, "all", 3))
                        v = -1, end = (char *)p + 3;
                else if (allow_words && len == 4 && !strncmp(p, "half", 4))
                        v = -2, end = (char *)p + 4;
                else
                        v = strtol(p, &end, 10);
                if (end == p || (*end && *end != ',') || l->n >= 64 ||
                    (v < min && !(allow_words && v >= -2))) {
                        fprintf(stderr, "error: --%s: '%s' is not a list of integers >= %d\n",
                                what, s, min);
                        return -1;
                }
                l->v[l->n++] = (int)v;
                p = *end ? end + 1 : end;
        }
        if (l->n == 0) {
                fprintf(stderr, "error: --%s: empty list\n", what);
                return -1;
        }
        return 0;
}

static const char *ftype_name(const struct model *m)
{
        int64_t ft;

        const struct gguf *g = model_gguf(m);
        size_t bytes[MU_TYPE_COUNT] = {0}, best = 0;
        int t = MU_TYPE_F32;

        if (!gguf_get_i64(g, "general.file_type", &ft))
                return mu_ftype_name((int)ft);
        /* no file type: name the type holding most of the weights */
        for (int64_t i = 0; i < gguf_n_tensors(g); i++) {
                const struct gguf_tensor_info *ti = gguf_tensor(g, i);
                bytes[ti->type] += ti->size;
        }
        for (int k = 0; k < MU_TYPE_COUNT; k++)
                if (bytes[k] > best)
                        best = bytes[k], t = k;
        return mu_type_name(t);
}

/* K and V bytes for the session's context: layers x positions x heads x dims. */
static uint64_t kv_bytes(const struct model *m, int n_ctx, int kv_type)
{
        const struct model_hparams *hp = model_hparams(m);
        size_t k = mu_row_size(kv_type, (int64_t)hp->n_head_kv * hp->head_dim_k);
        size_t v = mu_row_size(kv_type, (int64_t)hp->n_head_kv * hp->head_dim_v);

        return (uint64_t)hp->n_layer * (uint64_t)n_ctx * (k + v);
}

static uint64_t peak_rss(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (uint64_t)ru.ru_maxrss * 1024;
}

/* Fraction of the file's pages in the page cache (mincore on a fresh
 * mapping, which faults nothing in); -1 when it cannot be told. */
static double resident_fraction(const char *path)
{
        int fd = open(path, O_RDONLY);
        struct stat sb;
        long psz = sysconf(_SC_PAGESIZE);
        double frac = -1;

        if (fd < 0)
                return -1;
        if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
                size_t len = (size_t)sb.st_size, np = (len + (size_t)psz - 1) / (size_t)psz;
                void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
                unsigned char *vec = mu_xmalloc(np);
                if (p != MAP_FAILED && mincore(p, len, vec) == 0) {
                        size_t in = 0;
                        for (size_t i = 0; i < np; i++)
                                in += vec[i] & 1;
                        frac = (double)in / (double)np;
                }
                if (p != MAP_FAILED)
                        munmap(p, len);
                free(vec);
        }
        close(fd);
        return frac;
}

/* Evict the model file from the page cache: posix_fadvise(DONTNEED) on the
 * file, and when pages stay and we may, the kernel's drop_caches (clean page
 * cache only).  Returns the fraction of pages still resident afterwards
 * (1 when it cannot be told); the load is cold when that is near 0. */
static double drop_cache(const char *path)
{
        int fd = open(path, O_RDONLY);
        double frac;

        if (fd < 0)
                return 1;
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
        frac = resident_fraction(path);
        if (frac > 0.05 && access("/proc/sys/vm/drop_caches", W_OK) == 0) {
                FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
                sync();
                if (f) {
                        fputs("1\n", f);
                        fclose(f);
                }
                frac = resident_fraction(path);
        }
        return frac < 0 ? 1 : frac;
}

/* llama.cpp's names for file types in model_type ("all F32", "Q4_K - Medium"). */
static const char *llama_ftype_label(const char *ft)
{
        static const struct { const char *ours, *theirs; } map[] = {
                {"F32", "all F32"}, {"Q2_K", "Q2_K - Medium"}, {"Q3_K_S", "Q3_K - Small"},
                {"Q3_K_M", "Q3_K - Medium"}, {"Q3_K_L", "Q3_K - Large"},
                {"Q4_K_S", "Q4_K - Small"}, {"Q4_K_M", "Q4_K - Medium"},
                {"Q5_K_S", "Q5_K - Small"}, {"Q5_K_M", "Q5_K - Medium"},
                {"Q2_K_S", "Q2_K - Small"},
        };

        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                if (!strcmp(ft, map[i].ours))
                        return map[i].theirs;
        return ft;
}

/* "135M", "1.1B", "260K": the parameter count as llama.cpp's size label. */
static void params_label(char *buf, size_t n, uint64_t p)
{
        double v = (double)p;
        const char *u = v >= 1e9 ? "B" : v >= 1e6 ? "M" : "K";
        double d = v >= 1e9 ? 1e9 : v >= 1e6 ? 1e6 : 1e3;

        if (v / d >= 10)
                snprintf(buf, n, "%.0f%s", v / d, u);
        else
                snprintf(buf, n, "%.1f%s", v / d, u);
}

static void progress(const char *model, const char *test, int run, int runs, int warm)
{
        if (isatty(2))
                fprintf(stderr, "\r\033[Kbench: %s %s %s %d/%d", model, test,
                        warm ? "warmup" : "run", run, runs);
        else
                fprintf(stderr, "bench: %s %s %s %d/%d\n", model, test,
                        warm ? "warmup" : "run", run, runs);
}

static int32_t argmax(const float *v, int n)
{
        int32_t best = 0;

        for (int i = 1; i < n; i++)
                if (v[i] > v[best])
                        best = i;
        return best;
}

/* Deterministic prompt tokens: an LCG over the vocabulary, avoiding id 0..3
 * (often control tokens). */
static void fill_tokens(int32_t *t, int n, int n_vocab, uint64_t seed)
{
        for (int i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                t[i] = 4 + (int32_t)((seed >> 33) % (uint64_t)(n_vocab - 4));
        }
}

/* Time model load + session + one token's logits. */
static int timed_load(const char *path, int threads, int64_t *ns, struct mu_err *err)
{
        struct model_params mp = model_default_params();
        struct session_params sp = session_default_params();
        struct model *m = NULL;
        struct session *s = NULL;
        int32_t tok = 1;
        int64_t t0 = mu_time_ns();
        int rc;

        rc = model_load(&m, path, &mp, err);
        if (rc)
                return rc;
        sp.n_ctx = 16;
        sp.n_threads = threads;
        rc = session_create(&s, m, &sp, err);
        if (!rc)
                rc = session_eval(s, &tok, 1, err);
        *ns = mu_time_ns() - t0;
        session_free(s);
        model_free(m);
        return rc;
}

struct combo {
        int threads, gpu, batch, depth, n_prompt, n_gen;
};

static int run_combo(struct model *m, const char *label, const struct combo *c,
                     const struct bench_opts *o, struct bench_row *row, struct mu_err *err)
{
        struct session_params sp = session_default_params();
        struct session *s = NULL;
        int n_vocab = model_n_vocab(m), total = o->warmup + o->runs, rc = 0;
        int32_t *toks;
        char test[64];
        double *ttft;
        int n_ttft = 0;

        sp.n_ctx = c->depth + c->n_prompt + c->n_gen + 1;
        sp.n_threads = c->threads;
        sp.n_batch = c->batch;
        if (o->kv_type)
                sp.kv_type = mu_type_from_name(o->kv_type);
        rc = session_create(&s, m, &sp, err);
        if (rc)
                return rc;
        row->kv_bytes = kv_bytes(m, session_n_ctx(s), sp.kv_type);
        row->gpu_mem_bytes = model_gpu_mem(m);  /* weights + this session's buffers */
        bench_row_test_name(row, test, sizeof(test));
        toks = mu_xcalloc((size_t)(c->depth + c->n_prompt + 1), sizeof(int32_t));
        row->samples_ns = mu_xcalloc((size_t)o->runs, sizeof(int64_t));
        row->samples_ts = mu_xcalloc((size_t)o->runs, sizeof(double));
        row->itl_ns = mu_xcalloc((size_t)o->runs * (size_t)(c->n_gen + 1), sizeof(int64_t));
        ttft = mu_xcalloc((size_t)o->runs + 1, sizeof(double));
        for (int r = 0; r < total && !rc; r++) {
                int warm = r < o->warmup, rec = r - o->warmup;
                int64_t t0, t1, tp;
                int32_t next;

                progress(label, test, warm ? r + 1 : rec + 1, warm ? o->warmup : o->runs,
                         warm);
                if (mu_interrupted) {
                        rc = MU_ECANCELED;
                        break;
                }
                session_truncate(s, 0);
                fill_tokens(toks, c->depth + c->n_prompt, n_vocab, 42 + (uint64_t)r);
                if (c->depth && (rc = session_eval(s, toks, c->depth, err)))
                        break;
                t0 = mu_time_ns();
                if (c->n_prompt &&
                    (rc = session_eval(s, toks + c->depth, c->n_prompt, err)))
                        break;
                next = argmax(session_logits(s), n_vocab);
                tp = mu_time_ns();
                if (!c->n_prompt) {
                        /* tg from the pre-filled state: first token is arbitrary */
                        next = toks[0];
                }
                for (int g = 0; g < c->n_gen && !rc; g++) {
                        int64_t a = mu_time_ns();
                        if (mu_interrupted) {
                                rc = MU_ECANCELED;
                                break;
                        }
                        rc = session_eval(s, &next, 1, err);
                        if (rc)
                                break;
                        next = argmax(session_logits(s), n_vocab);
                        if (!warm)
                                row->itl_ns[row->n_itl++] = mu_time_ns() - a;
                }
                if (rc)
                        break;
                t1 = mu_time_ns();
                if (warm)
                        continue;
                row->samples_ns[rec] = t1 - t0;
                row->samples_ts[rec] =
                        (double)(c->n_prompt + c->n_gen) * 1e9 / (double)(t1 - t0);
                row->n_samples = rec + 1;
                if (c->n_prompt)
                        ttft[n_ttft++] = (double)(tp - t0);
        }
        if (isatty(2))
                fprintf(stderr, "\r\033[K");
        if (n_ttft) {
                struct bench_stats st;
                bench_stats_compute(&st, ttft, n_ttft);
                row->ttft_ns = (int64_t)st.median;
        }
        row->incomplete = row->n_samples < o->runs;
        row->peak_rss_bytes = peak_rss();
        free(ttft);
        free(toks);
        session_free(s);
        return rc;
}

static void row_model_facts(struct bench_row *row, const struct model *m, const char *ref,
                            const char *path,
                            const char *digest, const struct combo *c,
                            const struct bench_opts *o, int64_t cold, double resident,
                            int64_t warm_ns)
{
        char plabel[32];

        params_label(plabel, sizeof(plabel), model_n_params(m));
        row->model_filename = mu_xstrdup(path);
        row->model_ref = mu_xstrdup(ref);
        row->arch = mu_xstrdup(model_arch_name(m));
        row->quant = mu_xstrdup(ftype_name(m));
        row->model_type = mu_xasprintf("%s %s %s", model_arch_name(m), plabel,
                                       llama_ftype_label(ftype_name(m)));
        row->model_digest = digest ? mu_xasprintf("sha256:%s", digest) : NULL;
        row->model_size = model_size_bytes(m);
        row->model_n_params = model_n_params(m);
        row->n_threads = c->threads;
        row->n_gpu_layers = c->gpu;
        row->gpu_layers_offloaded = model_gpu_layers(m);
        if (model_gpu_name(m))
                row->gpu_name = mu_xstrdup(model_gpu_name(m));
        row->n_batch = row->n_ubatch = c->batch;
        row->n_prompt = c->n_prompt;
        row->n_gen = c->n_gen;
        row->n_depth = c->depth;
        row->type_k = row->type_v = o->kv_type ? o->kv_type : "f16";
        row->use_mmap = 1;
        row->load_cold_ns = cold;
        row->load_cold_dropped = resident <= 0.05;
        row->load_cold_resident = resident;
        row->load_warm_ns = warm_ns;
        time_t now = time(NULL);
        strftime(row->test_time, sizeof(row->test_time), "%Y-%m-%dT%H:%M:%SZ",
                 gmtime(&now));
}

int cmd_bench(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "bench", "MODEL...",
                "Benchmark prompt processing (pp) and generation (tg) in-process.",
                "Comma lists sweep like llama-bench: one result row per combination.\n"
                "--gpu-layers accepts 'all' and 'half'. Output: a table on stdout, or\n"
                "--output FILE (format from --format, default json)."};
        const char *threads = NULL, *prompt = "512", *gen = "128", *gpu = "0",
                   *batch = "512", *depth = "0";
        struct bench_opts o = {.runs = 5, .warmup = 1};
        const struct opt opts[] = {
                {"threads", 't', OPT_STR, &threads, "LIST", "threads (default: physical cores)"},
                {"prompt-tokens", 'p', OPT_STR, &prompt, "LIST", "prompt tokens (default 512; 0 = no pp test)"},
                {"gen-tokens", 'n', OPT_STR, &gen, "LIST", "generated tokens (default 128; 0 = no tg test)"},
                {"gpu-layers", 0, OPT_STR, &gpu, "LIST", "layers to offload: N, half, all (default 0)"},
                {"batch", 'b', OPT_STR, &batch, "LIST", "prompt batch size (default 512)"},
                {"ctx-depth", 'd', OPT_STR, &depth, "LIST", "tokens pre-filled in the KV cache (default 0)"},
                {"runs", 'r', OPT_INT, &o.runs, "R", "recorded runs per test (default 5)"},
                {"warmup", 0, OPT_INT, &o.warmup, "W", "unrecorded warm-up runs (default 1)"},
                {"pg", 0, OPT_BOOL, &o.pg, NULL, "also run prompt+generation combined tests"},
                {"kv-type", 0, OPT_STR, &o.kv_type, "TYPE", "KV cache type: f16 (default), q8_0, f32"},
                {"output", 'o', OPT_STR, &o.output, "FILE", "write results to FILE"},
                {"format", 'f', OPT_STR, &o.format, "FMT", "table, json, jsonl, csv, md"},
                {"compare", 0, OPT_STR, &o.compare, "FILE", "print ratios against an earlier JSON result"},
                {"no-digest", 0, OPT_BOOL, &o.no_digest, NULL, "skip the model's sha256 (saves time)"},
                {0},
        };
        char **pos = NULL, *tmp_out = NULL;
        struct bench_row *rows = NULL;
        struct bench_system sys;
        struct mu_err err = {0};
        int np = 0, n_rows = 0, rc = 0, fmt;
        FILE *out = stdout;

        (void)cfg;
        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc != OPT_OK)
                return rc == OPT_HELP ? 0 : MU_EXIT_USAGE;
        if (np < 1) {
                free(pos);
                return opt_error(&u, "missing MODEL");
        }
        if (!threads)
                threads = mu_xasprintf("%d", mu_cpu_physical_cores()), rc = 1;
        {
                int bad = parse_list(&o.threads, threads, "threads", 1, 0) ||
                          parse_list(&o.prompt, prompt, "prompt-tokens", 0, 0) ||
                          parse_list(&o.gen, gen, "gen-tokens", 0, 0) ||
                          parse_list(&o.gpu, gpu, "gpu-layers", 0, 1) ||
                          parse_list(&o.batch, batch, "batch", 1, 0) ||
                          parse_list(&o.depth, depth, "ctx-depth", 0, 0);
                if (rc == 1)
                        free((char *)threads);
                rc = 0;
                if (bad) {
                        free(pos);
                        return MU_EXIT_USAGE;
                }
        }
        if (o.runs < 1 || o.warmup < 0) {
                free(pos);
                return opt_error(&u, "--runs must be >= 1 and --warmup >= 0");
        }
        if (o.kv_type && strcmp(o.kv_type, "f16") && strcmp(o.kv_type, "q8_0") &&
            strcmp(o.kv_type, "f32")) {
                free(pos);
                return opt_error(&u, "--kv-type must be f16, q8_0 or f32");
        }
        fmt = o.format ? bench_format_parse(o.format)
                       : (o.output ? BENCH_FMT_JSON : BENCH_FMT_TABLE);
        if (fmt < 0) {
                free(pos);
                return opt_error(&u, "unknown --format '%s'", o.format);
        }
        /* every model must resolve and the output be writable before any work */
        char **paths = mu_xcalloc((size_t)np, sizeof(char *));
        for (int i = 0; i < np && !rc; i++) {
                rc = cli_resolve_model(cfg, pos[i], &paths[i], NULL, &err);
                if (rc)
                        fprintf(stderr, "error: %s\n", err.msg);
        }
        if (!rc && o.compare && (rc = bench_compare_check(o.compare, &err)))
                fprintf(stderr, "error: --compare: %s\n", err.msg);
        if (!rc && o.output) {
                tmp_out = mu_xasprintf("%s.tmp-%ld", o.output, (long)getpid());
                out = fopen(tmp_out, "w");
                if (!out) {
                        fprintf(stderr, "error: cannot write '%s': %m\n", o.output);
                        rc = MU_EIO;
                }
        }
        if (rc)
                goto done;
        bench_system_detect(&sys);
        mu_install_sigint();

        for (int mi = 0; mi < np && !rc; mi++) {
                const char *path = paths[mi];
                struct model_params mp = model_default_params();
                struct model *m = NULL;
                char digest[65] = "";
                int64_t cold = 0, warm_ns = 0;
                double resident = 1;
                int loaded_gpu = 0;

                fprintf(stderr, "bench: loading %s\n", path);
                if ((rc = model_load(&m, path, &mp, &err)))
                        break;
                /* every test must fit the context before any timing starts */
                for (int di = 0; di < o.depth.n && !rc; di++)
                        for (int pi = 0; pi < o.prompt.n && !rc; pi++)
                                for (int gn = 0; gn < o.gen.n && !rc; gn++) {
                                        int need = o.depth.v[di] + o.prompt.v[pi] +
                                                   o.gen.v[gn] + 1;
                                        if (need > model_n_ctx_train(m))
                                                rc = mu_fail(&err, MU_EINVAL,
                                                             "depth %d + prompt %d + gen %d "
                                                             "is longer than the context of "
                                                             "'%s' (%d)", o.depth.v[di],
                                                             o.prompt.v[pi], o.gen.v[gn],
                                                             path, model_n_ctx_train(m));
                                }
                if (!rc) {
                        model_free(m);
                        m = NULL;
                        resident = drop_cache(path);
                        if (resident > 0.05)
                                fprintf(stderr, "bench: %.0f%% of %s stays in the page cache: "
                                        "the cold load is reported as warm\n",
                                        resident * 100, path);
                        rc = timed_load(path, o.threads.v[0], &cold, &err);
                }
                if (!rc)
                        rc = timed_load(path, o.threads.v[0], &warm_ns, &err);
                if (!rc)
                        rc = model_load(&m, path, &mp, &err);
                if (rc) {
                        model_free(m);
                        break;
                }
                if (!o.no_digest && mu_sha256_file(path, digest, &err))
                        digest[0] = '\0';
                for (int ti = 0; ti < o.threads.n && !rc; ti++)
                for (int gi = 0; gi < o.gpu.n && !rc; gi++)
                for (int bi = 0; bi < o.batch.n && !rc; bi++)
                for (int di = 0; di < o.depth.n && !rc; di++)
                for (int kind = 0; kind < 3 && !rc; kind++)
                for (int pi = 0; pi < o.prompt.n && !rc; pi++)
                for (int gn = 0; gn < o.gen.n && !rc; gn++) {
                        struct combo c = {o.threads.v[ti], o.gpu.v[gi], o.batch.v[bi],
                                          o.depth.v[di], 0, 0};
                        /* kind 0: pp (once per prompt size), 1: tg (once per gen
                         * size), 2: pg combined */
                        if (kind == 0 && (gn > 0 || !o.prompt.v[pi]))
                                continue;
                        if (kind == 1 && (pi > 0 || !o.gen.v[gn]))
                                continue;
                        if (kind == 2 && (!o.pg || !o.prompt.v[pi] || !o.gen.v[gn]))
                                continue;
                        c.n_prompt = kind != 1 ? o.prompt.v[pi] : 0;
                        c.n_gen = kind != 0 ? o.gen.v[gn] : 0;
                        if (c.gpu == -1)
                                c.gpu = model_n_layer(m);
                        else if (c.gpu == -2)
                                c.gpu = model_n_layer(m) / 2;
                        if (c.gpu != loaded_gpu) {  /* offload is decided at load */
                                model_free(m);
                                mp.n_gpu_layers = c.gpu;
                                if ((rc = model_load(&m, path, &mp, &err)))
                                        break;
                                loaded_gpu = c.gpu;
                        }
                        rows = mu_xrealloc(rows, (size_t)(n_rows + 1) * sizeof(*rows));
                        memset(&rows[n_rows], 0, sizeof(*rows));
                        row_model_facts(&rows[n_rows], m, pos[mi], path, digest[0] ? digest : NULL,
                                        &c, &o, cold, resident, warm_ns);
                        n_rows++;
                        rc = run_combo(m, path, &c, &o, &rows[n_rows - 1], &err);
                        if (rc == MU_ECANCELED)
                                break;
                        if (!isatty(1) && !o.output && fmt == BENCH_FMT_TABLE)
                                fflush(stdout);
                }
                model_free(m);
        }
        mu_restore_sigint();
        if (rc == MU_ECANCELED)
                fprintf(stderr, "bench: interrupted; writing the %d finished row%s "
                                "(marked incomplete)\n", n_rows, n_rows == 1 ? "" : "s");
        else if (rc)
                fprintf(stderr, "error: %s\n", err.msg);
        if (n_rows) {
                int wrc = bench_write(out, fmt, rows, n_rows, &sys);
                if (out != stdout) {
                        if (fclose(out) != 0 || wrc || rename(tmp_out, o.output) != 0) {
                                fprintf(stderr, "error: cannot write '%s'\n", o.output);
                                unlink(tmp_out);
                                rc = rc ? rc : MU_EIO;
                        } else {
                                fprintf(stderr, "bench: wrote %s\n", o.output);
                                bench_write(stdout, BENCH_FMT_TABLE, rows, n_rows, &sys);
                        }
                        out = stdout;
                }
                if (o.compare && bench_compare(stdout, o.compare, rows, n_rows, &err)) {
                        fprintf(stderr, "error: %s\n", err.msg);
                        rc = rc ? rc : MU_EFORMAT;
                }
        }
done:
        if (out && out != stdout) {
                fclose(out);
                unlink(tmp_out);
        }
        for (int i = 0; i < n_rows; i++)
                bench_row_release(&rows[i]);
        free(rows);
        for (int i = 0; i < np; i++)
                free(paths[i]);
        free(paths);
        free(tmp_out);
        free(pos);
        return rc ? mu_exit_code(rc) : 0;
}
