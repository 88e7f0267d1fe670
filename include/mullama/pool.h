/* pool.h -- a small thread pool for data-parallel kernels.
 *
 * mu_pool_run(p, fn, arg) calls fn(arg, ith, nth) once for every ith in
 * [0, nth) in parallel and returns when all calls have returned.  The calling
 * thread runs ith = 0.  Workers spin briefly between jobs and then sleep, so
 * back-to-back small jobs (one per matmul in token generation) stay cheap.
 * Inside fn, mu_pool_barrier(p) waits for every thread of the current job.
 * A pool is driven by one thread at a time (one pool per session). */
#ifndef MULLAMA_POOL_H
#define MULLAMA_POOL_H

struct mu_pool;

typedef void (*mu_pool_fn)(void *arg, int ith, int nth);

/* n_threads <= 0: number of physical cores (mu_cpu_physical_cores()). */
struct mu_pool *mu_pool_create(int n_threads);
void mu_pool_free(struct mu_pool *p);
int mu_pool_size(const struct mu_pool *p);
void mu_pool_run(struct mu_pool *p, mu_pool_fn fn, void *arg);
void mu_pool_barrier(struct mu_pool *p);
/* Like mu_pool_run for jobs that share out their work dynamically (each call
 * takes pieces from a shared counter until none are left): a worker that has
 * not started by the time the calling thread's own call returns is not
 * waited for and does not run.  So fn may run for only some ith (always 0),
 * and must not call mu_pool_barrier. */
void mu_pool_run_dyn(struct mu_pool *p, mu_pool_fn fn, void *arg);

int mu_cpu_physical_cores(void);
int mu_cpu_logical_cores(void);

#endif
