# CLI: `mullama show` on every test model (values checked against numbers
# computed independently: tests/models/README.md and
# tests/data/show/expected.txt, made by tests/data/show/count_params.py),
# every flag, path forms, store names and bad inputs.
. tests/cli/lib.sh

# jnum KEY: a top-level number (or string, unquoted) from pretty cJSON in $OUT
jval() { printf '%s\n' "$OUT" | sed -n "s/^	\"$1\":	\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n1; }
check_eq() { # name got want
        if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', expected '$3'"; fi
}

n_models=0
for f in tests/models/*.gguf tests/models/vocab/*.gguf; do
        [ -r "$f" ] || continue
        n_models=$((n_models + 1))
        b=$(basename "$f")
        exp=$(grep "^$b " tests/data/show/expected.txt)
        expect_rc "show: $b exits 0" 0 "$MU" show "$f"
        expect_grep "show: $b names the architecture" '^    architecture ' "$OUT"
        expect_rc "show: $b --json exits 0" 0 "$MU" show --json "$f"
        if [ -z "$exp" ]; then fail "show: $b has expected values"; continue; fi
        for k in tensors params bytes vocab; do
                want=$(printf '%s\n' "$exp" | tr ' ' '\n' | sed -n "s/^$k=//p")
                case $k in
                tensors) key=tensor_count ;; params) key=parameter_count ;;
                bytes) key=tensor_bytes ;; vocab) key=vocab_size ;;
                esac
                check_eq "show: $b --json $key" "$(jval $key)" "$want"
        done
done
[ "$n_models" -ge 4 ] || skip "show: models" "only $n_models test models present (run make models)"

S=$(model stories260K.gguf)
if [ -n "$S" ]; then
        # README facts: 292,800 stored params in 48 tensors, dim 64, 5 layers,
        # 8 heads, 4 KV heads, ctx 2048, 512 tokens, all F32
        expect_rc "show: stories260K --json" 0 "$MU" show --json "$S"
        check_eq "show: stories260K parameter_count" "$(jval parameter_count)" 292800
        check_eq "show: stories260K tensor_count" "$(jval tensor_count)" 48
        check_eq "show: stories260K parameter_size" "$(jval parameter_size)" 293K
        check_eq "show: stories260K context_length" "$(jval context_length)" 2048
        check_eq "show: stories260K embedding_length" "$(jval embedding_length)" 64
        check_eq "show: stories260K block_count" "$(jval block_count)" 5
        check_eq "show: stories260K head_count" "$(jval head_count)" 8
        check_eq "show: stories260K head_count_kv" "$(jval head_count_kv)" 4
        check_eq "show: stories260K quantization" "$(jval quantization)" F32
        check_eq "show: stories260K chat_template" "$(jval chat_template)" false
        expect_grep "show: stories260K completion capability" '"completion"' "$OUT"
        expect_rc "show: stories260K text" 0 "$MU" show "$S"
        expect_grep "show: text parameters 293K" '^    parameters +293K$' "$OUT"
        expect_grep "show: text heads 8 / 4" '^    heads / KV heads +8 / 4$' "$OUT"
        expect_grep "show: text F32 histogram" '^    F32 +48 tensors' "$OUT"
        expect_grep "show: text rope default" 'rope freq base +not set' "$OUT"
        expect_rc "show: -v" 0 "$MU" show -v "$S"
        expect_grep "show: -v abbreviates arrays" \
                '^    tokenizer.ggml.tokens +\[ "<unk>", "<s>", "</s>", \.\.\. 512 items \]$' "$OUT"
        expect_grep "show: -v tensor table" '^    token_embd.weight +F32 +\[64, 512\] +131072 +-$' "$OUT"
        expect_grep "show: -v tensor layer" '^    blk.4.ffn_down.weight +F32 +\[172, 64\] +44032 +4$' "$OUT"
        expect_rc "show: --layers" 0 "$MU" show --layers "$S"
        expect_grep "show: --layers block 4" '^    4 +9 ' "$OUT"
        expect_grep "show: --layers non-block" '^    non-block +3 ' "$OUT"
        expect_grep "show: --layers total bytes" '^    total +48 +293K +1171200 ' "$OUT"
        expect_rc "show: --json -v" 0 "$MU" show --json -v "$S"
        expect_grep "show: --json -v metadata" '"llama.feed_forward_length":	172' "$OUT"
        expect_rc "show: --modelfile" 0 "$MU" show --modelfile "$S"
        expect_grep "show: --modelfile FROM" "^FROM $S\$" "$OUT"
        expect_rc "show: --template (none) exits 0" 0 "$MU" show --template "$S"
        check_eq "show: --template (none) prints nothing" "$OUT" ""
        # path forms: relative, ./, ~/, no .gguf extension
        expect_rc "show: relative path" 0 "$MU" show tests/models/stories260K.gguf
        expect_rc "show: ./ path" 0 "$MU" show ./tests/models/stories260K.gguf
        cp "$S" "$HOME/s.gguf"
        expect_rc "show: ~/ path" 0 "$MU" show '~/s.gguf'
        cp "$S" "$TMP/model.bin"
        expect_rc "show: path without .gguf" 0 "$MU" show "$TMP/model.bin"
        # store names
        printf 'FROM %s\nPARAMETER temperature 0.5\nPARAMETER stop "<x>"\nSYSTEM be brief\nLICENSE MIT\n' \
                "$S" > "$TMP/Modelfile"
        if "$MU" create tiny -f "$TMP/Modelfile" >/dev/null 2>&1; then
                expect_rc "show: store name" 0 "$MU" show tiny
                expect_grep "show: store name shown" '^    name +tiny:latest$' "$OUT"
                expect_grep "show: store parameters" '^    temperature +0.5$' "$OUT"
                expect_rc "show: store --parameters" 0 "$MU" show --parameters tiny
                expect_grep "show: store --parameters stop" '^stop +"<x>"$' "$OUT"
                expect_rc "show: store --system" 0 "$MU" show --system tiny
                check_eq "show: store --system text" "$OUT" "be brief"
                expect_rc "show: store --license" 0 "$MU" show --license tiny
                check_eq "show: store --license text" "$OUT" "MIT"
                expect_rc "show: store --json" 0 "$MU" show --json tiny:latest
                check_eq "show: store --json parameter_count" "$(jval parameter_count)" 292800
                expect_rc "show: store --modelfile" 0 "$MU" show --modelfile tiny
                expect_grep "show: store --modelfile PARAMETER" '^PARAMETER temperature 0.5$' "$OUT"
                expect_grep "show: store --modelfile FROM blob" '^FROM .*/blobs/sha256-[0-9a-f]{64}$' "$OUT"
        else
                fail "show: mullama create for the store test"
        fi
        # --modelfile output is a Modelfile: text ending in a quote or holding """
        # comes back unchanged through create -f
        printf 'FROM %s\nSYSTEM "say \\"hi\\""\nMESSAGE user "a \\"\\"\\" b"\n' "$S" > "$TMP/Modelfile.q"
        if "$MU" create quoty -f "$TMP/Modelfile.q" >/dev/null 2>&1 &&
           "$MU" show --modelfile quoty > "$TMP/Modelfile.q2" 2>/dev/null &&
           "$MU" create quoty2 -f "$TMP/Modelfile.q2" >/dev/null 2>&1; then
                expect_rc "show: re-created --system" 0 "$MU" show --system quoty2
                check_eq "show: --modelfile round trip keeps a final quote" "$OUT" 'say "hi"'
                expect_rc "show: re-created --modelfile" 0 "$MU" show --modelfile quoty2
                expect_grep "show: --modelfile round trip keeps a triple quote" '^MESSAGE user "a \\"\\"\\" b"$' "$OUT"
        else
                fail "show: --modelfile round trip of quotes" "$(cat "$TMP/Modelfile.q2" 2>&1 | tail -3)"
        fi
        # bad inputs
        head -c 5000 "$S" > "$TMP/trunc.gguf"
        expect_rc "show: truncated file exits 1" 1 "$MU" show "$TMP/trunc.gguf"
        expect_grep "show: truncated file says truncated" '^error: .*truncated' "$ERR"
        check_eq "show: truncated file error is one line" "$(printf '%s\n' "$ERR" | wc -l)" 1
        check_eq "show: truncated file prints nothing on stdout" "$OUT" ""
fi

M=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
if [ -n "$M" ]; then
        expect_rc "show: SmolLM2 --json" 0 "$MU" show --json "$M"
        check_eq "show: SmolLM2 parameter_size" "$(jval parameter_size)" 134.52M
        check_eq "show: SmolLM2 quantization" "$(jval quantization)" Q4_1
        check_eq "show: SmolLM2 tokenizer_pre" "$(jval tokenizer_pre)" smollm
        check_eq "show: SmolLM2 chat_template" "$(jval chat_template)" true
        expect_rc "show: SmolLM2 --template" 0 "$MU" show --template "$M"
        expect_grep "show: SmolLM2 template is ChatML" '<\|im_start\|>' "$OUT"
        expect_rc "show: SmolLM2 --license" 0 "$MU" show --license "$M"
        check_eq "show: SmolLM2 license" "$OUT" apache-2.0
else
        skip "show: SmolLM2" "model not in tests/models"
fi
G=$(model gemma-3-270m-q4_k_m.gguf)
if [ -n "$G" ]; then
        expect_rc "show: gemma text" 0 "$MU" show "$G"
        expect_grep "show: gemma Q4_K_M" '^    quantization +Q4_K_M$' "$OUT"
        expect_grep "show: gemma Q6_K tensors" '^    Q6_K ' "$OUT"
else
        skip "show: gemma" "model not in tests/models"
fi
V=$(model vocab/ggml-vocab-bert-bge.gguf)
if [ -n "$V" ]; then
        expect_rc "show: bert vocab --json" 0 "$MU" show --json "$V"
        expect_grep "show: bert is an embedding model" '"embedding"' "$OUT"
fi

: > "$TMP/empty.gguf"
expect_rc "show: empty file exits 1" 1 "$MU" show "$TMP/empty.gguf"
expect_grep "show: empty file says so" '^error: .*empty' "$ERR"
expect_rc "show: directory exits 1" 1 "$MU" show "$TMP"
expect_grep "show: directory says so" "is a directory" "$ERR"
expect_rc "show: missing file exits 3" 3 "$MU" show ./no-such-file.gguf
expect_grep "show: missing file names it" "no-such-file.gguf" "$ERR"
expect_rc "show: unknown model exits 3" 3 "$MU" show no-such-model
expect_grep "show: unknown model names it" "model 'no-such-model' not found" "$ERR"
expect_rc "show: no argument exits 2" 2 "$MU" show
expect_rc "show: two arguments exit 2" 2 "$MU" show a b
expect_rc "show: two output flags exit 2" 2 "$MU" show --template --license x
exit $_failed
