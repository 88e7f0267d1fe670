/* err.c -- struct mu_err helpers, exit-code mapping, logging, Ctrl-C flag. */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "mullama/mullama.h"

int mu_failv(struct mu_err *e, int code, const char *fmt, va_list ap)
{
        if (e) {
                e->code = code;
                vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        }
        return code;
}

int mu_fail(struct mu_err *e, int code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        mu_failv(e, code, fmt, ap);
        va_end(ap);
        return code;
}

int mu_err_prefix(struct mu_err *e, const char *fmt, ...)
{
        char pre[256], old[sizeof(e->msg)];
        va_list ap;

        if (!e)
                return MU_EINVAL;
        va_start(ap, fmt);
        vsnprintf(pre, sizeof(pre), fmt, ap);
        va_end(ap);
        memcpy(old, e->msg, sizeof(old));
        snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old);
        return e->code;
}

const char *mu_code_name(int code)
{
        switch (code) {
        case MU_OK: return "ok";
        case MU_EINVAL: return "invalid argument";
        case MU_EFORMAT: return "malformed input";
        case MU_EIO: return "i/o error";
        case MU_ENOMEM: return "out of memory";
        case MU_ENOTFOUND: return "not found";
        case MU_EUNSUPPORTED: return "unsupported";
        case MU_ECANCELED: return "canceled";
        case MU_ENET: return "network error";
        case MU_EEXIST: return "already exists";
        case MU_ERANGE: return "out of range";
        case MU_EINTEGRITY: return "integrity check failed";
        }
        return "unknown error";
}

int mu_exit_code(int code)
{
        switch (code) {
        case MU_OK: return MU_EXIT_OK;
        case MU_EINVAL: return MU_EXIT_USAGE;
        case MU_ENOTFOUND: return MU_EXIT_NOTFOUND;
        case MU_ENET: return MU_EXIT_NET;
        case MU_ECANCELED: return MU_EXIT_INTERRUPT;
        }
        return MU_EXIT_ERROR;
}

/* ---- logging ------------------------------------------------------------ */

static int log_level = MU_LOG_WARN;

void mu_log_set_level(int level) { log_level = level; }
int mu_log_get_level(void) { return log_level; }

void mu_log(int level, const char *func, const char *fmt, ...)
{
        static const char *names[] = {"error", "warning", "info", "debug"};
        va_list ap;

        if (level > log_level)
                return;
        if (level >= MU_LOG_DEBUG)
                fprintf(stderr, "%s %s: ", names[level], func);
        else
                fprintf(stderr, "%s: ", names[level]);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* ---- signals and time --------------------------------------------------- */

volatile int mu_interrupted;
static struct sigaction old_sigint;
static int sigint_installed;

static void on_sigint(int sig)
{
        (void)sig;
        mu_interrupted = 1;
}

void mu_install_sigint(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGINT, &sa, &old_sigint) == 0)
                sigint_installed = 1;
        mu_interrupted = 0;
}

void mu_restore_sigint(void)
{
        if (sigint_installed)
                sigaction(SIGINT, &old_sigint, NULL);
        sigint_installed = 0;
}

int64_t mu_time_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
