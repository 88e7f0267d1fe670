# CLI: mullama bench -- JSON schema, formats, sweeps, argument errors.
. tests/cli/lib.sh
m=$(model stories260K.gguf)
if [ -z "$m" ]; then skip "bench: all" "stories260K.gguf not in tests/models"; exit 0; fi

expect_rc "bench: json output" 0 "$MU" bench "$m" -p 16 -n 8 -r 2 --warmup 1 --output "$TMP/r.json"
if python3 tests/data/bench/check_schema.py tests/data/bench/schema.json "$TMP/r.json" >"$TMP/schema.out"; then
        pass "bench: json validates against the schema"
else fail "bench: json validates against the schema" "$(head -5 "$TMP/schema.out")"; fi
n=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r), r[0]["test"], r[1]["test"], len(r[0]["samples_ts"]), r[1]["itl_ns"]["n"], r[0]["n_params"] if "n_params" in r[0] else r[0]["model_n_params"])' "$TMP/r.json")
expect_grep "bench: one pp and one tg row, 2 samples, 8x2 latencies" '^2 pp16 tg8 2 16 292800$' "$n"
expect_grep "bench: table on stdout after --output" '\| pp16 \|' "$OUT"

expect_rc "bench: sweep threads x prompt" 0 "$MU" bench "$m" -t 1,2 -p 8,16 -n 0 -r 1 --warmup 0 --format jsonl
expect_grep "bench: sweep gives 4 jsonl rows" '^4$' "$(printf '%s\n' "$OUT" | grep -c '^{')"
expect_rc "bench: depth and pg" 0 "$MU" bench "$m" -p 8 -n 4 -d 32 --pg -r 1 --warmup 0 --format csv
expect_grep "bench: csv has pp8 @ d32" '"pp8 @ d32"' "$OUT"
expect_grep "bench: csv has pp8+tg4" '"pp8\+tg4 @ d32"' "$OUT"
expect_rc "bench: markdown" 0 "$MU" bench "$m" -p 8 -n 0 -r 1 --format md
expect_grep "bench: markdown table header" '^\| model \| size \| params \| backend \| threads \| ngl \| test \| t/s \|$' "$OUT"
expect_rc "bench: compare with an earlier run" 0 "$MU" bench "$m" -p 16 -n 8 -r 1 --warmup 0 --compare "$TMP/r.json"
expect_grep "bench: compare prints ratios" '\| stories260K.gguf \| [0-9]+ \| pp16 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|' "$OUT"

# llama-bench's own fields keep its names and JSON types (a real llama-bench -o json result)
lb=$(python3 - tests/data/bench/llama-bench-stories260K.json "$TMP/r.json" <<'PY'
import json, sys
lb, ours = json.load(open(sys.argv[1]))[0], json.load(open(sys.argv[2]))[0]
names = ("build_commit build_number cpu_info gpu_info backends model_filename model_type model_size "
         "model_n_params n_batch n_ubatch n_threads type_k type_v n_gpu_layers use_mmap n_prompt "
         "n_gen n_depth test_time avg_ns stddev_ns avg_ts stddev_ts samples_ns samples_ts").split()
kind = lambda v: "num" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__
bad = [n for n in names if (n in lb or n == "use_mmap") and (n not in ours or (n in lb and kind(lb[n]) != kind(ours[n])))]
print("ok" if not bad else "differ: " + " ".join(bad))
PY
)
expect_grep "bench: llama-bench's field names and types" '^ok$' "$lb"
# the statistics agree with the samples (Python's statistics module)
st=$(python3 - "$TMP/r.json" <<'PY'
import json, statistics as S, sys
bad = []
for r in json.load(open(sys.argv[1])):
    ns, ts = r["samples_ns"], r["samples_ts"]
    close = lambda a, b: abs(a - b) <= 1e-6 * max(1, abs(b)) + 1
    for k, v in (("avg_ns", S.mean(ns)), ("median_ns", S.median(ns)), ("min_ns", min(ns)),
                 ("max_ns", max(ns)), ("stddev_ns", S.stdev(ns)), ("avg_ts", S.mean(ts)),
                 ("stddev_ts", S.stdev(ts)), ("median_ts", S.median(ts))):
        if not close(r[k], v): bad.append("%s %s=%s want %s" % (r["test"], k, r[k], v))
    for n, t in zip(ns, ts):
        if abs(t - (r["n_prompt"] + r["n_gen"]) * 1e9 / n) > 1e-3 * t: bad.append("%s ts/ns" % r["test"])
print("ok" if not bad else "; ".join(bad))
PY
)
expect_grep "bench: mean, median, stddev, min, max and t/s match the samples" '^ok$' "$st"
# llama-bench's model_type shape: arch, size label, llama.cpp's file type name
mt=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r[0]["model_type"], "|", r[0]["model_digest"][:7], "|", r[0]["load_cold_cache_dropped"] == (r[0]["load_cold_resident"] <= 0.05))' "$TMP/r.json")
expect_grep "bench: model_type like llama-bench's, digest, cold-load flag" '^llama 293K all F32 \| sha256: \| True$' "$mt"
sha=$(sha256sum "$m" | cut -c1-64)
expect_grep "bench: model_digest is the file's sha256" "\"model_digest\":[[:space:]]*\"sha256:$sha\"" "$(cat "$TMP/r.json")"
expect_rc "bench: --no-digest" 0 "$MU" bench "$m" -p 8 -n 0 -r 1 --warmup 0 --no-digest --format jsonl
expect_grep "bench: --no-digest leaves the digest empty" '"model_digest":"",' "$OUT"

# several models (a path and a store name) in one call: rows of both, each at depth 0 and 16
t=$(model llama-2-tiny-random.gguf)
printf 'FROM %s\n' "$m" > "$TMP/Modelfile"
"$MU" create tiny-story -f "$TMP/Modelfile" >/dev/null 2>&1 || fail "bench: create a store model"
if [ -n "$t" ]; then
        expect_rc "bench: two models, depth sweep" 0 "$MU" bench tiny-story "$t" -p 8 -n 4 -d 0,16 -r 1 --warmup 0 --format jsonl --no-digest
        rows=$(printf '%s\n' "$OUT" | python3 -c 'import json,sys; print(" ".join("%s:%s@%d" % (json.loads(l)["model_filename"].split("/")[-1][:12], json.loads(l)["test"].split()[0], json.loads(l)["n_depth"]) for l in sys.stdin))')
        expect_grep "bench: one row per model x depth x test" '^sha256-[0-9a-f]{5}:pp8@0 sha256-[0-9a-f]{5}:tg4@0 sha256-[0-9a-f]{5}:pp8@16 sha256-[0-9a-f]{5}:tg4@16 llama-2-tiny:pp8@0 llama-2-tiny:tg4@0 llama-2-tiny:pp8@16 llama-2-tiny:tg4@16$' "$rows"
        expect_grep "bench: rows name the model as given" '"model":"tiny-story",' "$OUT"
        expect_grep "bench: progress lines on stderr" '^bench: .*llama-2-tiny-random.gguf tg4 @ d16 run 1/1$' "$ERR"
else skip "bench: two models" "llama-2-tiny-random.gguf not in tests/models"; fi

# --compare with a file that is missing or not a result: one line, before any work
expect_rc "bench: --compare missing file" 3 "$MU" bench "$m" -p 8 -n 0 -r 1 --compare "$TMP/none.json"
expect_grep "bench: --compare missing file names it" "^error: --compare: .*none.json" "$ERR"
if printf '%s' "$ERR" | grep -q 'bench: loading'; then fail "bench: --compare checked before work"; else pass "bench: --compare checked before work"; fi
echo 'not json' > "$TMP/bad.json"
expect_rc "bench: --compare non-JSON file" 1 "$MU" bench "$m" -p 8 -n 0 -r 1 --compare "$TMP/bad.json"
expect_grep "bench: --compare non-JSON file error" "^error: --compare: '.*bad.json' is not a bench JSON array" "$ERR"

expect_rc "bench: zero runs is a usage error" 2 "$MU" bench "$m" -r 0
expect_rc "bench: negative prompt tokens" 2 "$MU" bench "$m" -p -5
expect_rc "bench: bad list" 2 "$MU" bench "$m" -t 1,x
expect_rc "bench: unknown format" 2 "$MU" bench "$m" --format xml
expect_rc "bench: unknown model" 3 "$MU" bench no-such-model:latest
expect_rc "bench: missing file" 3 "$MU" bench ./nope.gguf
expect_rc "bench: prompt longer than the context" 2 "$MU" bench "$m" -p 4000 -n 0 -r 1
expect_grep "bench: context error names it" 'longer than the context' "$ERR"
expect_rc "bench: unwritable output" 1 "$MU" bench "$m" -p 8 -n 0 -r 1 --output /nonexistent/dir/x.json
if [ -e /nonexistent/dir/x.json ]; then fail "bench: no file on error"; else pass "bench: no file on error"; fi
# Ctrl-C: what finished is written, marked incomplete
"$MU" bench "$m" -p 64 -n 64 -r 100000 --warmup 0 --output "$TMP/int.json" >/dev/null 2>"$TMP/int.err" &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
if [ "$rc" -eq 130 ]; then pass "bench: Ctrl-C exits 130"; else fail "bench: Ctrl-C exits 130" "exit $rc"; fi
inc=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r), r[-1]["incomplete"], len(r[-1]["samples_ts"]) > 0)' "$TMP/int.json" 2>&1)
expect_grep "bench: interrupted run written, marked incomplete" '^1 True True$' "$inc"
exit $_failed
