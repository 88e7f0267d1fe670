/* pull.c -- `mullama pull MODEL`: pull_model() with progress on stderr.
 *
 * On a terminal: one bar per layer, redrawn in place, like Ollama's
 *   pulling 1a2b3c4d5e6f:  35% ▕██████            ▏ 586 MB/1.7 GB  4.6 MB/s  3m56s
 * Otherwise plain lines, at most one per layer per second (plus 100%).
 * --quiet prints nothing but errors; --json writes each event as an NDJSON
 * line on stdout ({"status":...,"digest":...,"total":N,"completed":N}).
 * cli_pull() is shared with `mullama run`, which pulls missing models. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "mullama/pull.h"

enum { PM_TTY, PM_PLAIN, PM_QUIET, PM_JSON };

struct view {
        int mode;
        char status[80];     /* current "pulling ..." line, "" when none open */
        int64_t start_ns;    /* when this layer's bytes began moving */
        int64_t start_done;  /* bytes already there at that moment (resumed) */
        int64_t last_print;
        int64_t last_completed;
};

static void human(char *b, size_t n, double v)
{
        const char *u[] = {"B", "KB", "MB", "GB", "TB"};
        int i = 0;

        while (v >= 1000 && i < 4) {
                v /= 1000;
                i++;
        }
        snprintf(b, n, v < 10 && i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void eta_str(char *b, size_t n, double s)
{
        long t = (long)(s + 0.5);

        if (t >= 3600)
                snprintf(b, n, "%ldh%ldm", t / 3600, t % 3600 / 60);
        else if (t >= 60)
                snprintf(b, n, "%ldm%lds", t / 60, t % 60);
        else
                snprintf(b, n, "%lds", t);
}

static void draw(struct view *v, const struct pull_event *ev, int final)
{
        char done[24], tot[24], rate[32] = "", eta[24] = "";
        double el = (double)(mu_time_ns() - v->start_ns) / 1e9;
        double r = el > 0.2 ? (double)(ev->completed - v->start_done) / el : 0;
        int pct = ev->total > 0 ? (int)(ev->completed * 100 / ev->total) : 100;

        human(done, sizeof(done), (double)ev->completed);
        human(tot, sizeof(tot), (double)ev->total);
        if (r > 0) {
                human(rate, sizeof(rate), r);
                strcat(rate, "/s");
                if (!final && ev->completed < ev->total)
                        eta_str(eta, sizeof(eta), (double)(ev->total - ev->completed) / r);
        }
        if (v->mode == PM_TTY) {
                int w = 25, fill = pct * w / 100;
                char bar[25 * 3 + 1] = "";
                for (int i = 0; i < w; i++)
                        strcat(bar, i < fill ? "\xe2\x96\x88" : " ");
                fprintf(stderr, "\r\033[K%s: %3d%% \xe2\x96\x95%s\xe2\x96\x8f %s/%s  %s  %s%s",
                        v->status, pct, bar, done, tot, rate, eta, final ? "\n" : "");
        } else {
                fprintf(stderr, "%s: %d%% %s/%s%s%s%s%s\n", v->status, pct, done, tot,
                        *rate ? " " : "", rate, *eta ? " eta " : "", eta);
        }
}

static void close_line(struct view *v)
{
        if (v->status[0] && v->mode == PM_TTY)
                fputc('\n', stderr);
        v->status[0] = '\0';
}

static void on_event(const struct pull_event *ev, void *user)
{
        struct view *v = user;
        int64_t now = mu_time_ns();

        if (v->mode == PM_QUIET)
                return;
        if (v->mode == PM_JSON) {
                cJSON *o = cJSON_CreateObject();
                char *s;
                cJSON_AddStringToObject(o, "status", ev->status);
                if (ev->digest) {
                        cJSON_AddStringToObject(o, "digest", ev->digest);
                        cJSON_AddNumberToObject(o, "total", (double)ev->total);
                        cJSON_AddNumberToObject(o, "completed", (double)ev->completed);
                }
                s = cJSON_PrintUnformatted(o);
                printf("%s\n", s);
                fflush(stdout);
                free(s);
                cJSON_Delete(o);
                return;
        }
        if (!ev->digest) {
                if (v->status[0] && v->mode == PM_TTY)
                        fputc('\n', stderr); /* keep the last bar */
                v->status[0] = '\0';
                fprintf(stderr, "%s\n", ev->status);
                return;
        }
        if (strcmp(v->status, ev->status)) {
                close_line(v);
                snprintf(v->status, sizeof(v->status), "%s", ev->status);
                v->start_ns = now;
                v->start_done = ev->completed;
                v->last_print = 0;
                v->last_completed = -1;
        }
        int final = ev->completed >= ev->total;
        if (v->mode == PM_TTY) {
                if (final || now - v->last_print > 100000000LL) {
                        draw(v, ev, final);
                        v->last_print = now;
                        if (final)
                                v->status[0] = '\0'; /* the line is finished */
                }
        } else if (final || v->last_completed < 0 || now - v->last_print >= 1000000000LL) {
                if (ev->completed != v->last_completed) {
                        draw(v, ev, final);
                        v->last_print = now;
                        v->last_completed = ev->completed;
                }
        }
        fflush(stderr);
}

int cli_pull(const struct mu_config *cfg, const char *ref, int insecure, int quiet, int json,
             struct mu_err *err)
{
        struct view v = {0};
        struct pull_opts o = {0};
        int rc;

        v.mode = json ? PM_JSON : quiet ? PM_QUIET : isatty(2) ? PM_TTY : PM_PLAIN;
        o.insecure = insecure;
        o.progress = on_event;
        o.user = &v;
        mu_install_sigint();
        rc = pull_model(cfg, ref, &o, err);
        mu_restore_sigint();
        if (v.mode == PM_TTY && v.status[0])
                fputc('\n', stderr);
        if (rc && json) {
                cJSON *e = cJSON_CreateObject();
                char *s;
                cJSON_AddStringToObject(e, "error", err->msg);
                s = cJSON_PrintUnformatted(e);
                printf("%s\n", s);
                fflush(stdout);
                free(s);
                cJSON_Delete(e);
        }
        return rc;
}

int cmd_pull(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "pull", "MODEL",
                "Pull a model from a registry (resumable; every blob is verified)",
                "MODEL: name[:tag], ns/name[:tag], host/ns/name[:tag] or hf.co/user/repo[:QUANT]\n"
                "(defaults: registry.ollama.ai, library, latest; Q4_K_M for hf.co).\n"
                "An interrupted pull resumes where it stopped when run again.\n"
                "\n"
                "Environment:\n"
                "  MULLAMA_REGISTRY            fetch default-host models from this host[:port]\n"
                "                              (a mirror; http://host:port for plain HTTP)\n"
                "  MULLAMA_PULL_RETRIES        retries per request and part (default 6)\n"
                "  MULLAMA_PULL_STALL_TIMEOUT  seconds without data before reconnecting (30)\n"
                "  MULLAMA_PULL_PART_SIZE      bytes per parallel ranged part, K/M/G suffixes\n"
                "                              (default size/16 within 100 MB..1 GB)\n"
                "  MULLAMA_PULL_CONNECTIONS    parts downloaded at once (default 8)\n"
                "  HTTPS_PROXY, HTTP_PROXY, NO_PROXY   proxies (as curl reads them)\n"
                "  MULLAMA_MODELS              the store (default ~/.mullama/models)"};
        int insecure = 0, quiet = 0, json = 0;
        const struct opt opts[] = {
                {"insecure", 0, OPT_BOOL, &insecure, NULL, "allow plain HTTP registries"},
                {"quiet", 'q', OPT_BOOL, &quiet, NULL, "no progress output"},
                {"json", 0, OPT_BOOL, &json, NULL, "progress as NDJSON events on stdout"},
                {0},
        };
        struct mu_err err = {0};
        char **pos = NULL;
        int np = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        if (np != 1) {
                free(pos);
                return opt_error(&u, np ? "too many arguments" : "missing MODEL");
        }
        rc = cli_pull(cfg, pos[0], insecure, quiet, json, &err);
        free(pos);
        return rc ? cli_fail(&err) : 0;
}
