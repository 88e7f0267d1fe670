# lib.sh -- helpers for CLI tests (sourced).  Each check prints one line:
# PASS name / FAIL name / SKIP name: why.
set -u
MU=${MULLAMA_BIN:-$PWD/mullama}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export MULLAMA_MODELS=$TMP/store
export OLLAMA_MODELS=$TMP/ollama-store
# never reach the internet: model pulls (e.g. `run` of a missing model) go here
export MULLAMA_REGISTRY=127.0.0.1:9
export HOME=$TMP/home
mkdir -p "$HOME"
_failed=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; _failed=1; }
skip() { echo "SKIP $1: $2"; }

# expect_rc NAME RC CMD...: run CMD, check the exit code; output in $OUT/$ERR
expect_rc() {
        local name=$1 want=$2; shift 2
        "$@" >"$TMP/out" 2>"$TMP/err"
        local rc=$?
        OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
        if [ "$rc" -eq "$want" ]; then pass "$name"
        else fail "$name" "exit $rc, expected $want; stderr: $(head -c 300 "$TMP/err")"; fi
}

# expect_grep NAME PATTERN TEXT
expect_grep() {
        if printf '%s' "$3" | grep -qE -- "$2"; then pass "$1"
        else fail "$1" "no match for /$2/ in: $(printf '%s' "$3" | head -c 300)"; fi
}

model() { # model NAME -> path or empty
        local p="$PWD/tests/models/$1"
        [ -r "$p" ] && echo "$p"
}
