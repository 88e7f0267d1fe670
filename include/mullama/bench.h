/* bench.h -- benchmark results: statistics over samples, and the result rows
 * `mullama bench` prints as a table or writes as JSON / JSONL / CSV /
 * Markdown.  The JSON keeps llama-bench's field names where they exist and
 * adds ours; BENCH_SCHEMA_VERSION changes whenever a field changes meaning or
 * goes away (adding fields does not bump it).  Documented in README.md
 * ("Benchmark JSON"); tests/data/bench/schema.json is its machine-readable
 * form.
 *
 * This module does no timing and knows nothing of the engine: cli/bench.c
 * measures and fills struct bench_row; bench.c formats and compares. */
#ifndef MULLAMA_BENCH_H
#define MULLAMA_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "mullama/mullama.h"

#define BENCH_SCHEMA_VERSION 1

struct bench_stats {
        int n;
        double mean, stddev, median, min, max, p95, p99;
};

/* Statistics of n samples (n may be 0: all zero).  Sample stddev (n-1). */
void bench_stats_compute(struct bench_stats *st, const double *v, int n);

struct bench_row {
        /* model */
        char *model_filename, *model_type, *arch, *quant, *model_digest;
        char *model_ref;         /* the model as given: store name or path */
        uint64_t model_size, model_n_params;
        /* config */
        int n_threads, n_gpu_layers, gpu_layers_offloaded, n_batch, n_ubatch;
        int n_prompt, n_gen, n_depth;
        const char *type_k, *type_v;
        int use_mmap;
        /* results: one sample per run */
        int n_samples;
        int64_t *samples_ns;     /* whole test time per run */
        double *samples_ts;      /* tokens per second per run */
        int64_t ttft_ns;         /* median time to first token (pp / pg) */
        int64_t *itl_ns;         /* all inter-token latencies of all runs (tg) */
        int n_itl;
        int64_t load_cold_ns, load_warm_ns;
        int load_cold_dropped;   /* 1: page cache dropped for the cold load */
        double load_cold_resident; /* fraction of the file's pages in the page
                                    * cache just before the cold load */
        uint64_t peak_rss_bytes, kv_bytes;
        uint64_t gpu_mem_bytes;  /* Vulkan device memory in use (0: none) */
        char *gpu_name;          /* the device (NULL: CPU only) */
        char test_time[32];      /* RFC 3339 UTC */
        int incomplete;          /* interrupted before all runs finished */
};

void bench_row_release(struct bench_row *r);
/* "pp512", "tg128", "pp512+tg128", with " @ d1024" for a depth. */
void bench_row_test_name(const struct bench_row *r, char *buf, size_t n);

/* Facts about this machine and build, filled once. */
struct bench_system {
        char cpu_model[128];
        char cpu_flags[128];   /* the kernel set in use and key ISA flags */
        int cores, logical;
        uint64_t mem_bytes;
        char os[128], kernel[128], compiler[64];
        const char *backends, *build_commit, *version;
};
void bench_system_detect(struct bench_system *s);

enum bench_format {
        BENCH_FMT_TABLE,
        BENCH_FMT_JSON,
        BENCH_FMT_JSONL,
        BENCH_FMT_CSV,
        BENCH_FMT_MD,
};
int bench_format_parse(const char *s);  /* -1 if unknown */

/* Write rows in a format.  The human table and md print header + rows. */
int bench_write(FILE *f, enum bench_format fmt, const struct bench_row *rows,
                int n, const struct bench_system *sys);

/* Check before any work that old_json is a readable bench JSON array.
 * Returns 0, or MU_E* with err. */
int bench_compare_check(const char *old_json, struct mu_err *err);

/* Compare rows with an earlier JSON result file: print, per test present in
 * both (matched on model file name, test name and threads), old t/s, new t/s
 * and the ratio.  Returns 0, or MU_E* with err for an unreadable file. */
int bench_compare(FILE *f, const char *old_json, const struct bench_row *rows,
                  int n, struct mu_err *err);

#endif
