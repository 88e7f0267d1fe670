/* mullama.h -- cross-module basics: version, error codes, error messages,
 * logging, growable buffers, allocation helpers and the global config.
 *
 * Error convention: functions that can fail on untrusted input return an int,
 * 0 on success or a negative MU_E* code, and fill a caller-owned struct mu_err
 * with a one-line, lowercase message (git style: no final period, subject
 * quoted).  Only cli/ and main.c print errors.  Out-of-memory is not a
 * recoverable condition here: mu_xmalloc() and friends abort with a message. */
#ifndef MULLAMA_H
#define MULLAMA_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MU_VERSION "0.1.0"

#if defined(__GNUC__)
#define MU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define MU_UNUSED __attribute__((unused))
#else
#define MU_PRINTF(a, b)
#define MU_UNUSED
#endif

/* ---- errors ------------------------------------------------------------ */

enum mu_code {
        MU_OK = 0,
        MU_EINVAL = -1,       /* bad argument or usage */
        MU_EFORMAT = -2,      /* malformed input file or body */
        MU_EIO = -3,          /* read/write/system call failed */
        MU_ENOMEM = -4,       /* allocation or size limit exceeded */
        MU_ENOTFOUND = -5,    /* model, key, file, tensor not found */
        MU_EUNSUPPORTED = -6, /* valid input we cannot handle (yet) */
        MU_ECANCELED = -7,    /* interrupted by the user or a client */
        MU_ENET = -8,         /* network or registry failure */
        MU_EEXIST = -9,       /* already exists */
        MU_ERANGE = -10,      /* value out of range (context full, ...) */
        MU_EINTEGRITY = -11,  /* checksum / digest mismatch */
};

struct mu_err {
        int code;
        char msg[512];
};

/* Fill e (may be NULL) and return code. */
int mu_fail(struct mu_err *e, int code, const char *fmt, ...) MU_PRINTF(3, 4);
int mu_failv(struct mu_err *e, int code, const char *fmt, va_list ap);
/* Prepend "prefix: " to an existing message, keep the code; returns it. */
int mu_err_prefix(struct mu_err *e, const char *fmt, ...) MU_PRINTF(2, 3);
const char *mu_code_name(int code);

/* Process exit codes, documented in README and man page. */
enum mu_exit {
        MU_EXIT_OK = 0,
        MU_EXIT_ERROR = 1,     /* runtime error (bad file, I/O, model) */
        MU_EXIT_USAGE = 2,     /* bad command line */
        MU_EXIT_NOTFOUND = 3,  /* model or file not found */
        MU_EXIT_NET = 4,       /* network / registry error */
        MU_EXIT_INTERRUPT = 130,
};
int mu_exit_code(int mu_code);  /* map a MU_E* code to an exit status */

/* ---- logging: stderr only ---------------------------------------------- */

enum mu_log_level { MU_LOG_ERROR, MU_LOG_WARN, MU_LOG_INFO, MU_LOG_DEBUG };
void mu_log_set_level(int level);
int mu_log_get_level(void);
void mu_log(int level, const char *func, const char *fmt, ...) MU_PRINTF(3, 4);
#define MU_LOG_ERR(...) mu_log(MU_LOG_ERROR, __func__, __VA_ARGS__)
#define MU_LOG_WARN(...) mu_log(MU_LOG_WARN, __func__, __VA_ARGS__)
#define MU_LOG_INFO(...) mu_log(MU_LOG_INFO, __func__, __VA_ARGS__)
#define MU_LOG_DEBUG(...) mu_log(MU_LOG_DEBUG, __func__, __VA_ARGS__)

/* ---- allocation: abort on OOM (never on bad input) -------------------- */

void *mu_xmalloc(size_t n);
void *mu_xcalloc(size_t n, size_t size);
void *mu_xrealloc(void *p, size_t n);
char *mu_xstrdup(const char *s);
char *mu_xstrndup(const char *s, size_t n);
char *mu_xasprintf(const char *fmt, ...) MU_PRINTF(1, 2);

/* ---- growable byte buffer (always NUL-terminated) ----------------------- */

struct mu_buf {
        char *data;  /* NULL until first append; see mu_buf_str() */
        size_t len;
        size_t cap;
};
#define MU_BUF_INIT {NULL, 0, 0}
void mu_buf_add(struct mu_buf *b, const void *p, size_t n);
void mu_buf_adds(struct mu_buf *b, const char *s);
void mu_buf_addc(struct mu_buf *b, char c);
void mu_buf_addf(struct mu_buf *b, const char *fmt, ...) MU_PRINTF(2, 3);
void mu_buf_vaddf(struct mu_buf *b, const char *fmt, va_list ap) MU_PRINTF(2, 0);
void mu_buf_reset(struct mu_buf *b);             /* len = 0, keep memory */
const char *mu_buf_str(const struct mu_buf *b);  /* "" when empty */
char *mu_buf_detach(struct mu_buf *b);           /* caller frees; b reset */
void mu_buf_release(struct mu_buf *b);

/* ---- global configuration (built once by main.c) ----------------------- */

struct mu_config {
        const char *models_dir;  /* MULLAMA_MODELS or ~/.mullama/models */
        const char *ollama_dir;  /* OLLAMA_MODELS or ~/.ollama/models (read-only) */
        const char *host;        /* MULLAMA_HOST or 127.0.0.1:11434 */
        int debug;               /* MULLAMA_DEBUG */
};

/* Ctrl-C flag set by the SIGINT handler that commands may install. */
extern volatile int mu_interrupted;
void mu_install_sigint(void);  /* sets mu_interrupted instead of dying */
void mu_restore_sigint(void);

/* Monotonic clock in nanoseconds. */
int64_t mu_time_ns(void);

#endif
