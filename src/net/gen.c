/* gen.c -- a generation job: its own thread acquires a slot, renders the
 * conversation, runs the runner and hands every piece of text to the API's
 * formatter, which writes to the request's channel (see server.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "mullama/json_schema.h"
#include "net/server.h"

struct gen_job *gen_job_new(struct srv *s, const char *model, const struct gen_fmt *fmt)
{
        struct gen_job *j = mu_xcalloc(1, sizeof(*j));

        j->s = s;
        j->fmt = fmt;
        j->model = srv_model_name(model);
        j->keep_alive_ns = SRV_KEEP_DEFAULT;
        j->stream = 1;
        j->t_start = mu_time_ns();
        j->created = time(NULL);
        return j;
}

void gen_job_add_msg(struct gen_job *j, const char *role, const char *content)
{
        j->msgs = mu_xrealloc(j->msgs, (size_t)(j->n_msgs + 1) * sizeof(*j->msgs));
        j->msgs[j->n_msgs].role = mu_xstrdup(role);
        j->msgs[j->n_msgs].content = mu_xstrdup(content);
        j->n_msgs++;
}

static void job_free(struct gen_job *j)
{
        for (int i = 0; i < j->n_msgs; i++) {
                free((char *)j->msgs[i].role);
                free((char *)j->msgs[i].content);
        }
        free(j->msgs);
        free(j->system);
        free(j->tmpl);
        free(j->schema_json);
        free(j->model);
        free(j->api);
        cJSON_Delete(j->options);
        mu_buf_release(&j->text);
        http_chan_unref(j->chan);
        free(j);
}

void gen_job_discard(struct gen_job *j) { job_free(j); }

static int on_piece(void *ud, const char *text, size_t len)
{
        struct gen_job *j = ud;

        if (!j->started) {
                j->started = 1;
                http_chan_start(j->chan, 200);
        }
        mu_buf_add(&j->text, text, len);
        if (j->stream && j->fmt->piece)
                j->fmt->piece(j, text, len);
        return http_chan_canceled(j->chan);
}

static void fail(struct gen_job *j, int status, const char *msg)
{
        if (!j->started) {
                http_chan_start(j->chan, status);
                j->fmt->error(j, status, msg);
        } else {
                j->fmt->error(j, 0, msg);
        }
}

static void run_job(struct gen_job *j)
{
        struct srv_lease l;
        struct mu_err err = {0};
        struct runner_options o;
        struct chat_msg *all = NULL;
        int n_all = 0, rc;
        char *prompt = NULL;
        const struct store_model *sm;
        volatile int *cancel = http_chan_cancel_flag(j->chan);

        const cJSON *ng = j->options ? cJSON_GetObjectItemCaseSensitive(j->options, "num_gpu")
                                     : NULL;
        rc = srv_acquire_gpu(j->s, j->model, cancel,
                             cJSON_IsNumber(ng) ? ng->valueint : SRV_GPU_ANY, &l, &err);
        if (rc) {
                fail(j, rc, err.msg);
                return;
        }
        j->load_ns = l.load_ns;
        sm = l.m->sm;
        rc = srv_options(j->s, l.m, j->options, &o, &err);
        if (rc) {
                fail(j, 400, err.msg);
                goto out;
        }
        if (j->chat && sm && sm->messages_json)
                cli_history_from_json(sm->messages_json, &all, &n_all);
        all = mu_xrealloc(all, (size_t)(n_all + j->n_msgs + 1) * sizeof(*all));
        for (int i = 0; i < j->n_msgs; i++)
                all[n_all + i] = j->msgs[i];
        rc = runner_render(l.r, j->tmpl ? j->tmpl : sm ? sm->tmpl : NULL,
                           j->system ? j->system : sm ? sm->system : NULL, all, n_all + j->n_msgs,
                           j->raw, &prompt, &err);
        cli_history_free(all, n_all);
        if (rc) {
                fail(j, 400, err.msg);
                goto out;
        }
        MU_LOG_DEBUG("prompt: %s", prompt);
        struct json_schema *schema = NULL;
        if (j->schema_json && json_schema_compile(j->schema_json, &schema, &err)) {
                fail(j, 400, err.msg);
                goto out;
        }
        runner_set_json_schema(l.r, schema);
        rc = runner_generate(l.r, prompt, &o, j->format_json, cancel, on_piece, j, &j->st, &err);
        runner_set_json_schema(l.r, NULL);
        json_schema_free(schema);
        if (rc) {
                fail(j, status_for(rc), err.msg);
                goto out;
        }
        j->st.load_ns = j->load_ns;
        http_chan_set_tokens(j->chan, j->st.eval_count);
        if (!http_chan_canceled(j->chan))
                j->fmt->done(j);
out:
        runner_options_release(&o);
        free(prompt);
        srv_release(&l, j->keep_alive_ns);
}

static void *job_main(void *arg)
{
        struct gen_job *j = arg;
        struct srv *s = j->s;

        run_job(j);
        http_chan_close(j->chan);
        pthread_mutex_lock(&s->mu);
        for (struct gen_job **p = &s->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        break;
                }
        s->n_jobs--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        job_free(j);
        return NULL;
}

struct http_chan *gen_job_start(struct gen_job *j)
{
        struct srv *s = j->s;
        pthread_t t;
        pthread_attr_t attr;
        struct http_chan *ch = http_chan_create();

        j->chan = ch;
        http_chan_ref(ch); /* the caller's */
        pthread_mutex_lock(&s->mu);
        j->next = s->jobs;
        s->jobs = j;
        s->n_jobs++;
        pthread_mutex_unlock(&s->mu);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, job_main, j)) {
                pthread_mutex_lock(&s->mu);
                s->jobs = j->next;
                s->n_jobs--;
                pthread_mutex_unlock(&s->mu);
                http_chan_start(ch, 500);
                j->fmt->error(j, 500, "cannot start a thread");
                http_chan_close(ch);
                job_free(j);
        }
        pthread_attr_destroy(&attr);
        return ch;
}

void gen_respond(struct http_req *req, struct http_resp *resp, struct http_chan *ch,
                 int stream, const char *stream_ctype)
{
        int st = http_chan_wait_start(ch, req->fd);
        char *body = NULL;
        size_t len = 0;

        if (st < 0) { /* client gone; nothing will be read */
                http_chan_unref(ch);
                http_resp_set(resp, 499, NULL, NULL);
                return;
        }
        if (stream && st == 200) {
                resp->status = 200;
                resp->ctype = stream_ctype;
                resp->chan = ch;
                req->chan = NULL;
                return;
        }
        if (http_chan_wait_all(ch, req->fd, &body, &len) < 0) {
                http_chan_unref(ch);
                http_resp_set(resp, 499, NULL, NULL);
                return;
        }
        resp->status = st;
        resp->ctype = st == 200 && stream ? stream_ctype : "application/json; charset=utf-8";
        resp->body = body;
        resp->len = len;
        req->chan = ch; /* for the request log's token count */
}
