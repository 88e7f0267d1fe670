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
