# CLI: engine-facing behaviour of `mullama run`: the memory estimate that
# --verbose prints before loading (weights + KV cache + scratch, in the KV
# type chosen by OLLAMA_KV_CACHE_TYPE / MULLAMA_KV_CACHE_TYPE), and one-line
# errors naming an unsupported architecture.
. tests/cli/lib.sh
S=$(model stories260K.gguf)
M=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
if [ -z "$S" ]; then
        skip "engine cli" "stories260K.gguf not in tests/models (run make models)"
        exit 0
fi
expect_rc "run --verbose" 0 "$MU" run --verbose --raw --temperature 0 -n 4 "$S" "Once"
expect_grep "run --verbose: memory estimate" \
        '^memory estimate: [0-9.]+ MiB = weights 1\.1 MiB \+ KV cache [0-9.]+ MiB \(2048 tokens, F16\) \+ scratch [0-9.]+ MiB' "$ERR"
expect_rc "run --verbose --ctx 256" 0 "$MU" run --verbose --raw --temperature 0 -n 4 --ctx 256 "$S" "Once"
expect_grep "memory estimate follows num_ctx" 'KV cache 0\.[0-9]+ MiB \(256 tokens, F16\)' "$ERR"
expect_rc "run: no estimate without --verbose" 0 "$MU" run --raw --temperature 0 -n 4 "$S" "Once"
if printf '%s' "$ERR" | grep -q "memory estimate"; then fail "run: stderr quiet without --verbose"
else pass "run: stderr quiet without --verbose"; fi
if [ -n "$M" ]; then
        expect_rc "run: q8_0 KV cache" 0 env OLLAMA_KV_CACHE_TYPE=q8_0 "$MU" run --verbose --raw \
                --temperature 0 -n 8 --ctx 512 "$M" "The capital of France is"
        expect_grep "q8_0 KV cache in the estimate" '\(512 tokens, Q8_0\)' "$ERR"
        expect_grep "q8_0 KV cache answers" 'Paris' "$OUT"
fi
expect_rc "run: unsupported KV head dims" 1 env MULLAMA_KV_CACHE_TYPE=q8_0 "$MU" run --raw -n 4 "$S" "Once"
expect_grep "run: KV error says why" 'q8_0.*multiples of 32' "$ERR"
# an architecture the engine does not run: named in a one-line error
python3 - "$S" "$TMP/mamba.gguf" <<'PY' 2>/dev/null || true
import sys
d = open(sys.argv[1], "rb").read()
k = d.find(b"general.architecture")
i = d.find(b"llama", k, k + 64)  # its value (same length: offsets stay valid)
assert k > 0 and i > 0
open(sys.argv[2], "wb").write(d[:i] + b"mamba" + d[i + 5:])
PY
if [ -s "$TMP/mamba.gguf" ]; then
        expect_rc "run: unsupported architecture" 1 "$MU" run --raw -n 4 "$TMP/mamba.gguf" "Once"
        expect_grep "run: error names the architecture" "unsupported architecture 'mamba'" "$ERR"
        [ "$(printf '%s\n' "$ERR" | wc -l)" -le 2 ] && pass "run: architecture error is short" ||
                fail "run: architecture error is short" "$ERR"
fi
exit $_failed
