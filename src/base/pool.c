/* pool.c -- see pool.h.
 *
 * Every wait (a worker for the next job, the driver for the job's end, a
 * thread at a barrier) spins on an atomic word for up to SPIN_NS (after
 * YIELD_NS with a sched_yield between polls), then sleeps on it with a futex
 * (Linux; elsewhere it yields the core instead).  The yields matter on a
 * shared machine: a thread spinning on a core that our other thread (or
 * another process) waits for held SmolLM2 tg at 54-64 t/s against 77-90
 * with them (2 vCPUs, load ~3.5).  The
 * side that changes the word wakes sleepers only when a sleeper count says
 * there are any, so back-to-back jobs (a few hundred per generated token)
 * cost two cache-line transfers each while the threads spin, and an idle or
 * oversubscribed pool gives its cores away instead of burning them.
 *
 *   word      job generation, a closed flag and how many workers are inside
 *             the job: the driver starts a job with a new generation;
 *             workers wait for that and join while the job is open
 *   finished  workers done with the current job (mu_pool_run waits for n-1)
 *   sense     barrier generation: the last thread to arrive bumps it
 *
 * mu_pool_run_dyn() closes the job once the driver's own call returns and
 * waits only for the workers that joined before that: with more runnable
 * threads than cores (a shared machine), a descheduled worker then no longer
 * holds every job up. */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#endif

#include "mullama/mullama.h"
#include "mullama/pool.h"

/* How long a wait spins before sleeping: longer than the gap between two
 * matmuls of one token (norms, RoPE: a few microseconds), far shorter than a
 * scheduler time slice. */
#define SPIN_NS 100000
#ifndef YIELD_NS
#define YIELD_NS 5000
#endif

struct worker {
        struct mu_pool *pool;
        pthread_t thread;
        int ith;
};

struct mu_pool {
        int n;
        struct worker *workers;
        mu_pool_fn fn;
        void *arg;
        _Atomic int stop;
        /* gen << 10 | CLOSED | threads inside the job (workers only) */
        _Alignas(64) _Atomic unsigned word;
        _Atomic int word_sleepers;
        _Alignas(64) _Atomic unsigned finished; /* workers done with this job */
        _Atomic int drv_sleepers;
        _Alignas(64) _Atomic unsigned bar_count;
        _Atomic unsigned bar_sense;
        _Atomic int bar_sleepers;
};

#define GEN_SHIFT 10
#define CLOSED (1u << 9)
#define ACTIVE_MASK (CLOSED - 1)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
}

static void futex_wait(_Atomic unsigned *w, unsigned val)
{
#ifdef __linux__
        syscall(SYS_futex, (unsigned *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
#else
        (void)w;
        (void)val;
        sched_yield();
#endif
}

static void futex_wake_all(_Atomic unsigned *w)
{
#ifdef __linux__
        syscall(SYS_futex, (unsigned *)w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
        (void)w;
#endif
}

/* Wait until (*w >> shift) != val (ne) or (*w & mask) <= val (!ne: a
 * count going down) or *w >= val (!ne, mask 0: a count going up); spin, then
 * sleep.  Returns the word. */
static int wait_done(unsigned v, unsigned val, int ne, int shift, unsigned mask)
{
        if (ne)
                return (v >> shift) != val;
        return mask ? (v & mask) <= val : v >= val;
}

static unsigned wait_word(_Atomic unsigned *w, unsigned val, int ne, int shift, unsigned mask,
                          _Atomic int *sleepers)
{
        int64_t t0 = 0;
        unsigned v;

        for (int spins = 0;; spins++) {
                v = atomic_load_explicit(w, memory_order_acquire);
                if (wait_done(v, val, ne, shift, mask))
                        return v;
                if ((spins & 63) != 63) {
                        cpu_relax();
                        continue;
                }
                if (!t0) {
                        t0 = mu_time_ns();
                        continue;
                }
                int64_t el = mu_time_ns() - t0;
                if (el < SPIN_NS) {
                        /* past YIELD_NS give the core away between polls:
                         * a thread of ours (or anyone) waiting for it runs */
                        if (el > YIELD_NS)
                                sched_yield();
                        continue;
                }
                /* sleep: announce, re-check, wait while the word is v */
                atomic_fetch_add(sleepers, 1); /* seq_cst: pairs with the waker */
                v = atomic_load(w);
                if (!wait_done(v, val, ne, shift, mask))
                        futex_wait(w, v);
                atomic_fetch_sub(sleepers, 1);
        }
}

static void wake(_Atomic unsigned *w, _Atomic int *sleepers)
{
        if (atomic_load(sleepers) > 0) /* seq_cst after the store to w */
                futex_wake_all(w);
}

/* A worker joins a job by raising the active count, only while the job is
 * still open and still the one it saw announced. */
static int join(struct mu_pool *p, unsigned gen)
{
        unsigned w = atomic_load(&p->word);

        while ((w >> GEN_SHIFT) == gen && !(w & CLOSED))
                if (atomic_compare_exchange_weak(&p->word, &w, w + 1))
                        return 1;
        return 0;
}

static void *worker_main(void *argp)
{
        struct worker *w = argp;
        struct mu_pool *p = w->pool;
        unsigned seen = 0;

        for (;;) {
                unsigned v = wait_word(&p->word, seen, 1, GEN_SHIFT, 0, &p->word_sleepers);
                seen = v >> GEN_SHIFT;
                if (atomic_load(&p->stop))
                        return NULL;
                if (!join(p, seen))
                        continue; /* finished without us */
                p->fn(p->arg, w->ith, p->n);
                atomic_fetch_add(&p->finished, 1);
                atomic_fetch_sub(&p->word, 1);
                if (atomic_load(&p->drv_sleepers) > 0) {
                        futex_wake_all(&p->finished);
                        futex_wake_all(&p->word);
                }
        }
}

int mu_cpu_logical_cores(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        return n > 0 ? (int)n : 1;
}

/* Count distinct (physical id, core id) pairs in /proc/cpuinfo. */
int mu_cpu_physical_cores(void)
{
        FILE *f = fopen("/proc/cpuinfo", "r");
        char line[256];
        int phys = -1, ids[1024], n = 0;

        if (!f)
                return mu_cpu_logical_cores();
        while (fgets(line, sizeof(line), f)) {
                int v;
                if (sscanf(line, "physical id : %d", &v) == 1)
                        phys = v;
                else if (sscanf(line, "core id : %d", &v) == 1) {
                        int key = phys * 4096 + v, dup = 0;
                        for (int i = 0; i < n; i++)
                                dup |= ids[i] == key;
                        if (!dup && n < 1024)
                                ids[n++] = key;
                }
        }
        fclose(f);
        if (n <= 0 || n > mu_cpu_logical_cores())
                return mu_cpu_logical_cores();
        return n;
}

struct mu_pool *mu_pool_create(int n_threads)
{
        struct mu_pool *p = aligned_alloc(64, (sizeof(*p) + 63) & ~(size_t)63);

        if (!p) {
                fprintf(stderr, "mullama: out of memory\n");
                abort();
        }
        memset(p, 0, sizeof(*p));
        if (n_threads <= 0)
                n_threads = mu_cpu_physical_cores();
        if (n_threads > 256)
                n_threads = 256;
        p->n = n_threads;
        p->workers = mu_xcalloc((size_t)n_threads, sizeof(*p->workers));
        for (int i = 1; i < n_threads; i++) {
                p->workers[i].pool = p;
                p->workers[i].ith = i;
                if (pthread_create(&p->workers[i].thread, NULL, worker_main,
                                   &p->workers[i]) != 0) {
                        /* run with the threads we got */
                        p->n = i;
                        break;
                }
        }
        return p;
}

void mu_pool_free(struct mu_pool *p)
{
        if (!p)
                return;
        atomic_store(&p->stop, 1);
        atomic_fetch_add(&p->word, 1u << GEN_SHIFT);
        futex_wake_all(&p->word);
        for (int i = 1; i < p->n; i++)
                pthread_join(p->workers[i].thread, NULL);
        free(p->workers);
        free(p);
}

int mu_pool_size(const struct mu_pool *p) { return p ? p->n : 1; }

/* Announce fn as the next job: a new generation, open, nobody inside. */
static void start(struct mu_pool *p, mu_pool_fn fn, void *arg)
{
        p->fn = fn;
        p->arg = arg;
        atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
        /* New generation, open; keep the active count: after mu_pool_run a
         * worker may still be between its finished++ and its word-- (the
         * driver waits only for finished), and overwriting the word would
         * let that late decrement borrow from the generation field, after
         * which the worker waits forever for a job it thinks it has seen.
         * seq_cst: publishes the stores above. */
        unsigned w = atomic_load(&p->word), nw;
        do
                nw = (((w >> GEN_SHIFT) + 1) << GEN_SHIFT) | (w & ACTIVE_MASK);
        while (!atomic_compare_exchange_weak(&p->word, &w, nw));
        wake(&p->word, &p->word_sleepers);
}

void mu_pool_run(struct mu_pool *p, mu_pool_fn fn, void *arg)
{
        if (!p || p->n == 1) {
                fn(arg, 0, 1);
                return;
        }
        start(p, fn, arg);
        fn(arg, 0, p->n);
        wait_word(&p->finished, (unsigned)(p->n - 1), 0, 0, 0, &p->drv_sleepers);
}

void mu_pool_run_dyn(struct mu_pool *p, mu_pool_fn fn, void *arg)
{
        if (!p || p->n == 1) {
                fn(arg, 0, 1);
                return;
        }
        start(p, fn, arg);
        fn(arg, 0, p->n);
        /* close the job; wait only for the workers that got in */
        atomic_fetch_or(&p->word, CLOSED);
        wait_word(&p->word, 0, 0, 0, ACTIVE_MASK, &p->drv_sleepers);
}

void mu_pool_barrier(struct mu_pool *p)
{
        unsigned sense;

        if (!p || p->n == 1)
                return;
        sense = atomic_load_explicit(&p->bar_sense, memory_order_relaxed);
        if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) ==
            (unsigned)p->n - 1) {
                atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
                atomic_fetch_add(&p->bar_sense, 1);
                wake(&p->bar_sense, &p->bar_sleepers);
                return;
        }
        wait_word(&p->bar_sense, sense, 1, 0, 0, &p->bar_sleepers);
}
