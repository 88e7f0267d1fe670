# CLI: create / list / cp / rm against a temp store (MULLAMA_MODELS from lib.sh).
. tests/cli/lib.sh

gguf=$(model llama-2-tiny-random.gguf)
mfile=$(model llama-2-tiny-random.Modelfile)
if [ -z "$gguf" ] || [ -z "$mfile" ]; then
        skip "store: create/list/cp/rm" "llama-2-tiny-random not in tests/models (run make models)"
        exit 0
fi
W=$TMP/work
mkdir -p "$W"
cp -L "$gguf" "$W/"
cp "$mfile" "$W/Modelfile"   # FROM llama-2-tiny-random.gguf (relative)
want_sha=$(sha256sum "$gguf" | cut -d' ' -f1)

# create, run from another directory: FROM resolves against the Modelfile's dir
expect_rc "store: create exits 0" 0 "$MU" create tiny -f "$W/Modelfile"
expect_grep "store: create says gathering" '^gathering model components$' "$ERR"
expect_grep "store: create shows copied digest" "^copying file sha256:$want_sha 100%$" "$ERR"
expect_grep "store: create says writing manifest" '^writing manifest$' "$ERR"
expect_grep "store: create ends with success" 'success$' "$(printf '%s' "$ERR" | tail -n1)"
[ -f "$MULLAMA_MODELS/blobs/sha256-$want_sha" ] && pass "store: model blob named by sha256sum" \
        || fail "store: model blob named by sha256sum"
man=$MULLAMA_MODELS/manifests/registry.ollama.ai/library/tiny/latest
expect_grep "store: manifest media type" '"mediaType":"application/vnd.docker.distribution.manifest.v2\+json"' "$(cat "$man" 2>/dev/null)"
expect_grep "store: params layer present" 'application/vnd.ollama.image.params' "$(cat "$man" 2>/dev/null)"
id=$(sha256sum "$man" | cut -c1-12)

expect_rc "store: list exits 0" 0 "$MU" list
expect_grep "store: list header" '^NAME +ID +SIZE +MODIFIED$' "$OUT"
expect_grep "store: list shows model, id, size" "^tiny:latest +$id +[0-9.]+ (B|KB|MB) +(Less than a second|[0-9]+ seconds?) ago$" "$OUT"
expect_rc "store: list --quiet" 0 "$MU" list --quiet
[ "$OUT" = "tiny:latest" ] && pass "store: list --quiet prints names only" \
        || fail "store: list --quiet prints names only" "got: $OUT"
expect_rc "store: list --json" 0 "$MU" list --json
expect_grep "store: list --json digest" "\"digest\":[[:space:]]*\"$(sha256sum "$man" | cut -d' ' -f1)\"" "$OUT"

# cp and rm
expect_rc "store: cp exits 0" 0 "$MU" cp tiny me/tiny:copy
expect_rc "store: list after cp" 0 "$MU" ls -q
expect_grep "store: copy listed" '^me/tiny:copy$' "$OUT"
expect_rc "store: cp of a missing model exits 3" 3 "$MU" cp ghost x
expect_rc "store: cp with one argument exits 2" 2 "$MU" cp tiny
expect_rc "store: rm exits 0" 0 "$MU" rm tiny
[ -f "$MULLAMA_MODELS/blobs/sha256-$want_sha" ] && pass "store: blob kept while the copy uses it" \
        || fail "store: blob kept while the copy uses it"
expect_rc "store: rm of a missing model exits 3" 3 "$MU" rm tiny
expect_grep "store: rm names the missing model" "model 'tiny' not found" "$ERR"
expect_rc "store: rm without a name exits 2" 2 "$MU" rm
expect_rc "store: rm the copy" 0 "$MU" rm me/tiny:copy
[ ! -e "$MULLAMA_MODELS/blobs/sha256-$want_sha" ] && pass "store: last rm deletes the blob" \
        || fail "store: last rm deletes the blob"
expect_rc "store: list of an empty store" 0 "$MU" list -q
[ -z "$OUT" ] && pass "store: empty store lists nothing" || fail "store: empty store lists nothing" "$OUT"

# bad input
expect_rc "store: invalid name exits 2" 2 "$MU" rm 'bad name!'
expect_rc "store: create without NAME exits 2" 2 "$MU" create
expect_rc "store: missing Modelfile exits 3" 3 "$MU" create x -f "$W/nope"
printf 'FROM llama-2-tiny-random.gguf\nPARAMETER top_k lots\n' >"$W/Bad1"
expect_rc "store: bad parameter value exits 1" 1 "$MU" create x -f "$W/Bad1"
expect_grep "store: bad value names file:line:col" "Bad1:2:17: PARAMETER top_k expects an integer, got 'lots'" "$ERR"
printf 'FORM llama-2-tiny-random.gguf\n' >"$W/Bad2"
expect_rc "store: unknown directive exits 1" 1 "$MU" create x -f "$W/Bad2"
expect_grep "store: did you mean" "did you mean 'FROM'\\?" "$ERR"
printf 'FROM llama-2-tiny-random.gguf\nSYSTEM """never closed\n' >"$W/Bad3"
expect_rc "store: unterminated string exits 1" 1 "$MU" create x -f "$W/Bad3"
printf 'FROM ./absent.gguf\n' >"$W/Bad4"
expect_rc "store: FROM a missing file exits 3" 3 "$MU" create x -f "$W/Bad4"
printf 'FROM some-model-we-lack\n' >"$W/Bad5"
expect_rc "store: FROM a missing model exits 3" 3 "$MU" create x -f "$W/Bad5"
printf 'not a gguf' >"$W/fake.gguf"
printf 'FROM fake.gguf\n' >"$W/Bad6"
expect_rc "store: FROM a non-GGUF file exits 1" 1 "$MU" create x -f "$W/Bad6"
expect_grep "store: non-GGUF named" "not a GGUF file" "$ERR"
expect_rc "store: --quantize with an unknown type exits 2" 2 "$MU" create x -f "$W/Modelfile" --quantize q4_Z
expect_grep "store: --quantize names the type" "unknown quantization type 'q4_Z'" "$ERR"
expect_rc "store: nothing created by failures" 0 "$MU" list -q
[ -z "$OUT" ] && pass "store: failed creates leave no model" || fail "store: failed creates leave no model" "$OUT"
printf 'FROM llama-2-tiny-random.gguf\nPARAMETER num_gpu 4\nGPU_LAYERS 8\n' >"$W/Warn"
expect_rc "store: GPU_LAYERS after num_gpu creates" 0 "$MU" create warned -f "$W/Warn"
expect_grep "store: precedence warning" "warning: .*Warn:3: GPU_LAYERS 8 overrides num_gpu 4 from line 2" "$ERR"

expect_rc "store: rm warned" 0 "$MU" rm warned

# an interrupted create: blobs and a manifest temp file left behind, no manifest
"$MU" create base -f "$W/Modelfile" 2>/dev/null
mdir=$MULLAMA_MODELS/manifests/registry.ollama.ai/library/half
mkdir -p "$mdir"
head -c 1000 "$gguf" >"$MULLAMA_MODELS/blobs/.tmp-999999999-0"
printf '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s"' \
        "$(printf x | sha256sum | cut -c1-64)" >"$mdir/latest.tmp-999999999"
# and a manifest whose blob never arrived
printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":5}]}' \
        "$(printf y | sha256sum | cut -c1-64)" >"$mdir/broken"
expect_rc "store: list with leftovers exits 0" 0 "$MU" list -q
expect_grep "store: good models still listed" '^base:latest$' "$OUT"
if printf '%s' "$OUT" | grep -q half; then fail "store: broken or partial model never listed" "$OUT"
else pass "store: broken or partial model never listed"; fi
expect_grep "store: broken manifest warned about" "skipping 'half:broken'" "$ERR"
expect_rc "store: rm of a partial model is not found" 3 "$MU" rm half
expect_rc "store: rm base sweeps dead temp blobs" 0 "$MU" rm base
[ ! -e "$MULLAMA_MODELS/blobs/.tmp-999999999-0" ] && pass "store: dead temp blob swept" \
        || fail "store: dead temp blob swept"

# Ollama's store is read, never written
[ ! -e "$MULLAMA_MODELS/blobs/sha256-$want_sha" ] && pass "store: no model blob left in our store" \
        || fail "store: no model blob left in our store"
mkdir -p "$OLLAMA_MODELS/blobs" "$OLLAMA_MODELS/manifests/registry.ollama.ai/library/olla"
cp -L "$gguf" "$OLLAMA_MODELS/blobs/sha256-$want_sha"
printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":%s}]}' \
        "$want_sha" "$(stat -c %s "$gguf")" >"$OLLAMA_MODELS/manifests/registry.ollama.ai/library/olla/latest"
expect_rc "store: Ollama models listed" 0 "$MU" list -q
expect_grep "store: Ollama model name" '^olla:latest$' "$OUT"
expect_rc "store: rm of an Ollama model refused" 1 "$MU" rm olla
expect_grep "store: rm says read-only" "ollama rm" "$ERR"
expect_rc "store: create FROM an Ollama model" 0 "$MU" create derived -f <(printf 'FROM olla\nSYSTEM hi\n')
[ -f "$MULLAMA_MODELS/blobs/sha256-$want_sha" ] && pass "store: inherited blob imported into ours" \
        || fail "store: inherited blob imported into ours"
exit $_failed
