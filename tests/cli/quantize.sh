# CLI: `mullama quantize` and `create --quantize` against llama.cpp's
# llama-quantize: for every (input, type) in tests/data/quantize/cases.sh the
# output's SHA-256 must equal the one llama-quantize gave on the same input
# (tests/data/quantize/expected.sha256, made by tools/quantize-goldens.sh).
# Also: the quantized models load and generate; bad arguments fail cleanly.
. tests/cli/lib.sh
. tests/data/quantize/cases.sh
TB=${MULLAMA_TESTBIN:-$PWD/tests/mullama-test}
EXP=tests/data/quantize/expected.sha256

if [ -z "$(model stories260K.gguf)" ]; then
        skip "quantize" "stories260K.gguf not in tests/models (run make models)"
        exit 0
fi
# the synthetic F32 llama model of tests/test_synth.c (deterministic bytes)
MULLAMA_SYNTH_OUT=$TMP "$TB" synth_llama_matches >/dev/null 2>&1
if [ ! -s "$TMP/synth-llama.gguf" ]; then
        fail "quantize: synthetic model written"
        exit 1
fi
"$MU" quantize "$TMP/synth-llama.gguf" "$TMP/synth-llama-Q8_0.gguf" Q8_0 2>/dev/null

for c in "${QUANT_CASES[@]}"; do
        set -- $c
        in=$1; type=$2
        case $in in
        synth-llama*) path=$TMP/$in.gguf ;;
        *) path=$(model "$in") ;;
        esac
        if [ -z "$path" ] || [ ! -r "$path" ]; then
                skip "quantize: $in $type" "input missing"; continue
        fi
        want=$(awk -v i="$in" -v t="$type" '$2 == i && $3 == t { print $1 }' "$EXP")
        if ! "$MU" quantize "$path" "$TMP/q.gguf" "$type" 2>"$TMP/err"; then
                fail "quantize: $in $type" "$(head -c 300 "$TMP/err")"; continue
        fi
        got=$(sha256sum < "$TMP/q.gguf" | cut -d' ' -f1)
        if [ -n "$want" ] && [ "$got" = "$want" ]; then pass "quantize: $in $type equals llama-quantize"
        else fail "quantize: $in $type equals llama-quantize" "sha256 $got, expected '$want'"; fi
done

# the quantized model runs (greedy, raw) and show reports the file type
"$MU" quantize "$(model stories260K.gguf)" "$TMP/s-q8.gguf" q8_0 2>/dev/null
expect_rc "quantize: show the Q8_0 file" 0 "$MU" show "$TMP/s-q8.gguf"
expect_grep "quantize: show says Q8_0" 'quantization +Q8_0' "$OUT"
expect_rc "quantize: run the Q8_0 model" 0 "$MU" run --raw --temperature 0 \
        --param num_predict=16 "$TMP/s-q8.gguf" "Once upon a time"
expect_grep "quantize: the Q8_0 model writes text" '[a-z]+ [a-z]+' "$OUT"

# create --quantize: the model layer is llama-quantize's bytes
printf 'FROM %s\n' "$TMP/synth-llama.gguf" > "$TMP/Modelfile"
expect_rc "create --quantize q4_K_M" 0 "$MU" create synthq -f "$TMP/Modelfile" --quantize q4_K_M
expect_grep "create --quantize says so" 'quantizing F32 model to q4_K_M' "$ERR"
want=$(awk '$2 == "synth-llama" && $3 == "Q4_K_M" { print $1 }' "$EXP")
if [ -n "$want" ] && [ -f "$MULLAMA_MODELS/blobs/sha256-$want" ]; then
        pass "create --quantize stores llama-quantize's bytes"
else
        fail "create --quantize stores llama-quantize's bytes" "no blob sha256-$want"
fi
expect_rc "create --quantize from a model" 0 "$MU" create synthq8 --quantize q8_0 \
        -f <(printf 'FROM synthq\n')
expect_rc "show the requantized model" 0 "$MU" show synthq8
expect_grep "requantized model is Q8_0" 'quantization +Q8_0' "$OUT"

# errors
expect_rc "quantize: unknown type" 2 "$MU" quantize "$TMP/synth-llama.gguf" "$TMP/x.gguf" q4_9
expect_grep "quantize: unknown type is named" "q4_9" "$ERR"
expect_rc "quantize: missing input" 3 "$MU" quantize "$TMP/nope.gguf" "$TMP/x.gguf" q8_0
expect_rc "quantize: wrong argument count" 2 "$MU" quantize "$TMP/synth-llama.gguf"
expect_rc "create --quantize: unknown type" 2 "$MU" create x -f "$TMP/Modelfile" --quantize zz
[ ! -e "$TMP/x.gguf" ] && pass "quantize: no output on error" || fail "quantize: no output on error"
exit $_failed
