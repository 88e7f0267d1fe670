/* bench.c -- statistics, machine facts and output formats for `mullama
 * bench` (see bench.h).  JSON is built with cJSON. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "mullama/bench.h"
#include "mullama/fs.h"
#include "mullama/kernels.h"
#include "mullama/pool.h"

#ifndef MU_BUILD_COMMIT
#define MU_BUILD_COMMIT "unknown"
#endif

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* Linear interpolation between order statistics (numpy's default). */
static double quantile(const double *sorted, int n, double q)
{
        double pos = q * (n - 1);
        int lo = (int)pos;

        if (lo + 1 >= n)
                return sorted[n - 1];
        return sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]);
}

void bench_stats_compute(struct bench_stats *st, const double *v, int n)
{
        double *s, sum = 0, ss = 0;

        memset(st, 0, sizeof(*st));
        st->n = n;
        if (n <= 0)
                return;
        s = mu_xmalloc((size_t)n * sizeof(double));
        memcpy(s, v, (size_t)n * sizeof(double));
        qsort(s, (size_t)n, sizeof(double), cmp_double);
        for (int i = 0; i < n; i++)
                sum += s[i];
        st->mean = sum / n;
        for (int i = 0; i < n; i++)
                ss += (s[i] - st->mean) * (s[i] - st->mean);
        st->stddev = n > 1 ? sqrt(ss / (n - 1)) : 0;
        st->min = s[0];
        st->max = s[n - 1];
        st->median = quantile(s, n, 0.5);
        st->p95 = quantile(s, n, 0.95);
        st->p99 = quantile(s, n, 0.99);
        free(s);
}

void bench_row_release(struct bench_row *r)
{
        free(r->model_filename);
        free(r->model_ref);
        free(r->gpu_name);
        free(r->model_type);
        free(r->arch);
        free(r->quant);
        free(r->model_digest);
        free(r->samples_ns);
        free(r->samples_ts);
        free(r->itl_ns);
        memset(r, 0, sizeof(*r));
}

void bench_row_test_name(const struct bench_row *r, char *buf, size_t n)
{
        int k;

        if (r->n_prompt && r->n_gen)
                k = snprintf(buf, n, "pp%d+tg%d", r->n_prompt, r->n_gen);
        else if (r->n_prompt)
                k = snprintf(buf, n, "pp%d", r->n_prompt);
        else
                k = snprintf(buf, n, "tg%d", r->n_gen);
        if (r->n_depth && k > 0 && (size_t)k < n)
                snprintf(buf + k, n - (size_t)k, " @ d%d", r->n_depth);
}

/* ---- machine facts ------------------------------------------------------ */

static void read_first(const char *path, const char *key, char *out, size_t n)
{
        FILE *f = fopen(path, "r");
        char line[4096];
        size_t kl = strlen(key);

        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, key, kl))
                        continue;
                char *v = strchr(line, key[kl - 1] == '=' ? '=' : ':');
                if (!v)
                        continue;
                v++;
                while (*v == ' ' || *v == '\t' || *v == '"')
                        v++;
                size_t l = strcspn(v, "\"\n");
                snprintf(out, n, "%.*s", (int)l, v);
                break;
        }
        fclose(f);
}

void bench_system_detect(struct bench_system *s)
{
        struct utsname u;
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);

        memset(s, 0, sizeof(*s));
        read_first("/proc/cpuinfo", "model name", s->cpu_model, sizeof(s->cpu_model));
        if (!s->cpu_model[0])
                snprintf(s->cpu_model, sizeof(s->cpu_model), "unknown");
        snprintf(s->cpu_flags, sizeof(s->cpu_flags), "kernels=%s%s%s%s",
                 cpu_kernels_get()->name,
                 __builtin_cpu_supports("avx2") ? " avx2" : "",
                 __builtin_cpu_supports("avx512f") ? " avx512f" : "",
                 __builtin_cpu_supports("avx512vnni") ? " avx512vnni" : "");
        s->cores = mu_cpu_physical_cores();
        s->logical = mu_cpu_logical_cores();
        s->mem_bytes = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
        read_first("/etc/os-release", "PRETTY_NAME=", s->os, sizeof(s->os));
        if (uname(&u) == 0)
                snprintf(s->kernel, sizeof(s->kernel), "%s %s %s", u.sysname, u.release,
                         u.machine);
#if defined(__clang__)
        snprintf(s->compiler, sizeof(s->compiler), "clang %s", __clang_version__);
#elif defined(__GNUC__)
        snprintf(s->compiler, sizeof(s->compiler), "gcc %s", __VERSION__);
#endif
        s->backends = mu_backends();
        s->build_commit = MU_BUILD_COMMIT;
        s->version = MU_VERSION;
}

int bench_format_parse(const char *s)
{
        static const char *names[] = {"table", "json", "jsonl", "csv", "md"};

        for (int i = 0; i < 5; i++)
                if (!strcmp(s, names[i]))
                        return i;
        return -1;
}

/* ---- JSON --------------------------------------------------------------- */

static cJSON *row_json(const struct bench_row *r, const struct bench_system *sys)
{
        cJSON *o = cJSON_CreateObject(), *a, *itl, *sy;
        struct bench_stats st, ts;
        double *v;
        char name[64];

        cJSON_AddNumberToObject(o, "schema_version", BENCH_SCHEMA_VERSION);
        cJSON_AddStringToObject(o, "mullama_version", sys->version);
        cJSON_AddStringToObject(o, "build_commit", sys->build_commit);
        cJSON_AddNumberToObject(o, "build_number", 0);
        cJSON_AddStringToObject(o, "cpu_info", sys->cpu_model);
        cJSON_AddStringToObject(o, "gpu_info", r->gpu_name ? r->gpu_name : "");
        cJSON_AddStringToObject(o, "backends", sys->backends);
        cJSON_AddStringToObject(o, "model_filename", r->model_filename);
        cJSON_AddStringToObject(o, "model", r->model_ref ? r->model_ref : r->model_filename);
        cJSON_AddStringToObject(o, "model_type", r->model_type);
        cJSON_AddNumberToObject(o, "model_size", (double)r->model_size);
        cJSON_AddNumberToObject(o, "model_n_params", (double)r->model_n_params);
        cJSON_AddStringToObject(o, "arch", r->arch);
        cJSON_AddStringToObject(o, "quant", r->quant);
        cJSON_AddStringToObject(o, "model_digest", r->model_digest ? r->model_digest : "");
        cJSON_AddNumberToObject(o, "n_batch", r->n_batch);
        cJSON_AddNumberToObject(o, "n_ubatch", r->n_ubatch);
        cJSON_AddNumberToObject(o, "n_threads", r->n_threads);
        cJSON_AddStringToObject(o, "type_k", r->type_k);
        cJSON_AddStringToObject(o, "type_v", r->type_v);
        cJSON_AddNumberToObject(o, "n_gpu_layers", r->n_gpu_layers);
        cJSON_AddNumberToObject(o, "gpu_layers_offloaded", r->gpu_layers_offloaded);
        cJSON_AddBoolToObject(o, "use_mmap", r->use_mmap);
        cJSON_AddNumberToObject(o, "n_prompt", r->n_prompt);
        cJSON_AddNumberToObject(o, "n_gen", r->n_gen);
        cJSON_AddNumberToObject(o, "n_depth", r->n_depth);
        bench_row_test_name(r, name, sizeof(name));
        cJSON_AddStringToObject(o, "test", name);
        cJSON_AddStringToObject(o, "test_time", r->test_time);

        v = mu_xcalloc((size_t)r->n_samples + 1, sizeof(double));
        for (int i = 0; i < r->n_samples; i++)
                v[i] = (double)r->samples_ns[i];
        bench_stats_compute(&st, v, r->n_samples);
        bench_stats_compute(&ts, r->samples_ts, r->n_samples);
        free(v);
        cJSON_AddNumberToObject(o, "avg_ns", round(st.mean));
        cJSON_AddNumberToObject(o, "stddev_ns", round(st.stddev));
        cJSON_AddNumberToObject(o, "median_ns", round(st.median));
        cJSON_AddNumberToObject(o, "min_ns", round(st.min));
        cJSON_AddNumberToObject(o, "max_ns", round(st.max));
        cJSON_AddNumberToObject(o, "avg_ts", ts.mean);
        cJSON_AddNumberToObject(o, "stddev_ts", ts.stddev);
        cJSON_AddNumberToObject(o, "median_ts", ts.median);
        cJSON_AddNumberToObject(o, "min_ts", ts.min);
        cJSON_AddNumberToObject(o, "max_ts", ts.max);
        a = cJSON_AddArrayToObject(o, "samples_ns");
        for (int i = 0; i < r->n_samples; i++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber((double)r->samples_ns[i]));
        a = cJSON_AddArrayToObject(o, "samples_ts");
        for (int i = 0; i < r->n_samples; i++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber(r->samples_ts[i]));

        cJSON_AddNumberToObject(o, "load_cold_ns", (double)r->load_cold_ns);
        cJSON_AddBoolToObject(o, "load_cold_cache_dropped", r->load_cold_dropped);
        cJSON_AddNumberToObject(o, "load_cold_resident", r->load_cold_resident);
        cJSON_AddNumberToObject(o, "load_warm_ns", (double)r->load_warm_ns);
        cJSON_AddNumberToObject(o, "ttft_ns", (double)r->ttft_ns);
        itl = cJSON_AddObjectToObject(o, "itl_ns");
        v = mu_xcalloc((size_t)r->n_itl + 1, sizeof(double));
        for (int i = 0; i < r->n_itl; i++)
                v[i] = (double)r->itl_ns[i];
        bench_stats_compute(&st, v, r->n_itl);
        free(v);
        cJSON_AddNumberToObject(itl, "n", st.n);
        cJSON_AddNumberToObject(itl, "mean", round(st.mean));
        cJSON_AddNumberToObject(itl, "median", round(st.median));
        cJSON_AddNumberToObject(itl, "p95", round(st.p95));
        cJSON_AddNumberToObject(itl, "p99", round(st.p99));
        cJSON_AddNumberToObject(itl, "min", round(st.min));
        cJSON_AddNumberToObject(itl, "max", round(st.max));
        cJSON_AddNumberToObject(itl, "jitter", round(st.stddev));
        cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)r->peak_rss_bytes);
        cJSON_AddNumberToObject(o, "kv_bytes", (double)r->kv_bytes);
        cJSON_AddNumberToObject(o, "gpu_mem_bytes", (double)r->gpu_mem_bytes);
        cJSON_AddBoolToObject(o, "incomplete", r->incomplete);

        sy = cJSON_AddObjectToObject(o, "system");
        cJSON_AddStringToObject(sy, "cpu_model", sys->cpu_model);
        cJSON_AddStringToObject(sy, "cpu_flags", sys->cpu_flags);
        cJSON_AddNumberToObject(sy, "cores", sys->cores);
        cJSON_AddNumberToObject(sy, "logical_cpus", sys->logical);
        cJSON_AddNumberToObject(sy, "memory_bytes", (double)sys->mem_bytes);
        cJSON_AddStringToObject(sy, "os", sys->os);
        cJSON_AddStringToObject(sy, "kernel", sys->kernel);
        cJSON_AddStringToObject(sy, "compiler", sys->compiler);
        return o;
}

static double row_avg_ts(const struct bench_row *r, double *stddev)
{
        struct bench_stats ts;

        bench_stats_compute(&ts, r->samples_ts, r->n_samples);
        if (stddev)
                *stddev = ts.stddev;
        return ts.mean;
}

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');

        return s ? s + 1 : p;
}

static void human_size(char *buf, size_t n, double bytes)
{
        if (bytes >= 1024.0 * 1024 * 1024)
                snprintf(buf, n, "%.2f GiB", bytes / (1024.0 * 1024 * 1024));
        else if (bytes >= 1024.0 * 1024)
                snprintf(buf, n, "%.2f MiB", bytes / (1024.0 * 1024));
        else
                snprintf(buf, n, "%.2f KiB", bytes / 1024.0);
}

static void human_params(char *buf, size_t n, double p)
{
        if (p >= 1e9)
                snprintf(buf, n, "%.2f B", p / 1e9);
        else if (p >= 1e6)
                snprintf(buf, n, "%.2f M", p / 1e6);
        else
                snprintf(buf, n, "%.2f K", p / 1e3);
}

static void write_csv_field(FILE *f, const char *s)
{
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static void ms(char *buf, size_t n, int64_t ns)
{
        snprintf(buf, n, "%.2f", (double)ns / 1e6);
}

/* The human table's second part: load, latency and memory per row. */
static void write_latency_table(FILE *f, const struct bench_row *rows, int n)
{
        char name[64], a[32], b[32], c[32], d[32], e[32], g[32], h[32], k[32];

        fprintf(f, "\n| model | test | load cold ms | load warm ms | ttft ms | itl p50 ms "
                   "| itl p95 ms | itl p99 ms | peak RSS | KV |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (int i = 0; i < n; i++) {
                const struct bench_row *r = &rows[i];
                struct bench_stats st;
                double *v = mu_xcalloc((size_t)r->n_itl + 1, sizeof(double));
                for (int j = 0; j < r->n_itl; j++)
                        v[j] = (double)r->itl_ns[j];
                bench_stats_compute(&st, v, r->n_itl);
                free(v);
                bench_row_test_name(r, name, sizeof(name));
                ms(a, sizeof(a), r->load_cold_ns);
                if (!r->load_cold_dropped)
                        snprintf(a + strlen(a), sizeof(a) - strlen(a), " (warm)");
                ms(b, sizeof(b), r->load_warm_ns);
                if (r->n_prompt)
                        ms(c, sizeof(c), r->ttft_ns);
                else
                        snprintf(c, sizeof(c), "-");
                if (st.n) {
                        ms(d, sizeof(d), (int64_t)st.median);
                        ms(e, sizeof(e), (int64_t)st.p95);
                        ms(g, sizeof(g), (int64_t)st.p99);
                } else {
                        snprintf(d, sizeof(d), "-");
                        snprintf(e, sizeof(e), "-");
                        snprintf(g, sizeof(g), "-");
                }
                human_size(h, sizeof(h), (double)r->peak_rss_bytes);
                human_size(k, sizeof(k), (double)r->kv_bytes);
                fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                        r->model_ref ? r->model_ref : base_name(r->model_filename), name, a, b,
                        c, d, e, g, h, k);
        }
        if (n && !rows[0].load_cold_dropped)
                fprintf(f, "(warm: the page cache could not be dropped, so the cold load "
                           "was not cold)\n");
}

int bench_write(FILE *f, enum bench_format fmt, const struct bench_row *rows, int n,
                const struct bench_system *sys)
{
        char name[64], size[32], params[32];

        switch (fmt) {
        case BENCH_FMT_JSON: {
                cJSON *arr = cJSON_CreateArray();
                char *s;
                for (int i = 0; i < n; i++)
                        cJSON_AddItemToArray(arr, row_json(&rows[i], sys));
                s = cJSON_Print(arr);
                fprintf(f, "%s\n", s);
                cJSON_free(s);
                cJSON_Delete(arr);
                break;
        }
        case BENCH_FMT_JSONL:
                for (int i = 0; i < n; i++) {
                        cJSON *o = row_json(&rows[i], sys);
                        char *s = cJSON_PrintUnformatted(o);
                        fprintf(f, "%s\n", s);
                        cJSON_free(s);
                        cJSON_Delete(o);
                }
                break;
        case BENCH_FMT_CSV:
                fprintf(f, "model_filename,model_type,model_size,model_n_params,backends,"
                           "n_threads,n_gpu_layers,n_batch,n_prompt,n_gen,n_depth,test,"
                           "avg_ns,avg_ts,stddev_ts,ttft_ns,load_warm_ns,load_cold_ns,"
                           "peak_rss_bytes,kv_bytes,incomplete\n");
                for (int i = 0; i < n; i++) {
                        const struct bench_row *r = &rows[i];
                        double sd, avg = row_avg_ts(r, &sd), ns = 0;
                        for (int k = 0; k < r->n_samples; k++)
                                ns += (double)r->samples_ns[k] / r->n_samples;
                        bench_row_test_name(r, name, sizeof(name));
                        write_csv_field(f, r->model_filename);
                        fputc(',', f);
                        write_csv_field(f, r->model_type);
                        fprintf(f, ",%llu,%llu,", (unsigned long long)r->model_size,
                                (unsigned long long)r->model_n_params);
                        write_csv_field(f, sys->backends);
                        fprintf(f, ",%d,%d,%d,%d,%d,%d,", r->n_threads, r->n_gpu_layers,
                                r->n_batch, r->n_prompt, r->n_gen, r->n_depth);
                        write_csv_field(f, name);
                        fprintf(f, ",%.0f,%.6f,%.6f,%lld,%lld,%lld,%llu,%llu,%d\n", ns, avg,
                                sd, (long long)r->ttft_ns, (long long)r->load_warm_ns,
                                (long long)r->load_cold_ns,
                                (unsigned long long)r->peak_rss_bytes,
                                (unsigned long long)r->kv_bytes, r->incomplete);
                }
                break;
        case BENCH_FMT_MD:
        case BENCH_FMT_TABLE:
        {
                int gpu = 0;  /* device memory column only when something ran there */
                for (int i = 0; i < n; i++)
                        gpu |= rows[i].gpu_mem_bytes > 0;
                fprintf(f, "| model | size | params | backend | threads | ngl |%s test | t/s |\n"
                           "| --- | ---: | ---: | --- | ---: | ---: |%s ---: | ---: |\n",
                        gpu ? " dev mem |" : "", gpu ? " ---: |" : "");
                for (int i = 0; i < n; i++) {
                        const struct bench_row *r = &rows[i];
                        double sd, avg = row_avg_ts(r, &sd);
                        bench_row_test_name(r, name, sizeof(name));
                        human_size(size, sizeof(size), (double)r->model_size);
                        human_params(params, sizeof(params), (double)r->model_n_params);
                        char dev[32] = "";
                        if (gpu)
                                snprintf(dev, sizeof(dev), " %.1f MiB |",
                                         (double)r->gpu_mem_bytes / (1 << 20));
                        fprintf(f, "| %s | %s | %s | %s | %d | %d |%s %s | %.2f ± %.2f%s |\n",
                                r->model_type, size, params, sys->backends, r->n_threads,
                                r->gpu_layers_offloaded, dev, name, avg, sd,
                                r->incomplete ? " (incomplete)" : "");
                }
                if (fmt == BENCH_FMT_TABLE)
                        write_latency_table(f, rows, n);
        }
                break;
        }
        return ferror(f) ? MU_EIO : 0;
}

/* ---- compare ------------------------------------------------------------ */


/* Read and parse an earlier result: a JSON array (of row objects). */
static int load_old(const char *old_json, cJSON **out, struct mu_err *err)
{
        char *text = NULL;
        size_t len;
        cJSON *root;
        int rc;

        *out = NULL;
        rc = mu_read_file(old_json, 256u << 20, &text, &len, err);
        if (rc)
                return rc;
        root = cJSON_ParseWithLength(text, len);
        free(text);
        if (!root || !cJSON_IsArray(root)) {
                cJSON_Delete(root);
                return mu_fail(err, MU_EFORMAT, "'%s' is not a bench JSON array (write one "
                               "with --output FILE)", old_json);
        }
        *out = root;
        return 0;
}

int bench_compare_check(const char *old_json, struct mu_err *err)
{
        cJSON *root;
        int rc = load_old(old_json, &root, err);

        cJSON_Delete(root);
        return rc;
}

int bench_compare(FILE *f, const char *old_json, const struct bench_row *rows, int n,
                  struct mu_err *err)
{
        char name[64];
        cJSON *root, *it;
        int rc, matched = 0;

        rc = load_old(old_json, &root, err);
        if (rc)
                return rc;
        fprintf(f, "\n| model | threads | test | old t/s | new t/s | ratio |\n"
                   "| --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (int i = 0; i < n; i++) {
                const struct bench_row *r = &rows[i];
                double now = row_avg_ts(r, NULL);
                bench_row_test_name(r, name, sizeof(name));
                cJSON_ArrayForEach(it, root)
                {
                        cJSON *mf = cJSON_GetObjectItem(it, "model_filename");
                        cJSON *np = cJSON_GetObjectItem(it, "n_prompt");
                        cJSON *ng = cJSON_GetObjectItem(it, "n_gen");
                        cJSON *nd = cJSON_GetObjectItem(it, "n_depth");
                        cJSON *nt = cJSON_GetObjectItem(it, "n_threads");
                        cJSON *ts = cJSON_GetObjectItem(it, "avg_ts");
                        if (!cJSON_IsString(mf) || !cJSON_IsNumber(np) ||
                            !cJSON_IsNumber(ng) || !cJSON_IsNumber(nt) ||
                            !cJSON_IsNumber(ts))
                                continue;
                        if (strcmp(base_name(mf->valuestring), base_name(r->model_filename)) ||
                            np->valueint != r->n_prompt || ng->valueint != r->n_gen ||
                            (cJSON_IsNumber(nd) ? nd->valueint : 0) != r->n_depth ||
                            nt->valueint != r->n_threads)
                                continue;
                        fprintf(f, "| %s | %d | %s | %.2f | %.2f | %.3f |\n",
                                base_name(r->model_filename), r->n_threads, name,
                                ts->valuedouble, now,
                                ts->valuedouble > 0 ? now / ts->valuedouble : 0.0);
                        matched++;
                        break;
                }
        }
        if (!matched)
                fprintf(f, "(no test in '%s' matches this run)\n", old_json);
        cJSON_Delete(root);
        return 0;
}
