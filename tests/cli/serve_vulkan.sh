# CLI: `serve --gpu-layers` and a request's options.num_gpu on a Vulkan
# device (Mesa's lavapipe when there is no GPU): the same greedy text as the
# CPU, the offload reported in the log and in /api/ps size_vram, a request
# asking for another num_gpu reloads the model.  No device: SKIP.
. tests/cli/lib.sh
. tests/cli/serve_lib.sh
if [ -n "${MULLAMA_ASAN:-}" ]; then  # lavapipe's own blocks (see vulkan.sh)
        export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi
s=$(model stories260K.gguf)
if [ -z "$s" ]; then skip "serve_vulkan: all" "stories260K.gguf not in tests/models"; exit 0; fi
trap 'stop_server; rm -rf "$TMP"' EXIT

expect_rc "serve_vulkan: bad --gpu-layers is a usage error" 2 "$MU" serve --gpu-layers lots
expect_grep "serve_vulkan: bad --gpu-layers names the flag" 'gpu-layers' "$ERR"

"$MU" devices >"$TMP/dev" 2>&1
if ! grep -q '^0 ' "$TMP/dev"; then
        skip "serve_vulkan: offload" "no Vulkan device (install mesa-vulkan-drivers for lavapipe)"
        exit $_failed
fi
export MULLAMA_VULKAN_DEVICE=0
gen() { # gen [extra options JSON]: greedy text of 32 tokens into $TEXT
        http POST /api/generate "{\"model\":\"$s\",\"prompt\":\"Once upon a time\",\"raw\":true,\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":32${1:+,$1}}}"
        TEXT=$(printf '%s' "$BODY" | pyjson 'print(d["response"])' 2>/dev/null)
}
vram() { http GET /api/ps ""; printf '%s' "$BODY" | pyjson 'print(d["models"][0]["size_vram"])' 2>/dev/null; }

if ! start_server cpu --gpu-layers 0; then fail "serve_vulkan: CPU server starts" "$(cat "$SRV_LOG")"; exit 1; fi
gen; cpu=$TEXT
expect_code "serve_vulkan: CPU answer" 200
[ -n "$cpu" ] && pass "serve_vulkan: CPU text not empty" || fail "serve_vulkan: CPU text not empty" "$BODY"
[ "$(vram)" = 0 ] && pass "serve_vulkan: --gpu-layers 0 has no size_vram" \
        || fail "serve_vulkan: --gpu-layers 0 has no size_vram" "$BODY"
if grep -q 'vulkan' "$SRV_LOG"; then fail "serve_vulkan: --gpu-layers 0 creates no device" "$(grep vulkan "$SRV_LOG")"
else pass "serve_vulkan: --gpu-layers 0 creates no device"; fi
# a request asking for 3 blocks on the device reloads the model
gen '"num_gpu":3'
[ "$TEXT" = "$cpu" ] && pass "serve_vulkan: num_gpu 3 request equals the CPU text" \
        || fail "serve_vulkan: num_gpu 3 request equals the CPU text" "got '$TEXT', want '$cpu'"
expect_grep "serve_vulkan: num_gpu 3 reloads" 'reloading .* with num_gpu 3' "$(cat "$SRV_LOG")"
expect_grep "serve_vulkan: num_gpu 3 offloads 3 blocks" 'offloaded 3/5 blocks' "$(cat "$SRV_LOG")"
v=$(vram); [ "${v:-0}" -gt 0 ] 2>/dev/null && pass "serve_vulkan: /api/ps size_vram after num_gpu 3 ($v)" \
        || fail "serve_vulkan: /api/ps size_vram after num_gpu 3" "$BODY"
# no num_gpu: the model stays as loaded
n=$(grep -c 'loading ' "$SRV_LOG"); gen
[ "$(grep -c 'loading ' "$SRV_LOG")" = "$n" ] && pass "serve_vulkan: no num_gpu keeps the loaded model" \
        || fail "serve_vulkan: no num_gpu keeps the loaded model" "$(cat "$SRV_LOG")"
stop_server

for n in all 2; do
        if ! start_server gpu$n --gpu-layers $n --parallel 2; then
                fail "serve_vulkan: --gpu-layers $n starts" "$(cat "$SRV_LOG")"; continue
        fi
        gen
        [ "$TEXT" = "$cpu" ] && pass "serve_vulkan: --gpu-layers $n answers the CPU's text" \
                || fail "serve_vulkan: --gpu-layers $n answers the CPU's text" "got '$TEXT', want '$cpu'"
        want=$([ $n = all ] && echo '5/5 blocks and the output layer' || echo '2/5 blocks')
        expect_grep "serve_vulkan: --gpu-layers $n offload logged" "offloaded $want" "$(cat "$SRV_LOG")"
        v=$(vram); [ "${v:-0}" -gt 0 ] 2>/dev/null && pass "serve_vulkan: --gpu-layers $n size_vram ($v)" \
                || fail "serve_vulkan: --gpu-layers $n size_vram" "$BODY"
        # two slots on the device at once
        pids=()
        for i in 1 2; do
                curl -s "http://127.0.0.1:$PORT/api/generate" -d "{\"model\":\"$s\",\"prompt\":\"Once upon a time\",\"raw\":true,\"stream\":false,\"options\":{\"temperature\":0,\"num_predict\":32}}" >"$TMP/par$i" &
                pids+=($!)
        done
        wait "${pids[@]}"
        ok=1
        for i in 1 2; do
                t=$(pyjson 'print(d["response"])' <"$TMP/par$i" 2>/dev/null)
                [ "$t" = "$cpu" ] || ok=0
        done
        [ $ok = 1 ] && pass "serve_vulkan: --gpu-layers $n two concurrent slots answer the CPU's text" \
                || fail "serve_vulkan: --gpu-layers $n two concurrent slots" "$(cat "$TMP/par1" "$TMP/par2" | head -c 400)"
        stop_server
        [ "${SRV_RC:-1}" = 0 ] && pass "serve_vulkan: --gpu-layers $n clean exit" \
                || fail "serve_vulkan: --gpu-layers $n clean exit" "rc ${SRV_RC:-?}"
done
exit $_failed
