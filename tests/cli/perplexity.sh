# CLI: `mullama perplexity` against llama.cpp's llama-perplexity on the same
# text and chunking (tests/data/perplexity/expected.txt, made by
# tools/perplexity-golden.sh), and the quality of quantized models measured
# the same way against their source (Q8_0 within 1%, the Q4_K_M mix within 25%).
. tests/cli/lib.sh
S=$(model stories260K.gguf)
TXT=tests/data/perplexity/story.txt
if [ -z "$S" ]; then
        skip "perplexity" "stories260K.gguf not in tests/models (run make models)"
        exit 0
fi
ppl_of() { printf '%s\n' "$1" | sed -n 's/.*perplexity \([0-9.]*\)$/\1/p'; }

expect_rc "perplexity: stories260K" 0 "$MU" perplexity "$S" "$TXT" --ctx 64 --threads 1
base=$(ppl_of "$OUT")
want=$(awk '$1 == "stories260K.gguf" { print $2 }' tests/data/perplexity/expected.txt)
if awk -v a="$base" -v b="$want" 'BEGIN { exit !(b > 0 && (a - b < 0.001 && b - a < 0.001)) }'; then
        pass "perplexity: equals llama-perplexity ($base)"
else
        fail "perplexity: equals llama-perplexity" "got '$base', llama.cpp '$want'"
fi
expect_rc "perplexity: same with 2 threads, q8_0 kv unsupported here -> f32" 0 \
        "$MU" perplexity "$S" "$TXT" --ctx 64 --threads 2 --kv-type f32
got=$(ppl_of "$OUT")
awk -v a="$got" -v b="$base" 'BEGIN { exit !(a - b < 0.01 && b - a < 0.01) }' &&
        pass "perplexity: f32 kv close to f16 kv" || fail "perplexity: f32 kv close to f16 kv" "$got vs $base"

for q in "Q8_0 1.01" "Q4_K_M 1.25"; do
        set -- $q
        "$MU" quantize "$S" "$TMP/s-$1.gguf" "$1" 2>/dev/null
        expect_rc "perplexity: $1" 0 "$MU" perplexity "$TMP/s-$1.gguf" "$TXT" --ctx 64
        p=$(ppl_of "$OUT")
        if awk -v a="$p" -v b="$base" -v r="$2" 'BEGIN { exit !(a > 0 && a <= b * r) }'; then
                pass "perplexity: $1 within x$2 of F32 ($p vs $base)"
        else
                fail "perplexity: $1 within x$2 of F32" "$p vs $base"
        fi
done

expect_rc "perplexity: text too short" 2 "$MU" perplexity "$S" tests/data/perplexity/expected.txt --ctx 512
expect_grep "perplexity: says why" "need at least" "$ERR"
expect_rc "perplexity: missing file" 3 "$MU" perplexity "$S" "$TMP/none.txt"
expect_rc "perplexity: bad kv type" 2 "$MU" perplexity "$S" "$TXT" --kv-type q4_0
exit $_failed
