# CLI: mullama pull against tests/registry_server.py on 127.0.0.1, with
# faults (cut connections, stalls, flipped bytes, HTTP errors, redirects,
# slow answers, kill -9).  After each pull the store is compared byte for
# byte with the registry's files.
. tests/cli/lib.sh

gguf=$(model llama-2-tiny-random.gguf)
if [ -z "$gguf" ]; then
        skip "pull: registry tests" "llama-2-tiny-random not in tests/models (run make models)"
        exit 0
fi
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
        skip "pull: registry tests" "needs python3 and curl"
        exit 0
fi

# ---- the registry's content: tiny (model + params), tiny:v2 (same model
# blob, other params), huge (a 1 PB layer) -------------------------------
SRC=$TMP/src
W=$TMP/work
mkdir -p "$W"
cp -L "$gguf" "$W/tiny.gguf"
printf 'FROM tiny.gguf\nPARAMETER temperature 0.5\n' >"$W/Modelfile"
printf 'FROM tiny.gguf\nPARAMETER temperature 0.7\n' >"$W/Modelfile2"
MULLAMA_MODELS=$SRC "$MU" create tiny -f "$W/Modelfile" >/dev/null 2>&1
MULLAMA_MODELS=$SRC "$MU" create tiny:v2 -f "$W/Modelfile2" >/dev/null 2>&1
SMAN=$SRC/manifests/registry.ollama.ai/library/tiny/latest
if [ ! -f "$SMAN" ]; then fail "pull: set-up (create the registry's models)"; exit 1; fi
MHEX=$(sha256sum "$gguf" | cut -d' ' -f1)
MSIZE=$(stat -c %s "$gguf")
mkdir -p "$SRC/manifests/registry.ollama.ai/library/huge"
printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:%s","size":10},"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":1000000000000000}]}' \
        "$(printf 1 | sha256sum | cut -d' ' -f1)" "$(printf 2 | sha256sum | cut -d' ' -f1)" \
        >"$SRC/manifests/registry.ollama.ai/library/huge/latest"

python3 tests/registry_server.py "$SRC" "$TMP/port" &
SRV=$!
trap 'kill $SRV 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
PORT=$(cut -d' ' -f1 "$TMP/port" 2>/dev/null)
if [ -z "$PORT" ]; then fail "pull: registry server starts"; exit 1; fi
R=http://127.0.0.1:$PORT
export NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 # a proxy in the environment must not see the tests
export MULLAMA_REGISTRY=$R MULLAMA_PULL_PART_SIZE=64K MULLAMA_PULL_STALL_TIMEOUT=2 MULLAMA_PULL_RETRIES=3
BLOBS=$MULLAMA_MODELS/blobs
MAN=$MULLAMA_MODELS/manifests/registry.ollama.ai/library/tiny/latest

mu() { timeout 120 "$MU" "$@"; } # a hung pull fails the test instead of the suite
faults() { curl -s -X POST --data "$1" "$R/_faults" >/dev/null; }
reset() { curl -s -X POST "$R/_reset" >/dev/null; faults '{}'; }
stat_of() { curl -s "$R/_stats/$1"; }
total_size() { # sum of the sizes of a manifest's blobs
        python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(sum(l['size'] for l in m['layers'] + [m['config']]))" "$1"
}
ALL=$(total_size "$SMAN")

# store_ok NAME MANIFEST_REL: the store's manifest equals the registry's byte
# for byte, every blob it names equals the registry's, every blob file hashes
# to its name, and nothing partial is left
store_ok() {
        local name=$1 rel=$2 why=""
        cmp -s "$SRC/manifests/registry.ollama.ai/$rel" "$MULLAMA_MODELS/manifests/${3:-registry.ollama.ai}/$rel" \
                || why="manifest differs"
        for d in $(grep -o 'sha256:[0-9a-f]\{64\}' "$SRC/manifests/registry.ollama.ai/$rel" | cut -c8-); do
                cmp -s "$SRC/blobs/sha256-$d" "$BLOBS/sha256-$d" || why="$why blob $d differs"
        done
        for f in "$BLOBS"/*; do
                [ -e "$f" ] || continue
                b=$(basename "$f")
                case "$b" in
                sha256-*-partial*) why="$why leftover $b" ;;
                sha256-*) [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${b#sha256-}" ] || why="$why corrupt $b" ;;
                *) why="$why stray $b" ;;
                esac
        done
        if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

# ---- usage -------------------------------------------------------------------
expect_rc "pull: no MODEL is a usage error" 2 mu pull
expect_rc "pull: bad name is a usage error" 2 mu pull 'bad name!'
expect_rc "pull: --help" 0 mu pull --help
expect_grep "pull: --help documents MULLAMA_REGISTRY" 'MULLAMA_REGISTRY' "$OUT"
expect_grep "pull: --help documents the part size" 'MULLAMA_PULL_PART_SIZE' "$OUT"

# ---- a clean pull, then one that downloads nothing ------------------------------
reset
expect_rc "pull: clean pull exits 0" 0 mu pull tiny
store_ok "pull: clean pull stores the registry's files byte for byte" library/tiny/latest
for s in 'pulling manifest' "pulling ${MHEX:0:12}: 100%" 'verifying sha256 digest' 'writing manifest' 'success'; do
        expect_grep "pull: plain progress says '$s'" "^$s" "$ERR"
done
[ "$(stat_of blob_bytes)" = "$ALL" ] && pass "pull: clean pull fetches each byte once" \
        || fail "pull: clean pull fetches each byte once" "$(stat_of blob_bytes) bytes sent, $ALL in blobs"
[ "$(stat_of get:${MHEX:0:12})" -gt 1 ] && pass "pull: the model blob comes in parallel parts" \
        || fail "pull: the model blob comes in parallel parts" "$(stat_of get:${MHEX:0:12}) GETs"
expect_rc "pull: pulled model shows" 0 mu show tiny
expect_grep "pull: pulled model has its parameters" 'temperature +0.5' "$OUT"
reset
expect_rc "pull: second pull exits 0" 0 mu pull tiny
[ "$(stat_of blob_bytes)" = 0 ] && [ "$(stat_of blob_gets)" = 0 ] && [ "$(stat_of heads)" = 0 ] \
        && pass "pull: second pull downloads nothing" \
        || fail "pull: second pull downloads nothing" "$(curl -s "$R/_stats")"
store_ok "pull: store unchanged by the second pull" library/tiny/latest

# a model sharing the model blob: only its own small blobs move
reset
expect_rc "pull: tiny:v2 exits 0" 0 mu pull tiny:v2
[ "$(stat_of get:${MHEX:0:12})" = 0 ] && pass "pull: blob already present is not downloaded again" \
        || fail "pull: blob already present is not downloaded again" "$(curl -s "$R/_stats")"
store_ok "pull: tiny:v2 stored byte for byte" library/tiny/v2
expect_rc "pull: rm tiny:v2" 0 mu rm tiny:v2

# ---- --json and --quiet ------------------------------------------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
expect_rc "pull: --json exits 0" 0 mu pull --json tiny
if printf '%s\n' "$OUT" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin if l.strip()]
st = [e["status"] for e in ev]
assert st[0] == "pulling manifest", st
assert st[-3:] == ["verifying sha256 digest", "writing manifest", "success"], st
pulls = [e for e in ev if e["status"].startswith("pulling ") and "digest" in e]
assert pulls and all(e["status"] == "pulling " + e["digest"][7:19] for e in pulls)
assert all(0 <= e["completed"] <= e["total"] for e in pulls)
last = {}
for e in pulls: last[e["digest"]] = e
assert all(e["completed"] == e["total"] for e in last.values())
assert len(last) == 3
'; then pass "pull: --json NDJSON events in Ollama's order"; else fail "pull: --json NDJSON events in Ollama's order" "$OUT"; fi
[ -z "$ERR" ] && pass "pull: --json leaves stderr quiet" || fail "pull: --json leaves stderr quiet" "$ERR"
"$MU" rm tiny >/dev/null 2>&1
expect_rc "pull: --quiet exits 0" 0 mu pull --quiet tiny
[ -z "$ERR$OUT" ] && pass "pull: --quiet prints nothing" || fail "pull: --quiet prints nothing" "$ERR"

# ---- a connection cut at 30%, 60%, 90%: each later pull resumes --------------------
"$MU" rm tiny >/dev/null 2>&1
reset
for f in 0.3 0.6 0.9; do
        faults "{\"cut_at\": $f}"
        MULLAMA_PULL_RETRIES=0 MULLAMA_PULL_PART_SIZE=1G expect_rc "pull: cut at $f fails (no retries)" 4 mu pull tiny
        [ ! -e "$MAN" ] && [ ! -e "$BLOBS/sha256-$MHEX" ] && [ -s "$BLOBS/sha256-$MHEX-partial" ] \
                && pass "pull: after a cut at $f only the partial blob is kept" \
                || fail "pull: after a cut at $f only the partial blob is kept" "$(ls "$BLOBS" "$MAN" 2>&1)"
done
faults '{}'
MULLAMA_PULL_PART_SIZE=1G expect_rc "pull: resume after three cuts" 0 mu pull tiny
store_ok "pull: resumed blob is byte for byte the registry's" library/tiny/latest
[ "$(stat_of blob_bytes)" = "$ALL" ] && pass "pull: resumes download only what is missing" \
        || fail "pull: resumes download only what is missing" "$(stat_of blob_bytes) bytes sent, $ALL in blobs"

# the same cut with retries and parallel parts: one pull recovers
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"cut_at": 0.5, "cut_count": 3}'
expect_rc "pull: cuts are retried within one pull" 0 mu pull tiny
store_ok "pull: retried parts give the right blob" library/tiny/latest
[ "$(stat_of blob_bytes)" = "$ALL" ] && pass "pull: retried parts resume at their offset" \
        || fail "pull: retried parts resume at their offset" "$(stat_of blob_bytes) bytes sent, $ALL in blobs"

# a server that ignores Range: one plain GET of the whole blob
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"no_range": true}'
expect_rc "pull: a server without Range support" 0 mu pull tiny
store_ok "pull: blob right without Range support" library/tiny/latest

# ---- a flipped byte -------------------------------------------------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"flip": true}'
expect_rc "pull: corrupted blob fails" 1 mu pull tiny
expect_grep "pull: the error names the layer" "sha256:$MHEX \(model\) failed verification" "$ERR"
[ ! -e "$MAN" ] && pass "pull: no manifest after a corrupted blob" || fail "pull: no manifest after a corrupted blob"
[ -z "$(ls "$BLOBS" | grep "$MHEX")" ] && pass "pull: nothing of the corrupted blob is kept" \
        || fail "pull: nothing of the corrupted blob is kept" "$(ls "$BLOBS")"
faults '{}'
expect_rc "pull: pull after the corruption succeeds" 0 mu pull tiny
store_ok "pull: good blob after the corrupted one" library/tiny/latest

# ---- HTTP errors ----------------------------------------------------------------------------
reset
expect_rc "pull: unknown model exits 3" 3 mu pull ghost
expect_grep "pull: 404 names the resolved model" "registry.ollama.ai/library/ghost:latest.*not found|not found.*registry.ollama.ai/library/ghost:latest" "$ERR"
reset
faults '{"manifest_status": [500]}'
expect_rc "pull: a 500 then success" 0 mu pull tiny
[ "$(stat_of manifest_gets)" = 2 ] && pass "pull: the 500 was retried once" \
        || fail "pull: the 500 was retried once" "$(stat_of manifest_gets) manifest requests"
faults '{"manifest_status": [500, 500, 500, 500]}'
MULLAMA_PULL_RETRIES=1 expect_rc "pull: persistent 500 fails" 4 mu pull tiny
expect_grep "pull: 500 error says so" 'HTTP 500' "$ERR"
faults '{"manifest_status": [412], "manifest_body": {"error": "pull model manifest: 412: this model requires a newer version"}}'
expect_rc "pull: 412 fails" 1 mu pull tiny
expect_grep "pull: 412 says a newer version is needed" 'requires a newer version of mullama' "$ERR"
faults '{"manifest_status": [401]}'
expect_rc "pull: 401 fails" 4 mu pull tiny
expect_grep "pull: 401 says authentication" 'requires authentication' "$ERR"
faults '{"blob_status": 404}'
"$MU" rm tiny >/dev/null 2>&1
expect_rc "pull: missing blob fails" 3 mu pull tiny
expect_grep "pull: missing blob names the layer" "layer sha256:$MHEX \(model\) is missing" "$ERR"
faults '{}'
MULLAMA_REGISTRY=127.0.0.1:9 expect_rc "pull: unreachable registry exits 4" 4 mu pull tiny
expect_grep "pull: unreachable registry says so" 'cannot reach registry' "$ERR"
expect_rc "pull: plain HTTP host without --insecure fails" 4 mu pull "127.0.0.1:$PORT/library/tiny"
expect_grep "pull: hint at --insecure" 'insecure' "$ERR"
mu pull -q tiny
reset
expect_rc "pull: host/ns/name with --insecure" 0 mu pull --insecure "127.0.0.1:$PORT/library/tiny"
store_ok "pull: stored under the registry host" library/tiny/latest "127.0.0.1:$PORT"
[ "$(stat_of blob_bytes)" = 0 ] && pass "pull: same blobs under another name are not fetched again" \
        || fail "pull: same blobs under another name are not fetched again" "$(stat_of blob_bytes)"
"$MU" rm "127.0.0.1:$PORT/library/tiny" >/dev/null 2>&1
expect_rc "pull: an http:// name needs --insecure" 2 mu pull "http://127.0.0.1:$PORT/library/tiny"
expect_rc "pull: an http:// name with --insecure" 0 mu pull --insecure -q "http://127.0.0.1:$PORT/library/tiny"
store_ok "pull: http:// name stored under its host" library/tiny/latest "127.0.0.1:$PORT"
"$MU" rm "127.0.0.1:$PORT/library/tiny" >/dev/null 2>&1

# ---- registries that want a token (docker token protocol) ---------------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"auth": true, "redirect": true}'
expect_rc "pull: anonymous Bearer token on a 401 challenge" 0 mu pull tiny
[ "$(stat_of tokens)" = 1 ] && pass "pull: one token fetched for the whole pull" \
        || fail "pull: one token fetched for the whole pull" "$(curl -s "$R/_stats")"
[ "$(stat_of cdn_auth)" = 0 ] && pass "pull: the token is never sent to the CDN" \
        || fail "pull: the token is never sent to the CDN"
store_ok "pull: blobs right with a token" library/tiny/latest
faults '{"auth": "deny"}'
expect_rc "pull: refused token exits 4" 4 mu pull tiny
expect_grep "pull: refused token says authentication" 'requires authentication' "$ERR"

# ---- disk space ---------------------------------------------------------------------------------
reset
expect_rc "pull: not enough disk space fails early" 1 mu pull huge
expect_grep "pull: says how much is needed" 'not enough disk space.*1.0 PB needed' "$ERR"
[ "$(stat_of blob_gets)" = 0 ] && pass "pull: nothing downloaded before the disk check" \
        || fail "pull: nothing downloaded before the disk check"

# ---- a stalled server, a redirect to a CDN, a slow server --------------------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"stall_at": 0.5, "stall_s": 8}'
t0=$(date +%s)
MULLAMA_PULL_STALL_TIMEOUT=1 expect_rc "pull: stalled part is restarted" 0 mu pull tiny
t1=$(date +%s)
[ $((t1 - t0)) -lt 7 ] && pass "pull: stall detected before the server wakes" \
        || fail "pull: stall detected before the server wakes" "$((t1 - t0)) s"
store_ok "pull: blob right after a stall" library/tiny/latest

"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"redirect": true}'
expect_rc "pull: redirect to a second host" 0 mu pull tiny
[ "$(stat_of cdn_gets)" -gt 0 ] && [ "$(stat_of blob_gets)" = 0 ] \
        && pass "pull: blob GETs go to the redirect target" \
        || fail "pull: blob GETs go to the redirect target" "$(curl -s "$R/_stats")"
store_ok "pull: blobs right through the redirect" library/tiny/latest
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"redirect": true, "expire_after": 6}'
expect_rc "pull: expired CDN URLs are resolved again" 0 mu pull tiny
[ "$(stat_of cdn_expired)" -gt 0 ] && [ "$(stat_of heads)" -gt 3 ] \
        && pass "pull: a refused CDN URL sends the client back to the registry" \
        || fail "pull: a refused CDN URL sends the client back to the registry" "$(curl -s "$R/_stats")"
store_ok "pull: blobs right across CDN URL renewals" library/tiny/latest

"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"rate": 1000000}'
MULLAMA_PULL_PART_SIZE=1G expect_rc "pull: slow server, --json" 0 mu pull --json tiny
n=$(printf '%s\n' "$OUT" | grep -c "\"pulling ${MHEX:0:12}\"")
[ "$n" -ge 5 ] && pass "pull: progress keeps updating on a slow server ($n events)" \
        || fail "pull: progress keeps updating on a slow server" "$n events"
"$MU" rm tiny >/dev/null 2>&1
MULLAMA_PULL_PART_SIZE=1G expect_rc "pull: slow server, plain lines" 0 mu pull tiny
n=$(printf '%s\n' "$ERR" | grep -cE "^pulling ${MHEX:0:12}: [0-9]+% [0-9.]+ [kKMG]?B/1.8 MB")
[ "$n" -ge 3 ] && pass "pull: periodic plain progress lines ($n)" \
        || fail "pull: periodic plain progress lines" "$ERR"
"$MU" rm tiny >/dev/null 2>&1
script -qfec "timeout 120 '$MU' pull tiny" /dev/null </dev/null >"$TMP/tty.out" 2>&1
if grep -q "pulling ${MHEX:0:12}: 100% ▕█████████████████████████▏ 1.8 MB/1.8 MB" "$TMP/tty.out" &&
        grep -q $'\r' "$TMP/tty.out"; then pass "pull: a bar per layer on a terminal"
else fail "pull: a bar per layer on a terminal" "$(tr '\r' '\n' <"$TMP/tty.out" | tail -n 5)"; fi
grep -qE "[0-9.]+ [kKM]?B/s" "$TMP/tty.out" && pass "pull: the bar shows a rate" \
        || fail "pull: the bar shows a rate"

# ---- Ctrl-C keeps the parts; two pulls of one model at once -----------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"rate": 300000}'
"$MU" pull tiny 2>"$TMP/int.err" &
p=$!
sleep 0.6
kill -INT $p
wait $p
rc=$?
[ "$rc" = 130 ] && pass "pull: Ctrl-C exits 130" || fail "pull: Ctrl-C exits 130" "exit $rc"
expect_grep "pull: Ctrl-C says the pull resumes" 'pulling again resumes' "$(cat "$TMP/int.err")"
[ -s "$BLOBS/sha256-$MHEX-partial.state" ] && [ ! -e "$MAN" ] && pass "pull: Ctrl-C keeps the part state" \
        || fail "pull: Ctrl-C keeps the part state" "$(ls "$BLOBS")"
mu pull -q tiny 2>"$TMP/c1.err" &
p1=$!
mu pull -q tiny 2>"$TMP/c2.err" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
[ "$r1$r2" = 00 ] && pass "pull: two pulls of one model at once both succeed" \
        || fail "pull: two pulls of one model at once both succeed" "$r1 $r2: $(cat "$TMP/c1.err" "$TMP/c2.err")"
store_ok "pull: concurrent pulls leave the right files" library/tiny/latest

# ---- kill -9 at random moments, 20 times --------------------------------------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
faults '{"rate": 400000}'
killed=0 bad=""
for i in $(seq 20); do
        MULLAMA_PULL_CONNECTIONS=4 "$MU" pull --quiet tiny >/dev/null 2>&1 &
        p=$!
        sleep "0.$(( (RANDOM % 50) + 5 ))"
        kill -9 $p 2>/dev/null && killed=$((killed + 1))
        wait $p 2>/dev/null
        # never a manifest naming a missing blob, never a wrong final blob
        if [ -e "$MAN" ]; then
                for d in $(grep -o 'sha256:[0-9a-f]\{64\}' "$MAN" | cut -c8-); do
                        cmp -s "$SRC/blobs/sha256-$d" "$BLOBS/sha256-$d" || bad="$bad run$i:$d"
                done
                "$MU" rm tiny >/dev/null 2>&1
        fi
        for f in "$BLOBS"/sha256-*; do
                case "$f" in *-partial*) continue ;; esac
                [ -e "$f" ] || continue
                [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${f##*/sha256-}" ] || bad="$bad run$i:$(basename "$f")"
        done
        # each kill is followed by a resumed pull, itself killed on the next turn
done
faults '{}'
expect_rc "pull: pull after 20 kills -9" 0 mu pull tiny
store_ok "pull: blobs right after 20 kills -9" library/tiny/latest
[ -z "$bad" ] && pass "pull: no bad blob or manifest at any kill ($killed killed mid-pull)" \
        || fail "pull: no bad blob or manifest at any kill" "$bad"

# ---- run pulls a missing model ---------------------------------------------------------------
"$MU" rm tiny >/dev/null 2>&1
reset
expect_rc "pull: run pulls a missing model" 0 mu run tiny --raw -n 2 "hello"
expect_grep "pull: run shows the pull" 'success' "$ERR"
store_ok "pull: run's pull stores the model" library/tiny/latest

exit $_failed
