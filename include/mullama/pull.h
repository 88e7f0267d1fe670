/* pull.h -- pull a model from an Ollama-compatible registry into the store.
 *
 * pull_model() resolves ref (see registry.h), fetches the manifest, downloads
 * every layer and the config blob that the store lacks (parallel ranged
 * parts, resumable across runs, see download.h), verifies each blob's
 * SHA-256, and writes the manifest last, byte for byte as received.  The
 * store never holds a half-written blob or a manifest naming a missing one.
 *
 * Progress events, in order (Ollama's /api/pull words):
 *   "pulling manifest"
 *   "pulling <12 hex>"        digest, total, completed (repeated, throttled)
 *   "verifying sha256 digest"
 *   "writing manifest"
 *   "success"
 * ev and its strings are only valid during the call.
 *
 * Environment: MULLAMA_REGISTRY replaces the default host (registry.ollama.ai)
 * and may carry a scheme ("http://127.0.0.1:8080"); MULLAMA_PULL_RETRIES,
 * MULLAMA_PULL_STALL_TIMEOUT (seconds), MULLAMA_PULL_PART_SIZE (bytes, K/M/G
 * suffixes), MULLAMA_PULL_CONNECTIONS (parallel parts per blob).
 *
 * Returns 0 or a negative MU_E* code: MU_EINVAL bad name, MU_ENOTFOUND
 * unknown model (404), MU_ENET unreachable registry, HTTP errors (401, 412,
 * 5xx after retries), MU_EINTEGRITY digest mismatch (the layer is named),
 * MU_EIO disk full or write errors, MU_ECANCELED when *cancel became
 * non-zero or SIGINT set mu_interrupted. */
#ifndef MULLAMA_PULL_H
#define MULLAMA_PULL_H

#include <stdint.h>

#include "mullama/mullama.h"

struct pull_event {
        const char *status;
        const char *digest; /* "sha256:<hex>" for "pulling ..." events, else NULL */
        int64_t total;
        int64_t completed;
};

typedef void (*pull_progress_fn)(const struct pull_event *ev, void *user);

struct pull_opts {
        int insecure;           /* allow plain http:// */
        pull_progress_fn progress; /* may be NULL */
        void *user;
        volatile int *cancel;   /* may be NULL */
};

int pull_model(const struct mu_config *cfg, const char *ref, const struct pull_opts *opts,
               struct mu_err *err);

#endif
