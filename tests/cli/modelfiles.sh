# Every example in modelfiles/ creates a model, and the store keeps what the
# file says: parameters (read here with awk, independently of the C parser),
# SYSTEM, TEMPLATE, MESSAGE count; `show --modelfile` recreates an identical
# model; the stories260K examples run with their parameters in effect.
. tests/cli/lib.sh

# the value of the first DIRECTIVE in FILE: a """...""" block, a "..." string
# or the rest of the line
directive() { # FILE DIRECTIVE
        awk -v d="$2" '
                blk { i = index($0, "\"\"\""); if (i) { printf "%s", substr($0, 1, i - 1); exit }
                      print; next }
                toupper($1) == d {
                        v = $0; sub(/^[ \t]*[A-Za-z_]+[ \t]+/, "", v)
                        if (substr(v, 1, 3) == "\"\"\"") {
                                v = substr(v, 4); i = index(v, "\"\"\"")
                                if (i) { printf "%s", substr(v, 1, i - 1); exit }
                                print v; blk = 1; next
                        }
                        if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2)
                        printf "%s", v; exit
                }' "$1"
}
# "name value" per parameter the file sets (extensions mapped to Ollama's names)
file_params() {
        awk '{ k = toupper($1); v = $0; sub(/^[ \t]*[A-Za-z_]+[ \t]+/, "", v) }
                k == "PARAMETER" { n = $2; sub(/^[^ \t]+[ \t]+/, "", v); print n, v }
                k == "GPU_LAYERS" { print "num_gpu", v }
                k == "THREADS" { print "num_thread", v }
                k == "CONTEXT" { print "num_ctx", v }
                k == "FLASH_ATTENTION" { print "flash_attention", (tolower(v) == "on" ? "true" : "false") }' "$1" |
                norm_params
}
# one space, no quotes, numbers as %g (1.0 and 1 are the same value)
norm_params() {
        sed -E 's/[ \t]+/ /g; s/ "(.*)"$/ \1/' |
                awk '{ k = $1; v = $0; sub(/^[^ ]+ /, "", v)
                       if (v ~ /^-?[0-9]+(\.[0-9]+)?$/) v = sprintf("%g", v); print k, v }' | sort
}
show_params() { "$MU" show --parameters "$1" | norm_params; }
strip_header() { grep -v '^#'; }

n=0
for f in modelfiles/*.Modelfile; do
        b=$(basename "$f" .Modelfile)
        from=$(directive "$f" FROM)
        if [ ! -e "modelfiles/$from" ]; then
                skip "modelfiles: $b" "FROM $from not there (run make models)"
                continue
        fi
        n=$((n + 1))
        m=ex-$(printf '%s' "$b" | tr 'A-Z' 'a-z')
        expect_rc "modelfiles: $b creates" 0 "$MU" create "$m" -f "$f"
        want=$(file_params "$f")
        got=$(show_params "$m")
        [ "$got" = "$want" ] && pass "modelfiles: $b parameters stored" ||
                fail "modelfiles: $b parameters stored" "file: $(echo $want) / show: $(echo $got)"
        for d in SYSTEM TEMPLATE; do
                grep -qi "^$d" "$f" || continue
                lc=$(printf '%s' "$d" | tr 'A-Z' 'a-z')
                # show prints the text and a newline
                if [ "$("$MU" show --"$lc" "$m")" = "$(directive "$f" "$d")" ]; then
                        pass "modelfiles: $b $d stored"
                else
                        fail "modelfiles: $b $d stored" "$("$MU" show --"$lc" "$m" | head -c 200)"
                fi
        done
        wantmsg=$(grep -ci '^MESSAGE' "$f")
        gotmsg=$("$MU" show --modelfile "$m" | grep -c '^MESSAGE')
        [ "$gotmsg" = "$wantmsg" ] && pass "modelfiles: $b $wantmsg MESSAGE lines stored" ||
                fail "modelfiles: $b $wantmsg MESSAGE lines stored" "show has $gotmsg"
        # round trip: the printed Modelfile makes the same model
        "$MU" show --modelfile "$m" >"$TMP/rt.Modelfile"
        expect_rc "modelfiles: $b show --modelfile creates" 0 "$MU" create "$m-rt" -f "$TMP/rt.Modelfile"
        if [ "$("$MU" show --modelfile "$m-rt" | strip_header)" = "$(strip_header <"$TMP/rt.Modelfile")" ]; then
                pass "modelfiles: $b round trip is identical"
        else
                fail "modelfiles: $b round trip is identical" \
                        "$(diff <("$MU" show --modelfile "$m-rt" | strip_header) <(strip_header <"$TMP/rt.Modelfile") | head -5)"
        fi
done
[ $n -ge 1 ] && pass "modelfiles: $n examples created" || fail "modelfiles: no example could be created"

# parameters from the Modelfile take effect when the model runs
if "$MU" list -q | grep -qx 'ex-sampling:latest'; then
        expect_rc "modelfiles: sampling runs" 0 "$MU" run ex-sampling "Once upon a time"
        first=$OUT
        expect_rc "modelfiles: sampling runs again" 0 "$MU" run ex-sampling "Once upon a time"
        [ -n "$first" ] && [ "$OUT" = "$first" ] && pass "modelfiles: seed 42 from the Modelfile repeats the answer" ||
                fail "modelfiles: seed 42 from the Modelfile repeats the answer" "'$first' vs '$OUT'"
        case "$first" in *"Once upon"* | *"</s>"*) fail "modelfiles: stop strings never printed" "$first" ;;
        *) pass "modelfiles: stop strings never printed" ;; esac
        ntok=$("$MU" run --verbose ex-sampling "Once upon a time" 2>&1 >/dev/null | sed -n 's/^eval count: *\([0-9]*\).*/\1/p')
        [ -n "$ntok" ] && [ "$ntok" -le 128 ] && pass "modelfiles: num_predict 128 bounds the answer ($ntok tokens)" ||
                fail "modelfiles: num_predict 128 bounds the answer" "eval count '$ntok'"
else
        skip "modelfiles: sampling runs" "stories260K not in tests/models"
fi
if "$MU" list -q | grep -qx 'ex-stories260k:latest'; then
        # TEMPLATE {{ .Prompt }} + temperature 0: the greedy continuation of the
        # bare prompt, the same as --raw gives
        expect_rc "modelfiles: stories260K runs" 0 "$MU" run ex-stories260k "Once upon a time"
        t=$OUT
        expect_rc "modelfiles: stories260K raw run" 0 "$MU" run --raw --temperature 0 -n 64 tests/models/stories260K.gguf "Once upon a time"
        [ -n "$t" ] && [ "$t" = "$OUT" ] && pass "modelfiles: TEMPLATE {{ .Prompt }} is the raw prompt" ||
                fail "modelfiles: TEMPLATE {{ .Prompt }} is the raw prompt" "'$t' vs '$OUT'"
fi
exit $_failed
