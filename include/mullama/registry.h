/* registry.h -- Ollama-compatible registries: references and manifests.
 *
 * A pull reference is a store reference (store.h) plus where to fetch it:
 *   name[:tag]            registry.ollama.ai/library/name:tag (tag "latest")
 *   ns/name[:tag]         registry.ollama.ai/ns/name:tag
 *   host/ns/name[:tag]    that host (a port is allowed: 127.0.0.1:8080/ns/x)
 *   hf.co/user/repo[:Q]   Hugging Face's Ollama endpoint; the tag is the
 *                         quantization, Q4_K_M when not given
 * "https://" / "http://" prefixes are accepted ("http://" only when insecure).
 * The model is stored under the reference as written; MULLAMA_REGISTRY
 * ("host[:port]" or "http[s]://host[:port]") only changes where references to
 * the default host are fetched from (a mirror).  Plain HTTP needs insecure.
 *
 * Protocol (docker registry v2 subset): GET <base>/v2/<ns>/<name>/manifests/
 * <tag> with Accept: application/vnd.docker.distribution.manifest.v2+json,
 * then <base>/v2/<ns>/<name>/blobs/sha256:<hex> per blob (download.c). */
#ifndef MULLAMA_REGISTRY_H
#define MULLAMA_REGISTRY_H

#include <stddef.h>

#include "mullama/mullama.h"
#include "mullama/store.h"

struct registry_ref {
        struct store_ref ref; /* as stored: manifests/<host>/<ns>/<name>/<tag> */
        char base[420];       /* "https://host[:port]" actually contacted */
        char display[600];    /* host/ns/name:tag, for messages */
        char auth[4096];      /* "Authorization: Bearer ..." once a token is held, else "" */
};

/* The parameters of a Bearer challenge (realm, service, scope; missing ones
 * ""); -1 when h is not a Bearer challenge with a realm. */
int registry_parse_challenge(const char *h, char realm[1024], char service[256],
                             char scope[512]);

/* Parse s; insecure selects http:// for hosts without an explicit scheme.
 * MU_EINVAL with a message on a bad name or a digest-pinned reference. */
int registry_ref_parse(struct registry_ref *r, const char *s, int insecure,
                       struct mu_err *err);

/* URLs (caller frees). */
char *registry_manifest_url(const struct registry_ref *r);
char *registry_blob_url(const struct registry_ref *r, const char *digest);

/* Fetch the manifest bytes (NUL-terminated, caller frees).  Retries 5xx and
 * transient network errors (retries times, with backoff).  A 401 carrying a
 * "WWW-Authenticate: Bearer realm=...,service=...,scope=..." challenge is
 * answered once with an anonymous token from the realm (the docker token
 * protocol); the token is kept in r->auth for the blob requests.  Errors: 404
 * MU_ENOTFOUND naming the resolved reference, 401/403 MU_ENET "requires
 * authentication", 412 MU_EUNSUPPORTED "requires a newer version", others
 * MU_ENET; MU_ECANCELED when cancel becomes non-zero. */
int registry_fetch_manifest(struct registry_ref *r, int retries,
                            volatile int *cancel, char **body, size_t *len,
                            struct mu_err *err);

#endif
