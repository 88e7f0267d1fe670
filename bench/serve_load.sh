#!/usr/bin/env bash
# serve_load.sh -- load test of `mullama serve` on loopback (not in make test).
# CLIENTS concurrent clients x REQS requests each (/api/generate,
# stream:false, NPRED tokens, temperature 0), against a server started with
# --parallel P for each P in PARALLELS ("4nb": --parallel 4 --no-batch, slots
# decoding one at a time).  Checks every answer is complete (done, with
# eval_count == NPRED or an end of text before) and reports throughput, aggregate tokens/s, p50/p95
# latency, and for batched servers the mean slots per decode step (from
# /api/ps); then each configuration's aggregate tokens/s against --parallel 1.
# Usage: bench/serve_load.sh [MODEL.gguf]   (default tests/models/stories260K.gguf)
# Env: CLIENTS=8 REQS=50 NPRED=32 PARALLELS="1 4nb 4" THREADS=(per slot, default auto)
set -u
cd "$(dirname "$0")/.."
MU=${MULLAMA_BIN:-$PWD/mullama}
model=${1:-$PWD/tests/models/stories260K.gguf}
CLIENTS=${CLIENTS:-8} REQS=${REQS:-50} NPRED=${NPRED:-32} PARALLELS=${PARALLELS:-"1 4nb 4"}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for cfg in $PARALLELS; do
        par=${cfg%nb} nb=
        [ "$par" != "$cfg" ] && nb=--no-batch
        "$MU" serve --host 127.0.0.1:0 --parallel "$par" $nb --max-queue 1000 ${THREADS:+--threads $THREADS} \
                >"$tmp/log" 2>&1 & pid=$!
        port=
        for _ in $(seq 1 100); do
                port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/log"); [ -n "$port" ] && break; sleep 0.1
        done
        [ -n "$port" ] || { echo "server did not start: $(cat "$tmp/log")" >&2; kill "$pid"; exit 1; }
        python3 - "$port" "$model" "$CLIENTS" "$REQS" "$NPRED" "$cfg" <<'PY' | tee -a "$tmp/summary"
import json, sys, threading, time, urllib.request
port, model, clients, reqs, npred, par = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
url = "http://127.0.0.1:%s/api/generate" % port
def one(prompt):
    body = json.dumps({"model": model, "prompt": prompt, "raw": True, "stream": False,
                       "options": {"temperature": 0, "num_predict": npred}}).encode()
    t = time.time()
    with urllib.request.urlopen(urllib.request.Request(url, body), timeout=600) as r:
        d = json.loads(r.read())
    return time.time() - t, d
# warm up (load the model)
one("Once")
lat, errors, tokens, eval_ns = [], [], [0], [0]
lock = threading.Lock()
def client(ci):
    for k in range(reqs):
        try:
            dt, d = one("Once upon a time %d %d" % (ci, k))
            # complete: num_predict tokens, or the model's own end of text
            ok = d.get("done") and (d.get("eval_count") == npred or
                                    (d.get("done_reason") == "stop" and 0 < d.get("eval_count", 0) < npred))
            with lock:
                lat.append(dt)
                tokens[0] += d.get("eval_count", 0)
                eval_ns[0] += d.get("eval_duration", 0)
                if not ok:
                    errors.append(str(d)[:200])
        except Exception as e:
            with lock:
                errors.append(repr(e)[:200])
t0 = time.time()
th = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
[t.start() for t in th]; [t.join() for t in th]
wall = time.time() - t0
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
ps = json.loads(urllib.request.urlopen("http://127.0.0.1:%s/api/ps" % port).read())["models"][0]
per_step = ps["decode_tokens"] / ps["decode_steps"] if ps.get("decode_steps") else 1.0
print("parallel=%s clients=%d requests=%d errors=%d wall=%.1fs  %.2f req/s  %.1f tok/s (aggregate)  "
      "p50=%.0fms p95=%.0fms  per-request decode %.1f tok/s  slots/step %.2f"
      % (par, clients, len(lat), len(errors), wall, len(lat) / wall, tokens[0] / wall, p(0.5), p(0.95),
         tokens[0] / (eval_ns[0] / 1e9) if eval_ns[0] else 0, per_step))
for e in errors[:3]:
    print("  error:", e)
PY
        kill -TERM "$pid"; wait "$pid"; echo "  server exit $?"
done
python3 - "$tmp/summary" <<'PY'
import re, sys
rows = [(m.group(1), float(m.group(2))) for m in
        (re.search(r"parallel=(\S+) .* ([0-9.]+) tok/s \(aggregate\)", l) for l in open(sys.argv[1])) if m]
base = dict(rows).get("1")
for cfg, tps in rows:
    print("%-4s %8.1f tok/s aggregate%s" % (cfg, tps, "  (%.2fx --parallel 1)" % (tps / base) if base else ""))
PY
