/* list.c -- `mullama list [FILTER...]`: local models as Ollama shows them
 * (NAME, ID, SIZE, MODIFIED; newest first), or --json (the /api/tags
 * shape), or --quiet (names only, for shell completion).  Models from
 * Ollama's store (read-only) are listed too unless ours shadow them. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "mullama/store.h"

/* Decimal units, like Ollama: "2.0 GB", "260 KB", "12 B". */
static void human_size(uint64_t b, char *out, size_t n)
{
        static const char *units[] = {"KB", "MB", "GB", "TB"};
        double v = (double)b;
        int u = -1;

        while (v >= 1000.0 && u < 3) {
                v /= 1000.0;
                u++;
        }
        if (u < 0)
                snprintf(out, n, "%llu B", (unsigned long long)b);
        else if (v >= 10.0 || v == (double)(long long)v)
                snprintf(out, n, "%lld %s", (long long)v, units[u]);
        else
                snprintf(out, n, "%.1f %s", v, units[u]);
}

/* "Less than a second ago", "2 minutes ago", "About an hour ago", ... */
static void human_age(int64_t then, int64_t now, char *out, size_t n)
{
        int64_t s = now - then, h;

        if (s < 0)
                s = 0;
        h = (s + 1800) / 3600;
        if (s < 1)
                snprintf(out, n, "Less than a second ago");
        else if (s == 1)
                snprintf(out, n, "1 second ago");
        else if (s < 60)
                snprintf(out, n, "%lld seconds ago", (long long)s);
        else if (s < 120)
                snprintf(out, n, "About a minute ago");
        else if (s < 3600)
                snprintf(out, n, "%lld minutes ago", (long long)(s / 60));
        else if (h == 1)
                snprintf(out, n, "About an hour ago");
        else if (h < 48)
                snprintf(out, n, "%lld hours ago", (long long)h);
        else if (h < 24 * 14)
                snprintf(out, n, "%lld days ago", (long long)(h / 24));
        else if (h < 24 * 60)
                snprintf(out, n, "%lld weeks ago", (long long)(h / (24 * 7)));
        else if (h < 24 * 730)
                snprintf(out, n, "%lld months ago", (long long)(h / (24 * 30)));
        else
                snprintf(out, n, "%lld years ago", (long long)(s / (3600LL * 24 * 365)));
}

static int matches(const char *name, char **filters, int nf)
{
        if (nf == 0)
                return 1;
        for (int i = 0; i < nf; i++)
                if (strstr(name, filters[i]))
                        return 1;
        return 0;
}

static void print_json(const struct store_entry *v, int n, char **filters, int nf)
{
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "models");
        char *s;

        for (int i = 0; i < n; i++) {
                char ts[32];
                time_t t = (time_t)v[i].mtime;
                struct tm tm;
                if (!matches(v[i].name, filters, nf))
                        continue;
                gmtime_r(&t, &tm);
                strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "name", v[i].name);
                cJSON_AddStringToObject(o, "model", v[i].name);
                cJSON_AddStringToObject(o, "modified_at", ts);
                cJSON_AddNumberToObject(o, "size", (double)v[i].size);
                cJSON_AddStringToObject(o, "digest", v[i].id);
                cJSON_AddStringToObject(o, "source", v[i].from_ollama ? "ollama" : "mullama");
                cJSON_AddItemToArray(arr, o);
        }
        s = cJSON_Print(root);
        if (s)
                printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
}

static void print_table(const struct store_entry *v, int n, char **filters, int nf)
{
        int w = 4;
        int64_t now = (int64_t)time(NULL);

        for (int i = 0; i < n; i++)
                if (matches(v[i].name, filters, nf) && (int)strlen(v[i].name) > w)
                        w = (int)strlen(v[i].name);
        printf("%-*s    %-12s    %-8s    %s\n", w, "NAME", "ID", "SIZE", "MODIFIED");
        for (int i = 0; i < n; i++) {
                char sz[32], age[64];
                if (!matches(v[i].name, filters, nf))
                        continue;
                human_size(v[i].size, sz, sizeof(sz));
                human_age(v[i].mtime, now, age, sizeof(age));
                printf("%-*s    %.12s    %-8s    %s\n", w, v[i].name, v[i].id, sz, age);
        }
}

int cmd_list(int argc, char **argv, const struct mu_config *cfg)
{
        static const struct cmd_usage u = {
                "list", "[FILTER...]", "List local models",
                "Shows models in MULLAMA_MODELS and, read-only, in OLLAMA_MODELS.\n"
                "FILTER keeps names that contain it."};
        int json = 0, quiet = 0;
        const struct opt opts[] = {
                {"json", 0, OPT_BOOL, &json, NULL, "print JSON (the /api/tags shape)"},
                {"quiet", 'q', OPT_BOOL, &quiet, NULL, "print names only"},
                {0},
        };
        struct store_entry *v = NULL;
        struct mu_err err;
        char **pos = NULL, *warn = NULL;
        int np = 0, n = 0, rc;

        rc = opt_parse(&u, opts, argc - 1, argv + 1, &np, &pos);
        if (rc == OPT_HELP)
                return 0;
        if (rc == OPT_ERROR)
                return MU_EXIT_USAGE;
        rc = store_list(cfg, &v, &n, &warn, &err);
        if (rc) {
                free(pos);
                return cli_fail(&err);
        }
        if (warn) {
                for (char *l = strtok(warn, "\n"); l; l = strtok(NULL, "\n"))
                        fprintf(stderr, "warning: %s\n", l);
                free(warn);
        }
        if (json)
                print_json(v, n, pos, np);
        else if (quiet) {
                for (int i = 0; i < n; i++)
                        if (matches(v[i].name, pos, np))
                                printf("%s\n", v[i].name);
        } else
                print_table(v, n, pos, np);
        free(v);
        free(pos);
        return 0;
}
