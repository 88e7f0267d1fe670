#!/usr/bin/env bash
# sanity.sh -- do `mullama bench`'s timers tell the truth?  Compares its pp
# and tg rates with rates timed from outside the process on the same
# workload through `mullama run` (wall clock of whole runs; differences of
# runs cancel load time and start-up):
#   tg_ext = (G2 - G1) / (wall(run, n=G2) - wall(run, n=G1))   same prompt
#   pp_ext = (P2 - P1) / (wall(long prompt, n=1) - wall(mid prompt, n=1))
# and bench's pp test is the same work: P2 - P1 tokens after a depth of P1.
# Both prompts are of at least 64 tokens: shorter batches take another
# kernel path (GEMM_MIN_TOK, src/kernels/gemm.h) at another cost per token,
# so a difference against a short prompt would not be a rate of either.
# Token counts come from --verbose ("prompt eval count", "eval count").
# Usage: bench/sanity.sh [MODEL] [THREADS]   (exit 1 when off by > 10%)
set -eu
cd "$(dirname "$0")/.."
M=${1:-tests/models/SmolLM2-135M-Instruct.Q4_1.gguf}
T=${2:-2}
MU=${MULLAMA_BIN:-./mullama}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

words() { python3 -c "import sys; print(' '.join(['the quick brown fox jumps over the lazy dog and'] * int(sys.argv[1])))" "$1"; }
# wall time of a run (best of 5: the minimum is the run least disturbed by
# other work on the machine), and its token counts
timed() { # prompt n -> "seconds prompt_count eval_count"
        local best=999 pc ec
        for _ in 1 2 3 4 5; do
                local s e
                s=$(date +%s.%N)
                "$MU" run "$M" --raw --temperature 0 -t "$T" -n "$2" --verbose "$1" >/dev/null 2>"$tmp/err"
                e=$(date +%s.%N)
                best=$(python3 -c "print(min($best, $e - $s))")
        done
        pc=$(sed -n 's/^prompt eval count: *\([0-9]*\).*/\1/p' "$tmp/err")
        ec=$(sed -n 's/^eval count: *\([0-9]*\).*/\1/p' "$tmp/err")
        echo "$best $pc $ec"
}
short=$(words 2); mid=$(words 10); long=$(words 40)
read -r wa pa ea < <(timed "$short" 1)
read -r wb pb eb < <(timed "$short" 97)
read -r wm pm em < <(timed "$mid" 1)
read -r wc pc ec < <(timed "$long" 1)
tg_ext=$(python3 -c "print(($eb - $ea) / ($wb - $wa))")
pp_ext=$(python3 -c "print(($pc - $pm) / ($wc - $wm))")
P=$((pc - pm)); G=$((eb - ea))
"$MU" bench "$M" -t "$T" -p "$P" -d "$pm" -n 0 -r 5 --no-digest --output "$tmp/p.json" >/dev/null 2>&1
"$MU" bench "$M" -t "$T" -p 0 -n "$G" -r 5 --no-digest --output "$tmp/g.json" >/dev/null 2>&1
read -r pp tg < <(python3 -c "import json; print(json.load(open('$tmp/p.json'))[0]['avg_ts'], json.load(open('$tmp/g.json'))[0]['avg_ts'])")
python3 - "$pp" "$pp_ext" "$tg" "$tg_ext" "$P" "$G" "$pm" <<'PY'
import sys
pp, ppx, tg, tgx, P, G, D = map(float, sys.argv[1:])
print(f"| test | bench t/s | external t/s | ratio |\n|---|---|---|---|")
print(f"| pp{int(P)} @ d{int(D)} | {pp:.1f} | {ppx:.1f} | {pp/ppx:.3f} |")
print(f"| tg{int(G)} | {tg:.1f} | {tgx:.1f} | {tg/tgx:.3f} |")
bad = [n for n, a, b in (("pp", pp, ppx), ("tg", tg, tgx)) if abs(a / b - 1) > 0.10]
if bad:
    print("sanity: bench and external timing differ by more than 10% for " + ", ".join(bad))
    sys.exit(1)
print("sanity: bench timers agree with external timing within 10%")
PY
