/* pool.c -- see pool.h.
 *
 * Job hand-off: the driver bumps an atomic generation counter; workers spin
 * on it (with a pause hint) for a while, then sleep on a condition variable.
 * Completion: an atomic count of finished workers that the driver spins on.
 * The barrier is a sense-reversing counter barrier over all nth threads. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mullama/mullama.h"
#include "mullama/pool.h"

#define SPIN_WAIT_NS 1000000
/* Waits inside a job (barrier, completion) spin this many times, then yield
 * the core: with more runnable threads than cores (other processes), pure
 * spinning can burn a whole time slice waiting for a descheduled peer. */
#define SPIN_BEFORE_YIELD 4096

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
        _Atomic unsigned gen;
        _Atomic int done;
        _Atomic int stop;
        _Atomic int sleeping;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        /* barrier */
        _Atomic int bar_count;
        _Atomic unsigned bar_sense;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
}

static void *worker_main(void *argp)
{
        struct worker *w = argp;
        struct mu_pool *p = w->pool;
        unsigned seen = 0;

        for (;;) {
                unsigned g;
                int spins = 0;

                int64_t t0 = 0;
                while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
                        if (atomic_load(&p->stop))
                                return NULL;
                        /* spin briefly, then yield, then (after ~1 ms) sleep */
                        if (++spins < SPIN_BEFORE_YIELD) {
                                cpu_relax();
                                continue;
                        }
                        if (!t0)
                                t0 = mu_time_ns();
                        if (mu_time_ns() - t0 < SPIN_WAIT_NS) {
                                sched_yield();
                                continue;
                        }
                        pthread_mutex_lock(&p->mu);
                        atomic_fetch_add(&p->sleeping, 1);
                        while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                                pthread_cond_wait(&p->cv, &p->mu);
                        atomic_fetch_sub(&p->sleeping, 1);
                        pthread_mutex_unlock(&p->mu);
                        spins = 0;
                        t0 = 0;
                }
                seen = g;
                if (atomic_load(&p->stop))
                        return NULL;
                p->fn(p->arg, w->ith, p->n);
                atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
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
        struct mu_pool *p = mu_xcalloc(1, sizeof(*p));

        if (n_threads <= 0)
                n_threads = mu_cpu_physical_cores();
        if (n_threads > 256)
                n_threads = 256;
        p->n = n_threads;
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->cv, NULL);
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
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stop, 1);
        atomic_fetch_add(&p->gen, 1);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        for (int i = 1; i < p->n; i++)
                pthread_join(p->workers[i].thread, NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p->workers);
        free(p);
}

int mu_pool_size(const struct mu_pool *p) { return p ? p->n : 1; }

void mu_pool_run(struct mu_pool *p, mu_pool_fn fn, void *arg)
{
        if (!p || p->n == 1) {
                fn(arg, 0, 1);
                return;
        }
        p->fn = fn;
        p->arg = arg;
        atomic_store_explicit(&p->done, 0, memory_order_relaxed);
        atomic_fetch_add(&p->gen, 1); /* seq_cst: pairs with sleeping */
        if (atomic_load(&p->sleeping) > 0) {
                pthread_mutex_lock(&p->mu);
                pthread_cond_broadcast(&p->cv);
                pthread_mutex_unlock(&p->mu);
        }
        fn(arg, 0, p->n);
        for (int spins = 0;
             atomic_load_explicit(&p->done, memory_order_acquire) < p->n - 1; spins++) {
                if (spins < SPIN_BEFORE_YIELD)
                        cpu_relax();
                else
                        sched_yield();
        }
}

void mu_pool_barrier(struct mu_pool *p)
{
        unsigned sense;

        if (!p || p->n == 1)
                return;
        sense = atomic_load_explicit(&p->bar_sense, memory_order_relaxed);
        if (atomic_fetch_add_explicit(&p->bar_count, 1, memory_order_acq_rel) ==
            p->n - 1) {
                atomic_store_explicit(&p->bar_count, 0, memory_order_relaxed);
                atomic_store_explicit(&p->bar_sense, sense + 1, memory_order_release);
                return;
        }
        for (int spins = 0;
             atomic_load_explicit(&p->bar_sense, memory_order_acquire) == sense; spins++) {
                if (spins < SPIN_BEFORE_YIELD)
                        cpu_relax();
                else
                        sched_yield();
        }
}
