/* httpd.h -- the HTTP layer of `mullama serve`, on libmicrohttpd.
 *
 * One thread per connection (MHD's internal polling thread accepts).  A
 * request's body is collected up to a size cap, then the handler runs in the
 * connection's thread and fills a struct http_resp: a status with a body, or
 * a status with a stream (an http_chan).  The handler may block (it waits
 * for a model, a slot, a generation).
 *
 * http_chan is the pipe between a producer thread (a generation job) and
 * MHD's content reader: the producer first sets the status with
 * http_chan_start(), writes bytes, then closes.  The consumer side notices a
 * client that went away (peer closed its socket, checked every 100 ms while
 * waiting, and any failed write) and sets the channel's cancel flag, which
 * the producer passes to the runner so that generation stops at once.
 * Channels are reference counted: producer and consumer each hold one. */
#ifndef MULLAMA_NET_HTTPD_H
#define MULLAMA_NET_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "mullama/mullama.h"

struct http_chan;

struct http_chan *http_chan_create(void);  /* one reference */
void http_chan_ref(struct http_chan *c);
void http_chan_unref(struct http_chan *c);
/* Producer: set the HTTP status (once; later calls are ignored). */
void http_chan_start(struct http_chan *c, int status);
/* Producer: append bytes; -1 when the consumer canceled (stop producing). */
int http_chan_write(struct http_chan *c, const void *data, size_t len);
int http_chan_writes(struct http_chan *c, const char *s);
void http_chan_close(struct http_chan *c);
/* The flag the producer polls (set on cancel). */
volatile int *http_chan_cancel_flag(struct http_chan *c);
void http_chan_cancel(struct http_chan *c);
int http_chan_canceled(struct http_chan *c);
/* Count of tokens for the request log. */
void http_chan_set_tokens(struct http_chan *c, int n);
/* Consumer: wait until the status is known (returns it), or the client at
 * fd disconnects (cancels, returns -1).  fd < 0: no disconnect check. */
int http_chan_wait_start(struct http_chan *c, int fd);
/* Consumer: wait until the producer closed; then *body gets everything
 * written (caller frees).  -1 (and cancel) on disconnect. */
int http_chan_wait_all(struct http_chan *c, int fd, char **body, size_t *len);

/* ---- requests and responses -------------------------------------------- */

struct http_req {
        const char *method;
        const char *path;
        char *body;            /* NUL-terminated, NULL when empty */
        size_t body_len;
        int body_too_large;
        int fd;                /* client socket (disconnect checks) */
        int64_t t0;            /* mu_time_ns() at arrival */
        void *conn;            /* MHD connection */
        /* filled for the log */
        int status;
        struct http_chan *chan;  /* streamed response */
};

/* Request header or query argument (NULL when absent). */
const char *http_header(const struct http_req *r, const char *name);
const char *http_query(const struct http_req *r, const char *name);

#define HTTP_MAX_HEADERS 8

struct http_resp {
        int status;
        const char *ctype;     /* static string */
        char *body;            /* owned; may be NULL (empty) */
        size_t len;
        struct http_chan *chan;  /* owned reference: streamed body instead */
        char *hname[HTTP_MAX_HEADERS], *hval[HTTP_MAX_HEADERS];
        int n_headers;
};

void http_resp_header(struct http_resp *r, const char *name, const char *value);
/* Set body (takes ownership of body). */
void http_resp_set(struct http_resp *r, int status, const char *ctype, char *body);

typedef void (*http_handler_fn)(void *ud, struct http_req *req, struct http_resp *resp);

struct http_server_opts {
        const char *host;      /* "127.0.0.1", "::1", "0.0.0.0", name */
        int port;              /* 0: any free port */
        size_t max_body;       /* bytes */
        http_handler_fn handler;
        void *ud;
};

struct http_server;

int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      struct mu_err *err);
int http_server_port(const struct http_server *s);
/* Stop accepting new connections (existing ones continue). */
void http_server_quiesce(struct http_server *s);
/* Connections open now (sending or idle keep-alive ones). */
int http_server_connections(const struct http_server *s);
/* Stop: closes every connection, waits for their threads. */
void http_server_stop(struct http_server *s);

#endif
