# CLI: mullama serve -- Ollama and OpenAI HTTP APIs checked with curl on a
# random loopback port: framing (NDJSON, SSE), answers equal to `mullama run`
# and llama.cpp's greedy text, timings, keep_alive, queue and 503, client
# disconnect, auth, CORS, bad input, model management, graceful stop.
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
s=$(model stories260K.gguf)
m=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
r=$(model llama-2-tiny-random.gguf)
if [ -z "$s" ] || [ -z "$m" ] || [ -z "$r" ]; then
        skip "serve: all" "stories260K / SmolLM2 / llama-2-tiny-random not in tests/models (make models)"
        exit 0
fi
trap 'stop_server; rm -rf "$TMP"' EXIT
# /api/pull (when built with pull) meets a closed port at once, no network
export MULLAMA_REGISTRY=http://127.0.0.1:1 MULLAMA_PULL_RETRIES=0
printf 'FROM %s\n' "$s" > "$TMP/Modelfile.story"
"$MU" create story -f "$TMP/Modelfile.story" >/dev/null 2>&1
printf 'FROM %s\n' "$m" > "$TMP/Modelfile.smol"
"$MU" create smol -f "$TMP/Modelfile.smol" >/dev/null 2>&1

if ! start_server main --parallel 1 --max-queue 1; then
        fail "serve: starts" "$(cat "$SRV_LOG")"; exit 1
fi
pass "serve: starts on a random port"

http GET / ""; expect_code "serve: GET /" 200
expect_grep "serve: / says running" '^Ollama is running$' "$BODY"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$PORT/"); expect_code "serve: HEAD /" 200
http GET /api/version ""; expect_grep "serve: /api/version" '"version":"[0-9.]+"' "$BODY"

# ---- generate: streaming NDJSON, llama.cpp greedy text, timings
gen='{"model":"story","prompt":"Once upon a time","raw":true,"options":{"temperature":0,"num_predict":8}}'
http POST /api/generate "$gen"
expect_code "serve: generate streams" 200
cp "$TMP/body" "$TMP/nd"
if python3 - "$TMP/nd" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l]
objs = [json.loads(l) for l in lines]
assert len(objs) >= 2, "one line per token plus a final line"
assert all(not o["done"] for o in objs[:-1]) and objs[-1]["done"]
text = "".join(o["response"] for o in objs)
assert text == ", there was a little girl", repr(text)
f = objs[-1]
assert f["done_reason"] == "length", f
for k in ("total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"):
    assert isinstance(f[k], int), k
assert f["eval_count"] == 8 and f["prompt_eval_count"] == 5, f
assert f["total_duration"] >= f["eval_duration"] > 0 and f["prompt_eval_duration"] > 0
assert f["model"] == "story:latest" and f["created_at"].endswith("Z")
PY
then pass "serve: NDJSON framing, llama.cpp greedy text, ns timings, done_reason length"
else fail "serve: NDJSON framing" "$(head -c 400 "$TMP/nd")"; fi

http POST /api/generate '{"model":"story","prompt":"Once upon a time","raw":true,"stream":false,"options":{"temperature":0,"num_predict":30,"stop":["girl"]}}'
expect_code "serve: generate stream:false" 200
if printf '%s' "$BODY" | pyjson 'assert d["response"]==", there was a little " and d["done"] and d["done_reason"]=="stop", d'; then
        pass "serve: one object, stop string cut, done_reason stop"
else fail "serve: stream:false object" "$BODY"; fi

# same seed, same text as `mullama run`
want=$("$MU" run story --raw --seed 7 -n 20 "Once upon a time" 2>/dev/null)
http POST /api/generate '{"model":"story","prompt":"Once upon a time","raw":true,"stream":false,"options":{"seed":7,"num_predict":20}}'
got=$(printf '%s' "$BODY" | pyjson 'print(d["response"])')
if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "serve: generate equals mullama run with the same seed"
else fail "serve: generate equals mullama run" "run '$want' vs api '$got'"; fi

# ---- chat (SmolLM2, its chat template)
want=$("$MU" run smol --seed 3 -n 10 "What is the capital of France?" 2>/dev/null)
chat='{"model":"smol","stream":false,"messages":[{"role":"user","content":"What is the capital of France?"}],"options":{"seed":3,"num_predict":10}}'
http POST /api/chat "$chat"
expect_code "serve: chat stream:false" 200
got=$(printf '%s' "$BODY" | pyjson 'assert d["message"]["role"]=="assistant" and d["done"]; print(d["message"]["content"])')
if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "serve: chat equals mullama run with the same seed"
else fail "serve: chat equals mullama run" "run '$want' vs api '$got'"; fi
http POST /api/chat '{"model":"smol","messages":[{"role":"user","content":"Hi"}],"options":{"temperature":0,"num_predict":6}}'
if printf '%s\n' "$BODY" | python3 -c '
import json,sys
o=[json.loads(l) for l in sys.stdin.read().split("\n") if l]
assert all("message" in x for x in o) and o[-1]["done"] and o[-1]["message"]["content"]==""
assert o[-1]["done_reason"] in ("stop","length") and "eval_count" in o[-1]
assert "".join(x["message"]["content"] for x in o).strip()'; then pass "serve: chat NDJSON chunks and final line"
else fail "serve: chat streaming" "$(printf '%s' "$BODY" | head -c 300)"; fi

# format json
q="What is the capital of France? Respond in JSON with the key capital."
http POST /api/generate '{"model":"smol","prompt":"'"$q"'","stream":false,"format":"json","options":{"temperature":0,"num_predict":300}}'
if printf '%s' "$BODY" | pyjson 'assert isinstance(json.loads(d["response"]), dict) and d["done_reason"]=="stop"'; then pass "serve: format json gives a JSON object"
else fail "serve: format json" "$BODY"; fi
sch='{"type":"object","properties":{"city":{"type":"string"},"population":{"type":"integer"},"size":{"enum":["small","big"]}},"required":["city","population","size"]}'
http POST /api/chat '{"model":"smol","stream":false,"format":'"$sch"',"messages":[{"role":"user","content":"'"$q"'"}],"options":{"temperature":0,"num_predict":300}}'
if printf '%s' "$BODY" | pyjson 'o=json.loads(d["message"]["content"]); assert set(o)=={"city","population","size"} and isinstance(o["city"],str) and type(o["population"]) is int and o["size"] in ("small","big"), o'; then
        pass "serve: format JSON schema is followed (keys, types, enum)"
else fail "serve: format JSON schema" "$BODY"; fi
http POST /v1/chat/completions '{"model":"smol","response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"capital":{"type":"string"}},"required":["capital"]}}},"messages":[{"role":"user","content":"'"$q"'"}],"temperature":0,"max_tokens":300}'
if printf '%s' "$BODY" | pyjson 'o=json.loads(d["choices"][0]["message"]["content"]); assert list(o)==["capital"] and isinstance(o["capital"],str), o'; then pass "serve: response_format json_schema is followed"
else fail "serve: response_format" "$BODY"; fi

# ---- OpenAI
# start from an empty KV cache like `mullama run` (reusing a cached prefix
# evaluates the rest in other batch sizes, which rounds differently)
http POST /api/generate '{"model":"smol","keep_alive":0}'
http POST /v1/chat/completions '{"model":"smol","messages":[{"role":"user","content":"What is the capital of France?"}],"seed":3,"max_tokens":10}'
expect_code "serve: /v1/chat/completions" 200
got=$(printf '%s' "$BODY" | pyjson 'c=d["choices"][0]; assert d["object"]=="chat.completion" and c["finish_reason"] in ("stop","length"); u=d["usage"]; assert u["total_tokens"]==u["prompt_tokens"]+u["completion_tokens"]>0; print(c["message"]["content"])')
if [ "$got" = "$want" ]; then pass "serve: OpenAI chat equals mullama run with the same seed"
else fail "serve: OpenAI chat text" "run '$want' vs api '$got'"; fi
http POST /v1/chat/completions '{"model":"smol","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":5}'
cp "$TMP/body" "$TMP/sse"
if python3 - "$TMP/sse" <<'PY'
import json, sys
raw = open(sys.argv[1]).read()
events = raw.split("\n\n")
assert events[-1] == "" and events[-2] == "data: [DONE]", events[-3:]
objs = [json.loads(e[6:]) for e in events[:-2]]
assert all(e.startswith("data: ") for e in events[:-1])
assert all(o["object"] == "chat.completion.chunk" for o in objs)
assert objs[0]["choices"][0]["delta"]["role"] == "assistant"
assert objs[-2]["choices"][0]["finish_reason"] == "length"
assert objs[-1]["choices"] == [] and objs[-1]["usage"]["completion_tokens"] == 5
PY
then pass "serve: SSE framing, [DONE], include_usage"
else fail "serve: SSE framing" "$(head -c 400 "$TMP/sse")"; fi
http POST /v1/completions '{"model":"story","prompt":"Once upon a time","temperature":0,"max_tokens":8}'
if printf '%s' "$BODY" | pyjson 'c=d["choices"][0]; assert d["object"]=="text_completion" and c["text"]==", there was a little girl" and c["finish_reason"]=="length", d'; then
        pass "serve: /v1/completions continues the text (llama.cpp greedy)"
else fail "serve: /v1/completions" "$BODY"; fi
http POST /v1/chat/completions '{"model":"smol","messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"stop":"x","options":{"num_ctx":64}}'
expect_code "serve: /v1 takes options such as num_ctx" 200
http POST /v1/chat/completions '{"model":"smol","messages":[]}'
expect_code "serve: /v1 empty messages is 400" 400
expect_grep "serve: OpenAI error shape" '"error":\{"message":' "$BODY"
http GET /v1/models ""
if printf '%s' "$BODY" | pyjson 'ids=[m["id"] for m in d["data"]]; assert d["object"]=="list" and "story:latest" in ids and "smol:latest" in ids, ids'; then
        pass "serve: /v1/models lists the store"; else fail "serve: /v1/models" "$BODY"; fi
http GET /v1/models/story ""; expect_code "serve: /v1/models/ID" 200
http GET /v1/models/nope ""; expect_code "serve: /v1/models/unknown is 404" 404

# ---- embeddings
http POST /api/embed '{"model":"smol","input":["Paris is in France.","Paris is in France.","A cat sat."]}'
expect_code "serve: /api/embed" 200
if printf '%s' "$BODY" | pyjson '
e=d["embeddings"]; assert len(e)==3 and len(e[0])==576, len(e[0])
import math
n=math.sqrt(sum(x*x for x in e[0])); assert abs(n-1)<1e-3, n
assert e[0]==e[1] and e[0]!=e[2]
dot=lambda a,b: sum(x*y for x,y in zip(a,b)); assert dot(e[0],e[2]) < 0.9999
assert d["prompt_eval_count"]>0 and d["model"]=="smol:latest"'; then
        pass "serve: embeddings normalized, n_embd long, deterministic"
else fail "serve: embeddings" "$(printf '%s' "$BODY" | head -c 300)"; fi
http POST /v1/embeddings '{"model":"smol","input":"hello","dimensions":64}'
if printf '%s' "$BODY" | pyjson 'x=d["data"][0]; assert d["object"]=="list" and x["object"]=="embedding" and len(x["embedding"])==64 and d["usage"]["prompt_tokens"]>0'; then
        pass "serve: /v1/embeddings with dimensions"; else fail "serve: /v1/embeddings" "$BODY"; fi

# ---- model management
http GET /api/tags ""
if printf '%s' "$BODY" | pyjson 'n=[m["name"] for m in d["models"]]; assert "story:latest" in n; m=d["models"][0]; assert len(m["digest"])==64 and "details" in m and m["size"]>0'; then
        pass "serve: /api/tags"; else fail "serve: /api/tags" "$BODY"; fi
http POST /api/show '{"model":"smol"}'
if printf '%s' "$BODY" | pyjson 'assert d["model_info"]["general.architecture"]=="llama" and d["details"]["family"]=="llama" and "completion" in d["capabilities"] and "FROM" in d["modelfile"] and d["template"]'; then
        pass "serve: /api/show"; else fail "serve: /api/show" "$(printf '%s' "$BODY" | head -c 300)"; fi
http POST /api/show '{"model":"nope"}'; expect_code "serve: /api/show unknown is 404" 404
http POST /api/create '{"model":"story2","from":"story","system":"Be brief.","parameters":{"temperature":0,"stop":["END"]},"stream":false}'
expect_code "serve: /api/create" 200
expect_rc "serve: created model is in the store" 0 "$MU" show story2 --modelfile
expect_grep "serve: create applied parameters" 'PARAMETER temperature 0' "$OUT"
http POST /api/create '{"model":"story3","from":"story"}'
if printf '%s\n' "$BODY" | tail -1 | grep -q '"status":"success"'; then pass "serve: /api/create streams status lines"
else fail "serve: /api/create stream" "$BODY"; fi
http POST /api/create '{"model":"bad","from":"nope-model"}'
if [ "$CODE" = 404 ] || printf '%s' "$BODY" | grep -q '"error"'; then pass "serve: create from a missing model fails"
else fail "serve: create from a missing model" "$CODE $BODY"; fi
http POST /api/copy '{"source":"story2","destination":"story-copy"}'; expect_code "serve: /api/copy" 200
http POST /api/copy '{"source":"nope","destination":"x"}'; expect_code "serve: /api/copy missing is 404" 404
http DELETE /api/delete '{"model":"story-copy"}'; expect_code "serve: DELETE /api/delete" 200
http DELETE /api/delete '{"model":"story-copy"}'; expect_code "serve: delete twice is 404" 404
http POST /api/delete '{"model":"story2"}'; expect_code "serve: POST /api/delete is 405" 405
http POST /api/pull '{"model":"x","insecure":true,"stream":false}'
if [ "$CODE" = 501 ] || [ "$CODE" = 200 ] || [ "$CODE" = 400 ] || [ "$CODE" = 500 ]; then
        expect_grep "serve: /api/pull answers JSON" '"(error|status)"' "$BODY"
else fail "serve: /api/pull" "$CODE"; fi

# ---- bad input: JSON errors, right status, server keeps serving
http POST /api/generate '{"model":"story",'; expect_code "serve: malformed JSON is 400" 400
expect_grep "serve: error is JSON" '^\{"error":"' "$BODY"
http POST /api/generate '[1,2]'; expect_code "serve: non-object body is 400" 400
http POST /api/generate '{"model":5,"prompt":"x"}'; expect_code "serve: wrong type is 400" 400
http POST /api/generate '{"model":"story","prompt":7}'; expect_code "serve: prompt wrong type is 400" 400
http POST /api/generate '{"model":"story","prompt":"x","options":"hot"}'; expect_code "serve: options not an object is 400" 400
http POST /api/generate '{"model":"story","prompt":"x","options":{"top_k":"lots"}}'; expect_code "serve: bad option value is 400" 400
http POST /api/generate '{"prompt":"x"}'; expect_code "serve: missing model is 400" 400
http POST /api/generate '{"model":"nope","prompt":"x"}'; expect_code "serve: unknown model is 404" 404
expect_grep "serve: 404 names the model" "nope" "$BODY"
http POST /api/generate '{"model":"story","prompt":"x","images":["aGVsbG8="]}'; expect_code "serve: images rejected" 400
expect_grep "serve: images error is clear" 'does not support images' "$BODY"
http POST /api/chat '{"model":"story","messages":[{"role":"user","content":"x","images":["aGk="]}]}'; expect_code "serve: chat images rejected" 400
http POST /api/chat '{"model":"story","messages":[{"content":"x"}]}'; expect_code "serve: message without role is 400" 400
http POST /api/generate '{"model":"story","prompt":"Once upon a time there was a little girl named Lily who liked to play","raw":true,"options":{"num_ctx":8}}'
expect_code "serve: prompt over the context is 400" 400
expect_grep "serve: context error says so" 'context' "$BODY"
http POST /api/generate '{"model":"story","prompt":"Once","raw":true,"stream":false,"unknown_field":{"a":1},"options":{"temperature":0,"num_predict":2,"not_an_option":1}}'
expect_code "serve: unknown fields and options are ignored" 200
http POST /api/generate "{\"model\":\"story\",\"prompt\":\"$(head -c 40000 /dev/zero | tr '\0' a)\"}" -H 'Expect:'
[ "$CODE" = 413 ] && fail "serve: default body cap is not tiny" || pass "serve: default body cap is not tiny"
http GET /api/nothing ""; expect_code "serve: unknown path is 404" 404
http GET /api/generate ""; expect_code "serve: wrong method is 405" 405
http POST /api/generate '{"model":"story","prompt":"Once","raw":true,"keep_alive":"soon"}'; expect_code "serve: bad keep_alive is 400" 400

# ---- keep_alive: load-only, unload, expiry
http POST /api/generate '{"model":"story"}'
if printf '%s' "$BODY" | pyjson 'assert d["done"] and d["done_reason"]=="load"'; then pass "serve: empty prompt loads (done_reason load)"
else fail "serve: load" "$BODY"; fi
http GET /api/ps ""
if printf '%s' "$BODY" | pyjson 'm=[x for x in d["models"] if x["name"]=="story:latest"][0]; assert m["context_length"]>0 and m["expires_at"].endswith("Z") and m["size"]>0'; then
        pass "serve: /api/ps lists the loaded model"; else fail "serve: /api/ps" "$BODY"; fi
MULLAMA_HOST=127.0.0.1:$PORT "$MU" ps >"$TMP/ps" 2>&1
if grep -q '^NAME ' "$TMP/ps" && grep -q '^story:latest .*CPU .*minutes from now' "$TMP/ps"; then pass "serve: mullama ps"
else fail "serve: mullama ps" "$(cat "$TMP/ps")"; fi
http POST /api/generate '{"model":"story","keep_alive":0}'
if printf '%s' "$BODY" | pyjson 'assert d["done_reason"]=="unload"'; then pass "serve: keep_alive 0 with no prompt unloads"
else fail "serve: unload" "$BODY"; fi
http GET /api/ps ""
if printf '%s' "$BODY" | pyjson 'assert "story:latest" not in [x["name"] for x in d["models"]]'; then pass "serve: unloaded model leaves /api/ps"
else fail "serve: unloaded model leaves /api/ps" "$BODY"; fi
http POST /api/generate '{"model":"story","prompt":"Once","raw":true,"stream":false,"keep_alive":0,"options":{"num_predict":2}}'
sleep 0.5; http GET /api/ps ""
if printf '%s' "$BODY" | pyjson 'assert "story:latest" not in [x["name"] for x in d["models"]]'; then pass "serve: keep_alive 0 unloads after the request"
else fail "serve: keep_alive 0 after request" "$BODY"; fi
http POST /api/generate '{"model":"story","prompt":"Once","raw":true,"stream":false,"keep_alive":"1s","options":{"num_predict":2}}'
sleep 1.6; http GET /api/ps ""
if printf '%s' "$BODY" | pyjson 'assert "story:latest" not in [x["name"] for x in d["models"]]'; then pass "serve: keep_alive 1s expires"
else fail "serve: keep_alive expiry" "$BODY"; fi
MULLAMA_HOST=127.0.0.1:1 "$MU" ps >/dev/null 2>"$TMP/pserr"; rc=$?
if [ $rc -ne 0 ] && grep -q 'could not connect' "$TMP/pserr"; then pass "serve: mullama ps without a server fails clearly"
else fail "serve: ps without server" "rc $rc $(cat "$TMP/pserr")"; fi

# ---- one slot, queue of one: a third request gets 503; a client that
# disconnects cancels its generation at once
# greedy on the random tiny model never meets EOS: it runs until canceled
long='{"model":"'"$r"'","prompt":"Once upon a time","raw":true,"options":{"num_predict":-1,"temperature":0}}'
curl -sN "http://127.0.0.1:$PORT/api/generate" -d "$long" >"$TMP/a.out" 2>/dev/null & pa=$!
for _ in $(seq 1 50); do [ -s "$TMP/a.out" ] && break; sleep 0.1; done
curl -s -o "$TMP/b.out" -w '%{http_code}' "http://127.0.0.1:$PORT/api/generate" \
        -d '{"model":"'"$r"'","prompt":"Once","raw":true,"stream":false,"options":{"num_predict":3}}' >"$TMP/b.code" & pb=$!
sleep 0.5
http POST /api/generate '{"model":"'"$r"'","prompt":"Once","raw":true,"stream":false,"options":{"num_predict":3}}'
expect_code "serve: queue full is 503" 503
expect_grep "serve: 503 is a JSON error" '"error":' "$BODY"
t0=$(date +%s%N)
kill "$pa" 2>/dev/null; wait "$pa" 2>/dev/null
wait "$pb"; t1=$(date +%s%N)
if [ "$(cat "$TMP/b.code")" = 200 ]; then pass "serve: queued request runs when the slot frees"
else fail "serve: queued request" "$(cat "$TMP/b.code") $(cat "$TMP/b.out")"; fi
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -lt 3000 ]; then pass "serve: disconnect cancels generation at once (${ms} ms)"
else fail "serve: disconnect cancels" "queued request waited ${ms} ms after the client left"; fi
if grep -q 'POST /api/generate 200 .*(aborted)' "$SRV_LOG"; then pass "serve: request log marks the aborted request"
else fail "serve: request log" "$(tail -5 "$SRV_LOG")"; fi
expect_grep "serve: request log has method, path, status, duration, tokens" 'POST /api/generate 200 [0-9.]+ms tokens=[0-9]+' "$(cat "$SRV_LOG")"

# ---- graceful stop: an in-flight stream completes, exit 0
curl -sN "http://127.0.0.1:$PORT/api/generate" \
        -d '{"model":"story","prompt":"Once upon a time","raw":true,"options":{"num_predict":40,"temperature":0}}' >"$TMP/g.out" 2>/dev/null & pg=$!
for _ in $(seq 1 50); do [ -s "$TMP/g.out" ] && break; sleep 0.1; done
stop_server
wait "$pg"
if [ "$SRV_RC" = 0 ]; then pass "serve: SIGTERM exits 0"; else fail "serve: SIGTERM exit" "rc $SRV_RC"; fi
if tail -1 "$TMP/g.out" | grep -q '"done":true'; then pass "serve: in-flight request finishes during shutdown"
else fail "serve: graceful" "$(tail -c 200 "$TMP/g.out")"; fi

# ---- auth and CORS
expect_rc "serve: non-loopback bind needs a key" 2 "$MU" serve --host 0.0.0.0:0
expect_grep "serve: says why" 'api-key' "$ERR"
if start_server auth --api-key sekret --origins 'https://app.example'; then
        http GET / ""; expect_code "serve: / needs no key" 200
        http GET /api/tags ""; expect_code "serve: no key is 401" 401
        http GET /api/tags "" -H 'Authorization: Bearer wrong'; expect_code "serve: wrong key is 401" 401
        http GET /api/tags "" -H 'Authorization: Bearer sekret'; expect_code "serve: right key is 200" 200
        http GET /v1/models ""; expect_code "serve: /v1 needs the key too" 401
        expect_grep "serve: /v1 401 in OpenAI shape" '"error":\{"message"' "$BODY"
        MULLAMA_HOST=127.0.0.1:$PORT MULLAMA_API_KEY=sekret "$MU" ps >/dev/null 2>&1 && pass "serve: mullama ps sends the key" || fail "serve: mullama ps with key"
        curl -s -D "$TMP/h" -o /dev/null -H 'Origin: http://localhost:3000' -H 'Authorization: Bearer sekret' "http://127.0.0.1:$PORT/api/tags"
        if grep -qi '^Access-Control-Allow-Origin: http://localhost:3000' "$TMP/h"; then pass "serve: CORS allows localhost origins"
        else fail "serve: CORS localhost" "$(cat "$TMP/h")"; fi
        http GET /api/tags "" -H 'Origin: https://evil.example' -H 'Authorization: Bearer sekret'; expect_code "serve: other origins are 403" 403
        http GET /api/tags "" -H 'Origin: https://app.example' -H 'Authorization: Bearer sekret'; expect_code "serve: --origins adds an origin" 200
        curl -s -D "$TMP/h" -o /dev/null -X OPTIONS -H 'Origin: https://app.example' \
                -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: authorization,content-type' \
                "http://127.0.0.1:$PORT/api/chat"
        if grep -q '^HTTP/1.1 204' "$TMP/h" && grep -qi '^Access-Control-Allow-Headers: authorization,content-type' "$TMP/h"; then
                pass "serve: CORS preflight without a key"; else fail "serve: preflight" "$(cat "$TMP/h")"; fi
        stop_server
else fail "serve: auth server starts" "$(cat "$SRV_LOG")"; fi

# ---- small body cap; LRU under --max-loaded 1
if start_server cap --max-body 1k --max-loaded 1; then
        http POST /api/generate "{\"model\":\"story\",\"prompt\":\"$(head -c 4000 /dev/zero | tr '\0' a)\"}" -H 'Expect:'
        expect_code "serve: body over --max-body is 413" 413
        http POST /api/generate '{"model":"story","prompt":"Once","raw":true,"stream":false,"options":{"num_predict":1}}'
        http POST /api/generate '{"model":"smol","prompt":"Hi","stream":false,"options":{"num_predict":1}}'
        http GET /api/ps ""
        if printf '%s' "$BODY" | pyjson 'n=[x["name"] for x in d["models"]]; assert n==["smol:latest"], n'; then
                pass "serve: least recently used model unloaded for the next"
        else fail "serve: LRU" "$BODY"; fi
        stop_server
else fail "serve: cap server starts" "$(cat "$SRV_LOG")"; fi
exit 0
