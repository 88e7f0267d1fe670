/* pull.c -- pull_model(): manifest, blobs, verification, manifest write
 * (see pull.h for the contract and the event sequence).
 *
 * Order, as Ollama does it: fetch and validate the manifest; check free disk
 * space for what is missing; fetch every layer and then the config blob
 * (a blob already in our store is skipped, one in Ollama's store is
 * hardlinked/copied and verified); verify each downloaded blob's SHA-256 and
 * move it to its final name; write the manifest bytes exactly as received,
 * atomically; prune blobs only the replaced manifest used. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "mullama/fs.h"
#include "mullama/pull.h"
#include "mullama/registry.h"
#include "mullama/store.h"
#include "net/net.h"

struct ctx {
        const struct pull_opts *o;
        const char *digest;
        char status[80];
        int64_t last_ns;
        int64_t last_done;
};

static void emit(const struct pull_opts *o, const char *status, const char *digest,
                 int64_t total, int64_t completed)
{
        struct pull_event ev = {status, digest, total, completed};

        if (o->progress)
                o->progress(&ev, o->user);
}

static void on_progress(void *ud, int64_t done, int64_t total)
{
        struct ctx *c = ud;
        int64_t now = mu_time_ns();

        if (done == c->last_done)
                return;
        if (done != total && now - c->last_ns < 100000000LL)
                return;
        c->last_ns = now;
        c->last_done = done;
        emit(c->o, c->status, c->digest, total, done);
}

static const char *short_type(const char *mt)
{
        const char *dot = strrchr(mt, '.');

        if (!strcmp(mt, STORE_MT_CONFIG))
                return "config";
        return dot && !strncmp(mt, "application/vnd.ollama.image.", 29) ? dot + 1 : "layer";
}

/* The blob is in our store with the right size (a wrong size is removed). */
static int have_blob(const char *path, uint64_t size)
{
        struct stat st;

        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return 0;
        if ((uint64_t)st.st_size == size)
                return 1;
        unlink(path);
        return 0;
}

static int have_blob_ro(const char *path, uint64_t size)
{
        struct stat st;

        return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

static void fmt_bytes(char *buf, size_t n, double v)
{
        const char *u[] = {"B", "KB", "MB", "GB", "TB", "PB"};
        int i = 0;

        while (v >= 1000 && i < 5) {
                v /= 1000;
                i++;
        }
        snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

int pull_model(const struct mu_config *cfg, const char *refstr, const struct pull_opts *opts,
               struct mu_err *err)
{
        static const struct pull_opts none;
        const struct pull_opts *o = opts ? opts : &none;
        struct registry_ref rr;
        struct store_manifest m = {0}, old = {0};
        struct dl_opts dl;
        const struct store_layer **items = NULL;
        char *raw = NULL, *bdir = NULL, *mpath = NULL;
        size_t rawlen = 0;
        int *fetched = NULL, n = 0, rc, have_old = 0;
        uint64_t need = 0;

        rc = registry_ref_parse(&rr, refstr, o->insecure, err);
        if (rc)
                return rc;
        dl_opts_from_env(&dl);
        dl.cancel = o->cancel;
        emit(o, "pulling manifest", NULL, 0, 0);
        rc = registry_fetch_manifest(&rr, dl.retries, o->cancel, &raw, &rawlen, err);
        if (rc)
                return rc;
        dl.auth = rr.auth[0] ? rr.auth : NULL;
        dl.auth_origin = rr.base;
        rc = store_manifest_parse(&m, raw, rawlen, err);
        if (rc) {
                mu_err_prefix(err, "bad manifest for '%s' from %s", rr.display, rr.base);
                free(raw);
                return rc;
        }
        bdir = mu_xasprintf("%s/blobs", cfg->models_dir);
        rc = mu_mkdir_p(bdir, err);
        if (rc)
                goto out;
        /* layers first, then the config; each digest once */
        items = mu_xcalloc((size_t)m.n_layers + 1, sizeof(*items));
        fetched = mu_xcalloc((size_t)m.n_layers + 1, sizeof(*fetched));
        for (int i = 0; i <= m.n_layers; i++) {
                const struct store_layer *l = i < m.n_layers ? &m.layers[i] : &m.config;
                int dup = !l->digest[0];
                for (int j = 0; j < n && !dup; j++)
                        dup = !strcasecmp(items[j]->digest, l->digest);
                if (!dup)
                        items[n++] = l;
        }
        /* free space for what is missing */
        for (int i = 0; i < n; i++) {
                char *p = store_blob_path(cfg->models_dir, items[i]->digest);
                if (!have_blob(p, items[i]->size))
                        need += items[i]->size -
                                (uint64_t)download_partial_done(bdir, items[i]->digest + 7,
                                                                (int64_t)items[i]->size);
                free(p);
        }
        {
                struct statvfs vs;
                if (need && statvfs(bdir, &vs) == 0) {
                        uint64_t avail = (uint64_t)vs.f_bavail * vs.f_frsize;
                        if (avail < need) {
                                char a[32], b[32];
                                fmt_bytes(a, sizeof(a), (double)need);
                                fmt_bytes(b, sizeof(b), (double)avail);
                                rc = mu_fail(err, MU_EIO,
                                             "not enough disk space in '%s' to pull '%s': %s "
                                             "needed, %s free", cfg->models_dir, rr.display, a, b);
                                goto out;
                        }
                }
        }
        for (int i = 0; i < n; i++) {
                const struct store_layer *l = items[i];
                const char *hex = l->digest + 7;
                struct ctx c = {o, l->digest, "", 0, -1};
                char *path = store_blob_path(cfg->models_dir, l->digest), *url, what[160];

                snprintf(c.status, sizeof(c.status), "pulling %.12s", hex);
                snprintf(what, sizeof(what), "%s (%s)", l->digest, short_type(l->media_type));
                if (have_blob(path, l->size)) {
                        free(path);
                        download_forget(bdir, hex);
                        emit(o, c.status, l->digest, (int64_t)l->size, (int64_t)l->size);
                        continue;
                }
                free(path);
                if (cfg->ollama_dir && *cfg->ollama_dir) {
                        char *theirs = store_blob_path(cfg->ollama_dir, l->digest), dg[72];
                        uint64_t sz;
                        int ok = have_blob_ro(theirs, l->size) &&
                                 store_blob_import(cfg->models_dir, theirs, l->digest, dg, &sz,
                                                   NULL, NULL, NULL) == 0;
                        free(theirs);
                        if (ok) {
                                emit(o, c.status, l->digest, (int64_t)l->size, (int64_t)l->size);
                                continue;
                        }
                }
                dl.progress = on_progress;
                dl.ud = &c;
                url = registry_blob_url(&rr, l->digest);
                rc = download_blob(url, bdir, hex, (int64_t)l->size, what, &dl, err);
                free(url);
                if (rc)
                        goto out;
                fetched[i] = 1;
        }
        emit(o, "verifying sha256 digest", NULL, 0, 0);
        for (int i = 0; i < n; i++) {
                char what[160];
                if (!fetched[i])
                        continue;
                snprintf(what, sizeof(what), "%s (%s)", items[i]->digest,
                         short_type(items[i]->media_type));
                rc = download_commit(bdir, items[i]->digest + 7, (int64_t)items[i]->size, what,
                                     o->cancel, err);
                if (rc)
                        goto out;
        }
        emit(o, "writing manifest", NULL, 0, 0);
        mpath = store_manifest_path(cfg->models_dir, &rr.ref);
        if (mu_file_exists(mpath))
                have_old = store_read_manifest(mpath, &old, NULL, NULL) == 0;
        {
                char *dir = mu_xstrdup(mpath), *slash = strrchr(dir, '/');
                *slash = '\0';
                rc = mu_mkdir_p(dir, err);
                free(dir);
        }
        if (!rc)
                rc = mu_write_file_atomic(mpath, raw, rawlen, err);
        if (rc)
                goto out;
        if (have_old)
                store_prune(cfg, &old);
        emit(o, "success", NULL, 0, 0);
out:
        if (have_old)
                store_manifest_release(&old);
        store_manifest_release(&m);
        free(items);
        free(fetched);
        free(raw);
        free(bdir);
        free(mpath);
        return rc;
}
