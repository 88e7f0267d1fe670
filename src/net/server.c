/* server.c -- model registry: load on first use, keep_alive expiry, LRU
 * eviction under a count and memory budget, parallel slots and the request
 * queue (see server.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "mullama/fs.h"
#include "mullama/model.h"
#include "mullama/model_info.h"
#include "mullama/modelfile.h"
#include "mullama/pool.h"
#include "net/server.h"

static void timed_wait(struct srv *s);

static void entry_free(struct srv_model *m)
{
        if (!m)
                return;
        if (m->slots) { /* shared runners first: slot 0 owns the weights */
                for (int i = 1; i < m->n_slots; i++)
                        runner_close(m->slots[i]);
                runner_close(m->slots[0]);
        }
        decode_group_free(m->group);
        free(m->slots);
        free(m->busy);
        store_model_free(m->sm);
        free(m->name);
        free(m->path);
        free(m);
}

/* Unlink m (s->mu held). */
static void entry_unlink(struct srv *s, struct srv_model *m)
{
        for (struct srv_model **p = &s->models; *p; p = &(*p)->next)
                if (*p == m) {
                        *p = m->next;
                        return;
                }
}

static struct srv_model *entry_find(struct srv *s, const char *name)
{
        for (struct srv_model *m = s->models; m; m = m->next)
                if (!strcmp(m->name, name))
                        return m;
        return NULL;
}

static void set_expiry(struct srv *s, struct srv_model *m, int64_t ka)
{
        if (ka == SRV_KEEP_DEFAULT)
                ka = s->c.keep_alive_ns;
        if (ka < 0 || ka == SRV_KEEP_FOREVER) {
                m->expires_ns = SRV_KEEP_FOREVER;
                m->expires_wall = 0;
                return;
        }
        m->expires_ns = mu_time_ns() + ka;
        m->expires_wall = wall_ns() + ka;
}

static void *reaper_main(void *arg)
{
        struct srv *s = arg;

        pthread_mutex_lock(&s->mu);
        while (!s->stopping) {
                struct timespec ts;
                int64_t now = mu_time_ns();
                struct srv_model *dead = NULL;
                for (struct srv_model *m = s->models, *next; m; m = next) {
                        next = m->next;
                        if (!m->loading && !m->n_busy && m->expires_ns != SRV_KEEP_FOREVER &&
                            m->expires_ns <= now) {
                                entry_unlink(s, m);
                                m->next = dead;
                                dead = m;
                        }
                }
                if (dead) {
                        pthread_mutex_unlock(&s->mu);
                        while (dead) {
                                struct srv_model *n = dead->next;
                                MU_LOG_INFO("unloading %s (keep_alive expired)", dead->name);
                                entry_free(dead);
                                dead = n;
                        }
                        pthread_mutex_lock(&s->mu);
                        pthread_cond_broadcast(&s->cv);
                        continue;
                }
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 100 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        pthread_mutex_unlock(&s->mu);
        return NULL;
}

int srv_init(struct srv *s, const struct srv_config *c, struct mu_err *err)
{
        memset(s, 0, sizeof(*s));
        s->c = *c;
        if (s->c.parallel < 1)
                s->c.parallel = 1;
        if (s->c.max_loaded < 1)
                s->c.max_loaded = 1;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        if (pthread_create(&s->reaper, NULL, reaper_main, s))
                return mu_fail(err, MU_EIO, "cannot start a thread");
        s->reaper_started = 1;
        return 0;
}

void srv_shutdown(struct srv *s)
{
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (s->reaper_started)
                pthread_join(s->reaper, NULL);
        while (s->models) {
                struct srv_model *m = s->models;
                s->models = m->next;
                entry_free(m);
        }
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
}

int srv_enter(struct srv *s)
{
        int rc = 0;

        pthread_mutex_lock(&s->mu);
        if (s->stopping || s->draining)
                rc = -1;
        else
                s->n_active++;
        pthread_mutex_unlock(&s->mu);
        return rc;
}

void srv_leave(struct srv *s)
{
        pthread_mutex_lock(&s->mu);
        s->n_active--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
}

void srv_drain(struct srv *s, int64_t grace_ns, volatile int *interrupt)
{
        int64_t t_end = mu_time_ns() + grace_ns;

        pthread_mutex_lock(&s->mu);
        s->draining = 1;
        while ((s->n_jobs || s->n_active) && mu_time_ns() < t_end && !(interrupt && *interrupt))
                timed_wait(s);
        if (s->n_jobs)
                MU_LOG_WARN("canceling %d running request(s)", s->n_jobs);
        for (struct gen_job *j = s->jobs; j; j = j->next)
                http_chan_cancel(j->chan);
        s->stopping = 1; /* queued requests give up */
        pthread_cond_broadcast(&s->cv);
        t_end = mu_time_ns() + INT64_C(10000000000);
        while ((s->n_jobs || s->n_active) && mu_time_ns() < t_end)
                timed_wait(s);
        pthread_mutex_unlock(&s->mu);
}

char *srv_model_name(const char *ref)
{
        struct store_ref r;
        char buf[700];

        if (store_is_path(ref) || store_ref_parse(&r, ref, NULL))
                return mu_xstrdup(ref);
        store_ref_display(&r, buf, sizeof(buf));
        return mu_xstrdup(buf);
}

int srv_options(struct srv *s, const struct srv_model *m, const cJSON *req_opts,
                struct runner_options *o, struct mu_err *err)
{
        runner_options_init(o);
        if (s->c.num_ctx > 0)
                o->num_ctx = s->c.num_ctx;
        if (s->c.num_gpu != SRV_GPU_ANY)
                o->num_gpu = s->c.num_gpu;
        if (s->c.num_thread > 0)
                o->num_thread = s->c.num_thread;
        else {
                int n = mu_cpu_physical_cores() / s->c.parallel;
                o->num_thread = n > 0 ? n : 1;
        }
        if (m->sm && m->sm->params_json && runner_options_apply_json(o, m->sm->params_json, err))
                return MU_EFORMAT;
        if (req_opts && cJSON_IsObject(req_opts)) {
                cJSON *known = cJSON_CreateObject(), *it;
                cJSON_ArrayForEach(it, req_opts)
                {
                        enum modelfile_ptype t;
                        int dep = 0;
                        if (strcmp(it->string, "stop") &&
                            modelfile_param_type(it->string, &t, &dep) != 0) {
                                MU_LOG_WARN("invalid option provided: %s", it->string);
                                continue;
                        }
                        cJSON_AddItemReferenceToObject(known, it->string, it);
                }
                char *js = cJSON_PrintUnformatted(known);
                cJSON_Delete(known);
                int rc = runner_options_apply_json(o, js, err);
                free(js);
                if (rc)
                        return rc;
        } else if (req_opts && !cJSON_IsNull(req_opts)) {
                return mu_fail(err, MU_EINVAL, "options must be an object");
        }
        return 0;
}

/* Evict idle models (LRU) until one more of `need` bytes fits (s->mu held).
 * Returns the list of evicted entries (free them unlocked); *fits says
 * whether the budget now allows the load. */
static struct srv_model *evict_for(struct srv *s, uint64_t need, int *fits)
{
        struct srv_model *dead = NULL;

        for (;;) {
                int n = 0;
                uint64_t used = 0;
                struct srv_model *lru = NULL;
                for (struct srv_model *m = s->models; m; m = m->next) {
                        n++;
                        used += m->mem;
                        if (!m->loading && !m->n_busy && (!lru || m->last_used < lru->last_used))
                                lru = m;
                }
                if (n < s->c.max_loaded && (used + need <= s->c.max_memory || n == 0)) {
                        *fits = 1;
                        return dead;
                }
                if (!lru) {
                        *fits = 0;
                        return dead;
                }
                MU_LOG_INFO("unloading %s to make room", lru->name);
                entry_unlink(s, lru);
                lru->next = dead;
                dead = lru;
        }
}

static void free_list(struct srv_model *m)
{
        while (m) {
                struct srv_model *n = m->next;
                entry_free(m);
                m = n;
        }
}

static uint64_t file_bytes(const char *path)
{
        struct stat st;

        return stat(path, &st) ? 0 : (uint64_t)st.st_size;
}

static void timed_wait(struct srv *s)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Batched decoding pays when streaming the weights dominates a step: on the
 * dev box (2 cores, bench/bench_decode_group.c, 4 sequences) SmolLM2-135M
 * Q4_1 (98 MB) decodes 1.5-2.1x faster batched, while stories260K (1 MB),
 * whose step is all per-call overhead, runs 0.25-0.63x as fast.  Smaller
 * models decode one slot at a time. */
#define SRV_BATCH_MIN_BYTES (16u << 20)

/* Load m's slot 0 (unlocked; m->loading set by the caller). */
static int load_entry(struct srv *s, struct srv_model *m, struct mu_err *err)
{
        struct runner_options o;
        int rc;

        rc = srv_options(s, m, NULL, &o, err);
        if (m->num_gpu != SRV_GPU_ANY)
                o.num_gpu = m->num_gpu;
        if (!rc)
                rc = runner_open(&m->slots[0], m->path, &o, 0, err);
        runner_options_release(&o);
        if (rc)
                return rc;
        m->mem = runner_memory_bytes(m->slots[0]);
        m->n_ctx = runner_n_ctx(m->slots[0]);
        if (m->n_slots > 1 && !s->c.no_batch &&
            runner_weights_bytes(m->slots[0]) >= SRV_BATCH_MIN_BYTES) {
                /* the group's pool: the slots' threads together, at most
                 * the cores */
                struct mu_err gerr = {0};
                int per = s->c.num_thread > 0 ? s->c.num_thread
                                              : mu_cpu_physical_cores() / s->c.parallel;
                int nth = (per > 0 ? per : 1) * m->n_slots;
                if (nth > mu_cpu_physical_cores())
                        nth = mu_cpu_physical_cores();
                if (runner_group_create(m->slots[0], m->n_slots, nth, &m->group, &gerr))
                        MU_LOG_INFO("%s: slots decode one at a time: %s", m->name, gerr.msg);
                else
                        runner_set_group(m->slots[0], m->group);
        }
        return 0;
}

int srv_acquire(struct srv *s, const char *name, volatile int *cancel, struct srv_lease *l,
                struct mu_err *err)
{
        return srv_acquire_gpu(s, name, cancel, SRV_GPU_ANY, l, err);
}

int srv_acquire_gpu(struct srv *s, const char *name, volatile int *cancel, int num_gpu,
                    struct srv_lease *l, struct mu_err *err)
{
        struct srv_model *m, *dead = NULL;
        int queued = 0, rc;

        memset(l, 0, sizeof(*l));
        l->s = s;
        pthread_mutex_lock(&s->mu);
        for (;;) {
                if (s->stopping) {
                        rc = 503;
                        mu_fail(err, MU_ECANCELED, "server is shutting down");
                        goto fail;
                }
                if (cancel && *cancel) {
                        rc = 499;
                        mu_fail(err, MU_ECANCELED, "request canceled");
                        goto fail;
                }
                m = entry_find(s, name);
                if (m && !m->loading && num_gpu != SRV_GPU_ANY && num_gpu != m->num_gpu) {
                        /* loaded with another offload: reload once idle */
                        if (m->n_busy)
                                goto wait;
                        MU_LOG_INFO("reloading %s with num_gpu %d", m->name, num_gpu);
                        entry_unlink(s, m);
                        pthread_mutex_unlock(&s->mu);
                        entry_free(m);
                        pthread_mutex_lock(&s->mu);
                        pthread_cond_broadcast(&s->cv);
                        continue;
                }
                if (m && !m->loading) {
                        for (int i = 0; i < m->n_slots; i++)
                                if (!m->busy[i]) {
                                        m->busy[i] = 1;
                                        m->n_busy++;
                                        l->m = m;
                                        l->slot = i;
                                        break;
                                }
                        if (l->m)
                                break;
                }
                if (!m) {
                        /* not loaded: resolve, make room, load */
                        char *path = NULL;
                        struct store_model *sm = NULL;
                        uint64_t need;
                        int fits;
                        pthread_mutex_unlock(&s->mu);
                        rc = cli_resolve_model(s->c.cfg, name, &path, &sm, err);
                        pthread_mutex_lock(&s->mu);
                        if (rc) {
                                rc = rc == MU_ENOTFOUND ? 404 : status_for(rc);
                                if (rc == 404)
                                        mu_fail(err, MU_ENOTFOUND, "model '%s' not found", name);
                                goto fail;
                        }
                        if (entry_find(s, name)) { /* loaded meanwhile */
                                free(path);
                                store_model_free(sm);
                                continue;
                        }
                        need = file_bytes(path);
                        dead = evict_for(s, need, &fits);
                        if (!fits) { /* wait for a busy model to become idle */
                                free(path);
                                store_model_free(sm);
                                if (dead) {
                                        pthread_mutex_unlock(&s->mu);
                                        free_list(dead);
                                        dead = NULL;
                                        pthread_mutex_lock(&s->mu);
                                        continue;
                                }
                                goto wait;
                        }
                        m = mu_xcalloc(1, sizeof(*m));
                        m->name = mu_xstrdup(name);
                        m->path = path;
                        m->sm = sm;
                        m->n_slots = s->c.parallel;
                        m->slots = mu_xcalloc((size_t)m->n_slots, sizeof(*m->slots));
                        m->busy = mu_xcalloc((size_t)m->n_slots, sizeof(int));
                        m->loading = 1;
                        m->num_gpu = num_gpu;
                        m->mem = need;
                        m->expires_ns = SRV_KEEP_FOREVER;
                        m->next = s->models;
                        s->models = m;
                        pthread_mutex_unlock(&s->mu);
                        free_list(dead);
                        dead = NULL;
                        int64_t t0 = mu_time_ns();
                        MU_LOG_INFO("loading %s", name);
                        rc = load_entry(s, m, err);
                        pthread_mutex_lock(&s->mu);
                        m->loading = 0;
                        pthread_cond_broadcast(&s->cv);
                        if (rc) {
                                entry_unlink(s, m);
                                pthread_mutex_unlock(&s->mu);
                                entry_free(m);
                                pthread_mutex_lock(&s->mu);
                                rc = status_for(rc);
                                goto fail;
                        }
                        l->load_ns = mu_time_ns() - t0;
                        set_expiry(s, m, SRV_KEEP_DEFAULT);
                        continue;
                }
        wait:
                if (!queued) {
                        if (s->n_waiting >= s->c.max_queue) {
                                rc = 503;
                                mu_fail(err, MU_ENOMEM, "server busy, please try again: "
                                        "maximum pending requests exceeded");
                                goto fail;
                        }
                        queued = 1;
                        s->n_waiting++;
                }
                timed_wait(s);
        }
        if (queued)
                s->n_waiting--;
        m = l->m;
        m->last_used = mu_time_ns();
        m->expires_ns = SRV_KEEP_FOREVER; /* busy: never expires */
        pthread_mutex_unlock(&s->mu);
        if (!m->slots[l->slot]) {
                struct runner_options o;
                rc = srv_options(s, m, NULL, &o, err);
                if (!rc)
                        rc = runner_open_shared(&m->slots[l->slot], m->slots[0], &o, err);
                runner_options_release(&o);
                if (!rc)
                        runner_set_group(m->slots[l->slot], m->group);
                if (rc) {
                        srv_release(l, SRV_KEEP_DEFAULT);
                        return status_for(rc);
                }
                pthread_mutex_lock(&s->mu);
                m->mem += runner_memory_bytes(m->slots[l->slot]);
                pthread_mutex_unlock(&s->mu);
        }
        l->r = m->slots[l->slot];
        return 0;
fail:
        if (queued)
                s->n_waiting--;
        pthread_mutex_unlock(&s->mu);
        free_list(dead);
        return rc;
}

void srv_release(struct srv_lease *l, int64_t keep_alive_ns)
{
        struct srv *s = l->s;
        struct srv_model *m = l->m;

        if (!m)
                return;
        pthread_mutex_lock(&s->mu);
        m->busy[l->slot] = 0;
        m->n_busy--;
        m->last_used = mu_time_ns();
        set_expiry(s, m, keep_alive_ns);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        l->m = NULL;
        l->r = NULL;
}

int srv_unload(struct srv *s, const char *name)
{
        struct srv_model *m;
        int rc = -1;

        pthread_mutex_lock(&s->mu);
        m = entry_find(s, name);
        if (m && !m->loading) {
                rc = 0;
                if (!m->n_busy) {
                        entry_unlink(s, m);
                        pthread_mutex_unlock(&s->mu);
                        MU_LOG_INFO("unloading %s", name);
                        entry_free(m);
                        pthread_mutex_lock(&s->mu);
                        pthread_cond_broadcast(&s->cv);
                } else {
                        m->expires_ns = 0; /* the reaper takes it when idle */
                }
        }
        pthread_mutex_unlock(&s->mu);
        return rc;
}

/* details object from a store model's config blob */
static void add_details(cJSON *o, const struct store_model *sm, const char *path)
{
        cJSON *d = cJSON_AddObjectToObject(o, "details");
        cJSON *cfg = sm && sm->config_json ? cJSON_Parse(sm->config_json) : NULL;
        const char *family = NULL, *ptype = NULL, *ftype = NULL;

        if (cfg) {
                cJSON *x;
                if (cJSON_IsString(x = cJSON_GetObjectItem(cfg, "model_family")))
                        family = x->valuestring;
                if (cJSON_IsString(x = cJSON_GetObjectItem(cfg, "model_type")))
                        ptype = x->valuestring;
                if (cJSON_IsString(x = cJSON_GetObjectItem(cfg, "file_type")))
                        ftype = x->valuestring;
        }
        cJSON_AddStringToObject(d, "parent_model", "");
        cJSON_AddStringToObject(d, "format", "gguf");
        cJSON_AddStringToObject(d, "family", family ? family : "");
        cJSON *fams = cJSON_AddArrayToObject(d, "families");
        if (family)
                cJSON_AddItemToArray(fams, cJSON_CreateString(family));
        cJSON_AddStringToObject(d, "parameter_size", ptype ? ptype : "");
        cJSON_AddStringToObject(d, "quantization_level", ftype ? ftype : "");
        (void)path;
        cJSON_Delete(cfg);
}

void srv_model_details(cJSON *o, const struct store_model *sm, const char *path);
void srv_model_details(cJSON *o, const struct store_model *sm, const char *path)
{
        add_details(o, sm, path);
}

char *srv_ps_json(struct srv *s)
{
        cJSON *root = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(root, "models");
        char tbuf[64];
        char *out;

        pthread_mutex_lock(&s->mu);
        for (struct srv_model *m = s->models; m; m = m->next) {
                if (m->loading)
                        continue;
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "name", m->name);
                cJSON_AddStringToObject(o, "model", m->name);
                cJSON_AddNumberToObject(o, "size", (double)m->mem);
                cJSON_AddStringToObject(o, "digest", m->sm ? m->sm->id : "");
                add_details(o, m->sm, m->path);
                if (m->expires_ns == SRV_KEEP_FOREVER && m->n_busy == 0)
                        time_rfc3339(tbuf, sizeof(tbuf), INT64_C(9223372035) * 1000000000);
                else if (m->n_busy)
                        time_rfc3339(tbuf, sizeof(tbuf),
                                     wall_ns() + (s->c.keep_alive_ns == SRV_KEEP_FOREVER
                                                          ? 0 : s->c.keep_alive_ns));
                else
                        time_rfc3339(tbuf, sizeof(tbuf), m->expires_wall);
                cJSON_AddStringToObject(o, "expires_at", tbuf);
                cJSON_AddNumberToObject(o, "size_vram",
                                        m->slots[0] ? (double)runner_gpu_bytes(m->slots[0]) : 0);
                cJSON_AddNumberToObject(o, "context_length", m->n_ctx);
                cJSON_AddNumberToObject(o, "slots", m->n_slots);
                cJSON_AddNumberToObject(o, "slots_busy", m->n_busy);
                if (m->group) { /* batched decoding: passes run, tokens in them */
                        uint64_t steps, toks;
                        decode_group_stats(m->group, &steps, &toks);
                        cJSON_AddNumberToObject(o, "decode_steps", (double)steps);
                        cJSON_AddNumberToObject(o, "decode_tokens", (double)toks);
                }
                cJSON_AddItemToArray(arr, o);
        }
        pthread_mutex_unlock(&s->mu);
        out = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        return out;
}
