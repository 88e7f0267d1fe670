# CLI: POST /api/pull of `mullama serve` against tests/registry_server.py:
# NDJSON progress (pulling manifest ... success), stream:false, unknown
# model, and the pulled model answering /api/tags and /api/generate.
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
gguf=$(model llama-2-tiny-random.gguf)
if [ ! -f include/mullama/pull.h ] || [ ! -f tests/registry_server.py ]; then
        skip "serve pull: all" "pull (include/mullama/pull.h) is not in this tree"; exit 0
fi
if [ -z "$gguf" ]; then skip "serve pull: all" "llama-2-tiny-random not in tests/models"; exit 0; fi
SRC=$TMP/src
mkdir -p "$TMP/w"
cp -L "$gguf" "$TMP/w/tiny.gguf"
printf 'FROM tiny.gguf\nPARAMETER temperature 0\n' >"$TMP/w/Modelfile"
MULLAMA_MODELS=$SRC "$MU" create tiny -f "$TMP/w/Modelfile" >/dev/null 2>&1
python3 tests/registry_server.py "$SRC" "$TMP/port" >/dev/null 2>&1 &
REG=$!
trap 'stop_server; kill $REG 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
RPORT=$(cut -d' ' -f1 "$TMP/port" 2>/dev/null)
if [ -z "$RPORT" ]; then fail "serve pull: registry server starts"; exit 1; fi
export NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 MULLAMA_REGISTRY=http://127.0.0.1:$RPORT
if ! start_server pull; then fail "serve pull: server starts" "$(cat "$SRV_LOG")"; exit 1; fi
http POST /api/pull '{"model":"tiny","insecure":true}'
expect_code "serve pull: /api/pull streams" 200
cp "$TMP/body" "$TMP/nd"
if python3 - "$TMP/nd" <<'PY'
import json, sys
o = [json.loads(l) for l in open(sys.argv[1]).read().split("\n") if l]
st = [x["status"] for x in o]
assert st[0] == "pulling manifest" and st[-1] == "success", st
p = [x for x in o if x.get("digest")]
assert p and all(x["completed"] <= x["total"] for x in p), p[:3]
PY
then pass "serve pull: NDJSON progress from pulling manifest to success"
else fail "serve pull: NDJSON progress" "$(head -c 400 "$TMP/nd")"; fi
http GET /api/tags ""
expect_grep "serve pull: pulled model is listed" '"name":"tiny:latest"' "$BODY"
http POST /api/generate '{"model":"tiny","prompt":"hi","raw":true,"stream":false,"options":{"num_predict":3}}'
expect_code "serve pull: pulled model generates" 200
http POST /api/pull '{"model":"tiny","insecure":true,"stream":false}'
expect_code "serve pull: stream:false" 200
expect_grep "serve pull: one success object" '^\{"status":"success"\}$' "$BODY"
http POST /api/pull '{"model":"nope-nope","insecure":true,"stream":false}'
if [ "$CODE" -ge 400 ] && printf '%s' "$BODY" | grep -q '"error"'; then pass "serve pull: unknown model is an error"
else fail "serve pull: unknown model" "$CODE $BODY"; fi
http POST /api/pull '{"insecure":true}'; expect_code "serve pull: missing model is 400" 400
stop_server
exit 0
