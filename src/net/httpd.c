/* httpd.c -- libmicrohttpd glue: body collection with a cap, responses from a
 * buffer or a channel, disconnect detection, request log (see httpd.h). */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/httpd.h"

/* ---- channel -------------------------------------------------------------- */

struct http_chan {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int refs;
        int status;         /* 0 until started */
        int closed;
        volatile int cancel;
        int tokens;
        struct mu_buf data;
        size_t off;         /* consumer position */
        int fd;             /* client socket for the streaming reader */
};

struct http_chan *http_chan_create(void)
{
        struct http_chan *c = mu_xcalloc(1, sizeof(*c));

        pthread_mutex_init(&c->mu, NULL);
        pthread_cond_init(&c->cv, NULL);
        c->refs = 1;
        c->fd = -1;
        return c;
}

void http_chan_ref(struct http_chan *c)
{
        pthread_mutex_lock(&c->mu);
        c->refs++;
        pthread_mutex_unlock(&c->mu);
}

void http_chan_unref(struct http_chan *c)
{
        int left;

        if (!c)
                return;
        pthread_mutex_lock(&c->mu);
        left = --c->refs;
        pthread_mutex_unlock(&c->mu);
        if (left)
                return;
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        mu_buf_release(&c->data);
        free(c);
}

void http_chan_start(struct http_chan *c, int status)
{
        pthread_mutex_lock(&c->mu);
        if (!c->status)
                c->status = status;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
}

int http_chan_write(struct http_chan *c, const void *data, size_t len)
{
        int rc = 0;

        pthread_mutex_lock(&c->mu);
        if (c->cancel)
                rc = -1;
        else {
                if (!c->status)
                        c->status = 200;
                mu_buf_add(&c->data, data, len);
                pthread_cond_broadcast(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
        return rc;
}

int http_chan_writes(struct http_chan *c, const char *s) { return http_chan_write(c, s, strlen(s)); }

void http_chan_close(struct http_chan *c)
{
        pthread_mutex_lock(&c->mu);
        if (!c->status)
                c->status = 200;
        c->closed = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
}

volatile int *http_chan_cancel_flag(struct http_chan *c) { return &c->cancel; }

void http_chan_cancel(struct http_chan *c)
{
        pthread_mutex_lock(&c->mu);
        c->cancel = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
}

int http_chan_canceled(struct http_chan *c) { return c->cancel; }

void http_chan_set_tokens(struct http_chan *c, int n)
{
        pthread_mutex_lock(&c->mu);
        c->tokens = n;
        pthread_mutex_unlock(&c->mu);
}

/* Has the peer closed its side (or the socket failed)? */
static int peer_gone(int fd)
{
        struct pollfd p = {fd, POLLRDHUP, 0};

        if (fd < 0)
                return 0;
        if (poll(&p, 1, 0) <= 0)
                return 0;
        return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Wait (c->mu held) up to 100 ms. */
static void wait_tick(struct http_chan *c)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

int http_chan_wait_start(struct http_chan *c, int fd)
{
        int st;

        pthread_mutex_lock(&c->mu);
        while (!c->status && !c->closed) {
                if (peer_gone(fd)) {
                        c->cancel = 1;
                        pthread_mutex_unlock(&c->mu);
                        return -1;
                }
                wait_tick(c);
        }
        st = c->status ? c->status : 200;
        pthread_mutex_unlock(&c->mu);
        return st;
}

int http_chan_wait_all(struct http_chan *c, int fd, char **body, size_t *len)
{
        pthread_mutex_lock(&c->mu);
        while (!c->closed) {
                if (peer_gone(fd)) {
                        c->cancel = 1;
                        pthread_mutex_unlock(&c->mu);
                        *body = NULL;
                        *len = 0;
                        return -1;
                }
                wait_tick(c);
        }
        *len = c->data.len;
        *body = mu_xstrndup(mu_buf_str(&c->data), c->data.len);
        pthread_mutex_unlock(&c->mu);
        return 0;
}

static ssize_t chan_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct http_chan *c = cls;
        ssize_t n;

        (void)pos;
        pthread_mutex_lock(&c->mu);
        while (c->off == c->data.len && !c->closed) {
                if (c->cancel || peer_gone(c->fd)) {
                        c->cancel = 1;
                        pthread_mutex_unlock(&c->mu);
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                wait_tick(c);
        }
        if (c->off == c->data.len) {
                pthread_mutex_unlock(&c->mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        n = (ssize_t)(c->data.len - c->off < max ? c->data.len - c->off : max);
        memcpy(buf, c->data.data + c->off, (size_t)n);
        c->off += (size_t)n;
        if (c->off == c->data.len) { /* drop what was sent */
                mu_buf_reset(&c->data);
                c->off = 0;
        }
        pthread_mutex_unlock(&c->mu);
        return n;
}

static void chan_reader_free(void *cls)
{
        struct http_chan *c = cls;

        /* the response is gone: if the producer is still running the client
         * went away before the end */
        pthread_mutex_lock(&c->mu);
        if (!c->closed)
                c->cancel = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        http_chan_unref(c);
}

/* ---- server ------------------------------------------------------------------- */

struct http_server {
        struct MHD_Daemon *d;
        struct http_server_opts o;
        int port;
        int listen_fd;
};

const char *http_header(const struct http_req *r, const char *name)
{
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *r, const char *name)
{
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void http_resp_header(struct http_resp *r, const char *name, const char *value)
{
        if (r->n_headers >= HTTP_MAX_HEADERS)
                return;
        r->hname[r->n_headers] = mu_xstrdup(name);
        r->hval[r->n_headers++] = mu_xstrdup(value);
}

void http_resp_set(struct http_resp *r, int status, const char *ctype, char *body)
{
        free(r->body);
        r->status = status;
        r->ctype = ctype;
        r->body = body;
        r->len = body ? strlen(body) : 0;
}

static void resp_release(struct http_resp *r)
{
        free(r->body);
        for (int i = 0; i < r->n_headers; i++) {
                free(r->hname[i]);
                free(r->hval[i]);
        }
        http_chan_unref(r->chan);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
        struct http_server *s = cls;
        struct http_req *req = *con_cls;
        struct http_resp resp = {0};
        struct MHD_Response *mr;
        enum MHD_Result ret;

        (void)version;
        if (!req) {
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                req = mu_xcalloc(1, sizeof(*req));
                req->method = method;
                req->path = url;
                req->conn = conn;
                req->fd = ci ? ci->connect_fd : -1;
                req->t0 = mu_time_ns();
                *con_cls = req;
                return MHD_YES;
        }
        if (*upload_size) {
                if (!req->body_too_large && req->body_len + *upload_size <= s->o.max_body) {
                        req->body = mu_xrealloc(req->body, req->body_len + *upload_size + 1);
                        memcpy(req->body + req->body_len, upload, *upload_size);
                        req->body_len += *upload_size;
                        req->body[req->body_len] = '\0';
                } else {
                        req->body_too_large = 1;
                }
                *upload_size = 0;
                return MHD_YES;
        }
        s->o.handler(s->o.ud, req, &resp);
        if (!resp.status)
                resp.status = 500;
        if (resp.chan) {
                resp.chan->fd = req->fd;
                http_chan_ref(resp.chan); /* for the reader */
                mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                       chan_reader, resp.chan,
                                                       chan_reader_free);
                req->chan = resp.chan; /* keeps resp's reference for the log */
                resp.chan = NULL;
        } else {
                mr = MHD_create_response_from_buffer(resp.len, resp.body ? resp.body : (void *)"",
                                                     MHD_RESPMEM_MUST_COPY);
        }
        if (!mr) {
                resp_release(&resp);
                return MHD_NO;
        }
        if (resp.ctype)
                MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp.ctype);
        for (int i = 0; i < resp.n_headers; i++)
                MHD_add_response_header(mr, resp.hname[i], resp.hval[i]);
        req->status = resp.status;
        ret = MHD_queue_response(conn, (unsigned)resp.status, mr);
        MHD_destroy_response(mr);
        resp_release(&resp);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct http_req *req = *con_cls;

        (void)cls;
        (void)conn;
        if (!req)
                return;
        if (req->status) {
                double ms = (mu_time_ns() - req->t0) / 1e6;
                int tokens = 0;
                if (req->chan) {
                        pthread_mutex_lock(&req->chan->mu);
                        tokens = req->chan->tokens;
                        pthread_mutex_unlock(&req->chan->mu);
                }
                fprintf(stderr, "[serve] %s %s %d %.1fms tokens=%d%s\n", req->method, req->path,
                        req->status, ms, tokens,
                        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
        }
        if (req->chan && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
                http_chan_cancel(req->chan);
        http_chan_unref(req->chan);
        free(req->body);
        free(req);
        *con_cls = NULL;
}

static int open_listener(const char *host, int port, struct mu_err *err)
{
        struct addrinfo hints = {0}, *res = NULL;
        char ps[16];
        int fd, one = 1, rc;

        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE;
        snprintf(ps, sizeof(ps), "%d", port);
        rc = getaddrinfo(host, ps, &hints, &res);
        if (rc || !res)
                return mu_fail(err, MU_EINVAL, "cannot resolve '%s': %s", host, gai_strerror(rc));
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(res);
                return mu_fail(err, MU_EIO, "socket: %s", strerror(errno));
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
                int e = errno;
                close(fd);
                freeaddrinfo(res);
                return mu_fail(err, MU_EIO, "cannot listen on %s:%d: %s", host, port, strerror(e));
        }
        freeaddrinfo(res);
        return fd;
}

int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      struct mu_err *err)
{
        struct http_server *s = mu_xcalloc(1, sizeof(*s));
        const union MHD_DaemonInfo *di;
        int fd;

        *out = NULL;
        s->o = *o;
        fd = open_listener(o->host, o->port, err);
        if (fd < 0) {
                free(s);
                return fd;
        }
        s->listen_fd = fd;
        s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                        MHD_USE_ITC,
                                0, NULL, NULL, on_request, s,
                                MHD_OPTION_LISTEN_SOCKET, fd,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
                                MHD_OPTION_END);
        if (!s->d) {
                close(fd);
                free(s);
                return mu_fail(err, MU_EIO, "cannot start the HTTP server");
        }
        di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
        s->port = di ? di->port : o->port;
        *out = s;
        return 0;
}

int http_server_port(const struct http_server *s) { return s->port; }

void http_server_quiesce(struct http_server *s)
{
        MHD_socket fd = MHD_quiesce_daemon(s->d);

        if (fd != MHD_INVALID_SOCKET)
                close(fd);
}

int http_server_connections(const struct http_server *s)
{
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

        return di ? (int)di->num_connections : 0;
}

void http_server_stop(struct http_server *s)
{
        if (!s)
                return;
        MHD_stop_daemon(s->d);
        free(s);
}
