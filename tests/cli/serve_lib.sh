# serve_lib.sh -- start/stop a `mullama serve` on a random loopback port
# (sourced by the serve tests after lib.sh).
SRV_PID=
PORT=
SRV_LOG=

# start_server LOGNAME ARGS...: sets PORT and SRV_PID; 1 if it did not start
start_server() {
        local name=$1; shift
        SRV_LOG=$TMP/$name.log
        : >"$SRV_LOG"
        "$MU" serve --host 127.0.0.1:0 "$@" >"$SRV_LOG" 2>&1 &
        SRV_PID=$!
        for _ in $(seq 1 100); do
                PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SRV_LOG" | head -1)
                [ -n "$PORT" ] && return 0
                kill -0 "$SRV_PID" 2>/dev/null || return 1
                sleep 0.1
        done
        return 1
}

# stop_server: SIGTERM, wait; sets SRV_RC
stop_server() {
        [ -n "$SRV_PID" ] || return 0
        kill -TERM "$SRV_PID" 2>/dev/null
        wait "$SRV_PID"
        SRV_RC=$?
        SRV_PID=
        # sanitizer reports (make asan) fail the test that started the server
        if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$SRV_LOG"; then
                fail "serve: sanitizer clean ($(basename "$SRV_LOG" .log))" \
                        "$(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$SRV_LOG")"
        fi
}

# http METHOD PATH [BODY] [curl args...]: body in $BODY, status in $CODE
http() {
        local m=$1 p=$2 d=${3-}; shift 3 2>/dev/null || shift $#
        if [ -n "$d" ]; then
                CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$m" "$@" \
                        --data-binary "$d" "http://127.0.0.1:$PORT$p")
        else
                CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$m" "$@" \
                        "http://127.0.0.1:$PORT$p")
        fi
        BODY=$(cat "$TMP/body")
}

# expect_code NAME WANT: check $CODE
expect_code() {
        if [ "$CODE" = "$2" ]; then pass "$1"
        else fail "$1" "HTTP $CODE, expected $2: $(printf '%s' "$BODY" | head -c 300)"; fi
}

# jq-free JSON field check through python3
pyjson() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); $1"; }
