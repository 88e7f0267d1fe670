#!/usr/bin/env python3
"""registry_server.py -- an Ollama-compatible registry for the pull tests.

Serves a mullama/Ollama store directory (manifests/<host>/<ns>/<name>/<tag>,
blobs/sha256-<hex>) in the registry layout:
  GET  /v2/<ns>/<name>/manifests/<tag>      the manifest bytes as stored
  HEAD|GET /v2/<ns>/<name>/blobs/sha256:<hex>   blobs, with Range support
A second server on another port (the "CDN") serves the same blobs under
/cdn/sha256:<hex>?sig=...; it refuses HEAD like a signed GET-only URL.

Faults are set with POST /_faults (a JSON object, replacing the previous
one), statistics read with GET /_stats (GET /_stats/KEY: one number as
text) and cleared with POST /_reset:
  manifest_status: [codes]  answer the next manifest requests with these
  manifest_body:   body sent with a manifest_status answer
  blob_status:     code for every blob request
  cut_at:          fraction of a blob: the answer covering that offset
                   sends the bytes before it and closes the connection
  cut_count:       how many times cut_at fires (default 1)
  stall_at, stall_s: send the bytes before that offset, then go silent for
                   stall_s seconds (once), then close
  flip:            flip one byte in the middle of every blob served
  redirect:        blob requests answer 307 to the CDN port
  no_range:        ignore Range headers (answer 200 with the whole blob)
  rate:            bytes per second per blob answer (a slow server)
  target:          "sha256:<hex>": faults only touch that blob (default:
                   blobs over 4 KiB)
  expire_after:    the CDN's signed URL stops working after this many GETs
                   (403); the registry's next redirect hands out a new one
  auth:            true: /v2 requests need "Authorization: Bearer tok-123",
                   else 401 with a Bearer challenge whose realm is /token
                   (which hands out that token); "deny": /token refuses
Statistics: tokens (tokens handed out), cdn_auth (CDN requests that carried
an Authorization header: must stay 0), get:<12 hex> (blob bodies started), blob_bytes (bytes of blob bodies written
to sockets, both servers), blob_gets, manifest_gets, heads, cdn_gets.

Usage: registry_server.py STORE_DIR PORTFILE   (writes "PORT CDNPORT")."""
import glob
import json
import os
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STORE = sys.argv[1]
LOCK = threading.Lock()
FAULTS = {}
STATS = {}
CDN_PORT = [0]
SIG = [1, 0]  # current CDN signature, GETs made with it


def stat_add(key, n=1):
    with LOCK:
        STATS[key] = STATS.get(key, 0) + n


def fault(key, default=None):
    with LOCK:
        return FAULTS.get(key, default)


def targeted(digest, size):
    t = fault("target")
    if t:
        return t == digest
    return size > 4096


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cdn = False

    def log_message(self, *a):
        pass

    def send_json(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        global FAULTS
        if self.path == "/_faults":
            f = json.loads(self.read_body() or b"{}")
            with LOCK:
                FAULTS = f
            return self.send_json(200, {"ok": True})
        if self.path == "/_reset":
            self.read_body()
            with LOCK:
                STATS.clear()
            return self.send_json(200, {"ok": True})
        self.send_json(404, {"error": "not found"})

    def do_HEAD(self):
        self.handle_req(head=True)

    def do_GET(self):
        if self.path == "/_stats":
            with LOCK:
                return self.send_json(200, dict(STATS))
        if self.path.startswith("/_stats/"):
            with LOCK:
                body = b"%d" % STATS.get(self.path[8:], 0)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.handle_req(head=False)

    def handle_req(self, head):
        path = self.path.split("?")[0]
        if self.cdn and self.headers.get("Authorization"):
            stat_add("cdn_auth")
        if not self.cdn and path == "/token":
            if fault("auth") == "deny":
                return self.send_json(401, {"errors": [{"code": "UNAUTHORIZED",
                                                        "message": "authentication required"}]})
            stat_add("tokens")
            return self.send_json(200, {"token": "tok-123"})
        if (not self.cdn and path.startswith("/v2/") and fault("auth")
                and self.headers.get("Authorization") != "Bearer tok-123"):
            parts = path.split("/")
            self.send_response(401)
            self.send_header("WWW-Authenticate",
                             'Bearer realm="http://127.0.0.1:%d/token",service="test-registry",'
                             'scope="repository:%s/%s:pull"'
                             % (self.server.server_address[1], parts[2], parts[3]))
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        if self.cdn:
            m = re.fullmatch(r"/cdn/sha256:([0-9a-f]{64})", path)
            if not m:
                return self.send_json(404, {"error": "not found"})
            if head:
                return self.send_json(403, {"error": "signature does not match method"})
            q = self.path.split("?", 1)[1] if "?" in self.path else ""
            with LOCK:
                ok = q == "sig=%d" % SIG[0]
                if ok:
                    SIG[1] += 1
                    n = FAULTS.get("expire_after")
                    if n and SIG[1] >= n:
                        SIG[0] += 1  # this URL expires after this answer
                        SIG[1] = 0
            if not ok:
                stat_add("cdn_expired")
                return self.send_json(403, {"error": "request has expired"})
            stat_add("cdn_gets")
            return self.send_blob(m.group(1), head)
        m = re.fullmatch(r"/v2/([^/]+)/([^/]+)/manifests/([^/]+)", path)
        if m:
            return self.send_manifest(*m.groups())
        m = re.fullmatch(r"/v2/([^/]+)/([^/]+)/blobs/sha256:([0-9a-f]{64})", path)
        if m:
            hexd = m.group(3)
            stat_add("heads" if head else "blob_gets")
            code = fault("blob_status")
            if code:
                return self.send_json(code, {"errors": [{"code": "BLOB_UNKNOWN",
                                                         "message": "blob unknown"}]})
            if fault("redirect"):
                self.send_response(307)
                with LOCK:
                    sig = SIG[0]
                self.send_header("Location", "http://127.0.0.1:%d/cdn/sha256:%s?sig=%d"
                                 % (CDN_PORT[0], hexd, sig))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            return self.send_blob(hexd, head)
        self.send_json(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown path"}]})

    def send_manifest(self, ns, name, tag):
        stat_add("manifest_gets")
        with LOCK:
            codes = FAULTS.get("manifest_status") or []
            code = codes.pop(0) if codes else None
        if code:
            body = fault("manifest_body")
            if body is None:
                body = {"errors": [{"code": "ERR", "message": "injected %d" % code}]}
            return self.send_json(code, body)
        hits = glob.glob(os.path.join(STORE, "manifests", "*", ns, name, tag))
        if not hits:
            return self.send_json(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                                    "message": "manifest unknown"}]})
        data = open(hits[0], "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_blob(self, hexd, head):
        p = os.path.join(STORE, "blobs", "sha256-" + hexd)
        if not os.path.isfile(p):
            return self.send_json(404, {"errors": [{"code": "BLOB_UNKNOWN",
                                                    "message": "blob unknown"}]})
        size = os.path.getsize(p)
        a, b, partial = 0, size - 1, False
        rng = None if fault("no_range") else self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not m or int(m.group(1)) >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            a = int(m.group(1))
            b = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            partial = True
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(b - a + 1))
        if partial:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, size))
        self.end_headers()
        if head:
            return
        digest = "sha256:" + hexd
        stat_add("get:" + hexd[:12])
        hit = targeted(digest, size)
        cut = stall = None
        with LOCK:
            if hit and "cut_at" in FAULTS and FAULTS.get("cut_count", 1) > 0:
                c = int(FAULTS["cut_at"] * size)
                if a <= c <= b:
                    cut = c
                    FAULTS["cut_count"] = FAULTS.get("cut_count", 1) - 1
            if hit and "stall_at" in FAULTS and not FAULTS.get("stalled"):
                c = int(FAULTS["stall_at"] * size)
                if a <= c <= b:
                    stall = c
                    FAULTS["stalled"] = True
        flip = hit and fault("flip")
        rate = fault("rate") if hit else None
        stop = cut if cut is not None else stall if stall is not None else b + 1
        with open(p, "rb") as f:
            f.seek(a)
            pos = a
            chunk = 8192 if rate else 65536
            try:
                while pos < stop:
                    data = bytearray(f.read(min(chunk, stop - pos)))
                    if not data:
                        break
                    mid = size // 2
                    if flip and pos <= mid < pos + len(data):
                        data[mid - pos] ^= 0x01
                    self.wfile.write(data)
                    stat_add("blob_bytes", len(data))
                    pos += len(data)
                    if rate:
                        time.sleep(len(data) / rate)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
        if cut is not None or stall is not None:
            if stall is not None:
                time.sleep(fault("stall_s", 5))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class CdnHandler(Handler):
    cdn = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    reg = Server(("127.0.0.1", 0), Handler)
    cdn = Server(("127.0.0.1", 0), CdnHandler)
    CDN_PORT[0] = cdn.server_address[1]
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (reg.server_address[1], cdn.server_address[1]))
    os.rename(tmp, sys.argv[2])
    reg.serve_forever()


if __name__ == "__main__":
    main()
