# CLI: batched decoding of parallel slots (decode groups).
#  - `serve --parallel 4` answering concurrent greedy requests (different
#    prompts, lengths, stop strings, streaming or not, one client that
#    disconnects mid-stream) with exactly the text of `serve --no-batch
#    --parallel 1`, and /api/ps showing that steps were shared.
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
m=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
if [ -z "$m" ]; then
        skip "serve_batch: all" "SmolLM2 not in tests/models (make models)"
        exit 0
fi
trap 'stop_server; rm -rf "$TMP"' EXIT
# Both servers on the scalar table, where the multi-row matmul gives the
# one-row path's bits: batched answers must equal one-at-a-time ones token
# for token (the avx2 and avx512 tables' multi-row and one-row kernels sum
# in different orders: see tests/test_decode_group.c).
export MULLAMA_CPU=scalar
# run_clients OUTDIR: 4 concurrent requests + one that disconnects
run_clients() {
        local d=$1 i
        mkdir -p "$d"
        local p0='"prompt":"Once upon a time","options":{"temperature":0,"num_predict":24}'
        local p1='"prompt":"The capital of France is","options":{"temperature":0,"num_predict":16}'
        local p2='"prompt":"List three colors:","options":{"temperature":0,"num_predict":30,"stop":["\n\n"]}'
        local p3='"prompt":"def fib(n):","options":{"temperature":0,"num_predict":20}'
        local bodies=("$p0" "$p1" "$p2" "$p3")
        curl -s -N --max-time 2 "http://127.0.0.1:$PORT/api/generate" \
                -d "{\"model\":\"$m\",\"raw\":true,\"prompt\":\"Tell me a long story\",\"options\":{\"temperature\":0,\"num_predict\":400}}" \
                >/dev/null 2>&1 &
        local cpid=$!
        local pids=()
        for i in 0 1 2 3; do
                local stream=false; [ "$i" = 2 ] && stream=true
                curl -s "http://127.0.0.1:$PORT/api/generate" \
                        -d "{\"model\":\"$m\",\"raw\":true,\"stream\":$stream,${bodies[$i]}}" >"$d/$i.json" &
                pids+=($!)
        done
        wait "${pids[@]}" "$cpid" 2>/dev/null
        for i in 0 1 2 3; do
                python3 - "$d/$i.json" >"$d/$i.txt" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]).read().split("\n") if l.strip()]
print("".join(o.get("response", "") for o in objs) + "|" + str(objs[-1].get("done_reason")))
PY
        done
}

if ! start_server ref --parallel 1 --no-batch --max-queue 16; then
        fail "serve_batch: reference server starts" "$(cat "$SRV_LOG")"; exit 1
fi
run_clients "$TMP/ref"
stop_server

if ! start_server batch --parallel 4 --max-queue 16; then
        fail "serve_batch: batched server starts" "$(cat "$SRV_LOG")"; exit 1
fi
# load first, so the 4 requests start together
curl -s "http://127.0.0.1:$PORT/api/generate" -d "{\"model\":\"$m\",\"prompt\":\"hi\",\"raw\":true,\"stream\":false,\"options\":{\"num_predict\":1}}" >/dev/null
run_clients "$TMP/bat"
same=1
for i in 0 1 2 3; do
        if ! cmp -s "$TMP/ref/$i.txt" "$TMP/bat/$i.txt"; then
                same=0
                fail "serve_batch: request $i same text as one at a time" \
                        "batched: $(head -c 200 "$TMP/bat/$i.txt") / alone: $(head -c 200 "$TMP/ref/$i.txt")"
        fi
done
[ "$same" = 1 ] && pass "serve_batch: 4 concurrent greedy answers equal one-at-a-time ones"
expect_grep "serve_batch: stop string honoured" '\|stop$' "$(cat "$TMP/bat/2.txt")"
expect_grep "serve_batch: num_predict honoured" '\|length$' "$(cat "$TMP/bat/1.txt")"
http GET /api/ps ""
if printf '%s' "$BODY" | pyjson 'm=d["models"][0]; s,t=m["decode_steps"],m["decode_tokens"]; print(s,t); sys.exit(0 if t > s > 0 else 1)' >"$TMP/ps" 2>&1; then
        pass "serve_batch: slots shared decode steps ($(cat "$TMP/ps") steps/tokens)"
else
        fail "serve_batch: slots shared decode steps" "$BODY"
fi
# the server still answers after the disconnect
http POST /api/generate "{\"model\":\"$m\",\"prompt\":\"Hi\",\"raw\":true,\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":4}}"
expect_code "serve_batch: serves after a client disconnected mid-batch" 200
stop_server
[ "${SRV_RC:-1}" = 0 ] && pass "serve_batch: clean exit" || fail "serve_batch: clean exit" "rc ${SRV_RC:-?}"
exit $_failed
