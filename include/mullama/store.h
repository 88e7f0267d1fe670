/* store.h -- the model store, in Ollama's layout, plus model references.
 *
 * Layout under a models dir (cfg->models_dir, or Ollama's cfg->ollama_dir,
 * which is only ever read):
 *   manifests/<host>/<ns>/<name>/<tag>   one JSON manifest per tag
 *   blobs/sha256-<64 hex>                 content-addressed layers
 * A manifest (schemaVersion 2, docker manifest v2 media type) lists a config
 * blob and layers with Ollama media types (STORE_MT_*).  The model's ID is
 * the sha256 of the manifest bytes.
 *
 * Integrity: blobs are written to blobs/.tmp-<pid>-<n>, hashed while written
 * (or hardlinked and then hashed), fsynced and renamed to their digest name;
 * a manifest is written last, atomically, so an interrupted create never
 * leaves a manifest that names a missing or partial blob.
 *
 * References: [host/][ns/]name[:tag][@sha256:<hex>], defaults
 * registry.ollama.ai, library, latest; "https://" is stripped.  Parts follow
 * Ollama's rules: host 1-350 chars of [A-Za-z0-9_.:-], ns/name/tag 1-80
 * chars, first char alphanumeric or '_', then [A-Za-z0-9_.-] ('.' not
 * allowed in ns).  hf.co/user/repo:QUANT and huggingface.co/... are plain
 * host/ns/name:tag references. */
#ifndef MULLAMA_STORE_H
#define MULLAMA_STORE_H

#include <stdint.h>

#include "mullama/mullama.h"

#define STORE_DEFAULT_HOST "registry.ollama.ai"
#define STORE_DEFAULT_NS "library"
#define STORE_DEFAULT_TAG "latest"

#define STORE_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define STORE_MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define STORE_MT_MODEL "application/vnd.ollama.image.model"
#define STORE_MT_ADAPTER "application/vnd.ollama.image.adapter"
#define STORE_MT_PROJECTOR "application/vnd.ollama.image.projector"
#define STORE_MT_TEMPLATE "application/vnd.ollama.image.template"
#define STORE_MT_PROMPT "application/vnd.ollama.image.prompt" /* legacy template */
#define STORE_MT_SYSTEM "application/vnd.ollama.image.system"
#define STORE_MT_PARAMS "application/vnd.ollama.image.params"
#define STORE_MT_MESSAGES "application/vnd.ollama.image.messages"
#define STORE_MT_LICENSE "application/vnd.ollama.image.license"

/* ---- references ------------------------------------------------------------ */

struct store_ref {
        char host[351];
        char ns[81];
        char name[81];
        char tag[81];
        char digest[72]; /* "sha256:<hex>" when pinned, else "" */
};

/* Parse s (defaults filled in).  MU_EINVAL with a message on a bad name. */
int store_ref_parse(struct store_ref *r, const char *s, struct mu_err *err);
/* Short display form: host and ns dropped when they are the defaults, tag
 * always shown ("llama3:latest", "me/x:1b", "hf.co/u/r:Q4_K_M"). */
void store_ref_display(const struct store_ref *r, char *buf, size_t n);
/* Case-insensitive equality of host/ns/name/tag. */
int store_ref_equal(const struct store_ref *a, const struct store_ref *b);

/* Does s name a file rather than a model: starts with "./", "../", "/",
 * "~/", or ends in ".gguf" and exists. */
int store_is_path(const char *s);

/* ---- manifests ----------------------------------------------------------------- */

struct store_layer {
        char media_type[128];
        char digest[72]; /* "sha256:<64 hex>" */
        uint64_t size;
        char *from; /* optional "from" field, or NULL */
};

struct store_manifest {
        struct store_layer config;
        struct store_layer *layers;
        int n_layers;
};

/* Parse and validate (schemaVersion 2, digests well formed).  Unknown
 * fields are ignored.  Release with store_manifest_release. */
int store_manifest_parse(struct store_manifest *m, const char *json, size_t len,
                         struct mu_err *err);
void store_manifest_release(struct store_manifest *m);
/* Serialize (caller frees). */
char *store_manifest_json(const struct store_manifest *m);
void store_manifest_add(struct store_manifest *m, const char *media_type,
                        const char *digest, uint64_t size);

/* manifests/<host>/<ns>/<name>/<tag> under dir (caller frees). */
char *store_manifest_path(const char *dir, const struct store_ref *r);
/* blobs/sha256-<hex> under dir for "sha256:<hex>" or "sha256-<hex>"; NULL
 * when the digest is malformed (caller frees). */
char *store_blob_path(const char *dir, const char *digest);

/* ---- blobs ---------------------------------------------------------------------- */

/* Called with bytes done so far and the total. */
typedef void (*store_progress_fn)(void *ud, uint64_t done, uint64_t total);

/* Add the file at src as a blob of dir: hardlink when on the same file
 * system (then hash the linked file), else copy while hashing.  Fills digest
 * ("sha256:<hex>") and size.  If expect is not NULL the content must hash to
 * it (MU_EINTEGRITY otherwise, and nothing is kept). */
int store_blob_import(const char *dir, const char *src, const char *expect,
                      char digest[72], uint64_t *size, store_progress_fn progress,
                      void *ud, struct mu_err *err);
/* Store bytes as a blob (no-op when it already exists). */
int store_blob_write(const char *dir, const void *data, size_t len, char digest[72],
                     struct mu_err *err);

/* ---- models -------------------------------------------------------------------- */

struct store_model {
        struct store_ref ref;
        char *dir;            /* store it was found in (ours or Ollama's) */
        int from_ollama;      /* 1 when found in cfg->ollama_dir */
        char *manifest_path;
        char id[65];          /* sha256 hex of the manifest bytes */
        int64_t mtime;        /* manifest mtime, seconds since the epoch */
        uint64_t size;        /* config + layers */
        struct store_manifest manifest;
        char *model_path;     /* blob of the model layer (NULL if none) */
        char *tmpl;           /* layer contents, NULL when absent */
        char *system;
        char *params_json;
        char *messages_json;
        char *config_json;
        char **licenses;
        int n_licenses;
        char **adapter_paths;
        int n_adapters;
        char *projector_path;
};

/* Find ref in cfg->models_dir, then (read-only) cfg->ollama_dir, and load
 * its small layers.  MU_ENOTFOUND when absent; MU_EFORMAT/MU_EINTEGRITY when
 * the manifest is bad or a blob is missing. */
int store_resolve(const struct mu_config *cfg, const char *ref, struct store_model **out,
                  struct mu_err *err);
void store_model_free(struct store_model *m);

struct store_entry {
        char name[600];  /* display form, see store_ref_display */
        struct store_ref ref;
        char id[65];
        uint64_t size;
        int64_t mtime;
        int from_ollama;
};

/* Every model in our store, and those in Ollama's not shadowed by ours,
 * newest first (as Ollama lists them).  Manifests that do not parse or name missing blobs are
 * skipped with a warning in *warnings (may be NULL; caller frees, a
 * newline-separated list).  Caller frees *out. */
int store_list(const struct mu_config *cfg, struct store_entry **out, int *n,
               char **warnings, struct mu_err *err);

/* Remove a model of our store: its manifest, then each of its blobs no other
 * manifest references, then stale temp blobs of dead processes.  A model
 * found only in Ollama's store gives MU_EUNSUPPORTED (read-only). */
int store_remove(const struct mu_config *cfg, const char *ref, struct mu_err *err);

/* Delete the blobs of m (from our store) that no manifest there references,
 * e.g. after m's manifest was removed or replaced. */
void store_prune(const struct mu_config *cfg, const struct store_manifest *m);

/* Read and parse a manifest file; id (may be NULL) gets its sha256. */
int store_read_manifest(const char *path, struct store_manifest *m, char id[65],
                        struct mu_err *err);

/* Copy src to dst (dst is replaced).  When src lives in Ollama's store its
 * blobs are first imported (hardlink or copy, verified). */
int store_copy(const struct mu_config *cfg, const char *src, const char *dst,
               struct mu_err *err);

/* Write manifest m for ref in cfg->models_dir (atomic).  Every blob it
 * names must already exist there (MU_EINTEGRITY otherwise).  id may be NULL. */
int store_write_manifest(const struct mu_config *cfg, const struct store_ref *ref,
                         const struct store_manifest *m, char id[65], struct mu_err *err);

/* ---- create ----------------------------------------------------------------- */

struct modelfile;

/* Progress of store_create: msg is "gathering model components", "copying
 * file", "using existing layer", "creating new layer", "writing manifest",
 * "success"; digest ("sha256:<hex>") may be NULL; total is 0 unless bytes are
 * being copied. */
typedef void (*store_status_fn)(void *ud, const char *msg, const char *digest,
                                uint64_t done, uint64_t total);

struct store_create_opts {
        const char *base_dir; /* relative FROM/ADAPTER paths resolve here */
        store_status_fn status;
        void *ud;
};

/* Build model `name` from a parsed Modelfile: FROM a GGUF file (imported as
 * a blob) or an existing model (its layers inherited: TEMPLATE, SYSTEM,
 * MESSAGE and LICENSE replace the base's, PARAMETERs are merged over the
 * base's, ADAPTERs are added).  Blobs first, manifest last.
 * MU_ENOTFOUND when FROM names a missing file or model. */
int store_create(const struct mu_config *cfg, const char *name, const struct modelfile *mf,
                 const struct store_create_opts *opts, struct mu_err *err);
/* The same, with the model weights quantized to quantize (a quantize.h type
 * name such as "q4_K_M"; NULL: as store_create), FROM a file or a model. */
int store_create_quantized(const struct mu_config *cfg, const char *name,
                           const struct modelfile *mf, const struct store_create_opts *opts,
                           const char *quantize, struct mu_err *err);

#endif
