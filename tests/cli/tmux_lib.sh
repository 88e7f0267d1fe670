# tmux_lib.sh -- drive `mullama run` in a real terminal through tmux (sourced
# by the repl tests after lib.sh).  One session "r" on a private socket.
sock="$TMP/tmux.sock"
T() { tmux -S "$sock" "$@"; }
screen() { T capture-pane -t r -p -S -; }     # scrollback + visible
wait_for() { # PATTERN [TRIES]: until the screen matches (0.2 s a try)
        for _ in $(seq 1 "${2:-100}"); do
                screen | grep -qE -- "$1" && return 0
                sleep 0.2
        done
        return 1
}
# until the last non-empty line is an empty prompt
idle() {
        for _ in $(seq 1 150); do
                [ "$(screen | grep -v '^$' | tail -1)" = ">>>" ] && return 0
                sleep 0.2
        done
        return 1
}
# count LINE: how many screen lines are exactly LINE
count() { screen | grep -cxF -- "$1"; }
# settle LINE C0: until more than C0 lines read LINE (what was just typed is
# on screen) and the screen ends with an empty prompt (its answer is done)
settle() {
        for _ in $(seq 1 150); do
                [ "$(count "$1")" -gt "$2" ] && idle && return 0
                sleep 0.2
        done
        return 1
}
# ask TEXT: type a line, wait for the answer and the next prompt
ask() {
        local c0; c0=$(count ">>> $1")
        T send-keys -t r "$1" Enter
        settle ">>> $1" "$c0"
}
# answer_of TEXT: the lines after the last ">>> TEXT" up to the next prompt
answer_of() {
        screen | awk -v q=">>> $1" '$0 == q {on=1; out=""; next}
                on && /^>>>/ {on=0; last=out; next} on {out = out $0 "\n"}
                END {if (on) last=out; printf "%s", last}'
}
start() { # start WIDTH ENV MODEL-REF [ARGS]: a new session, at its first prompt
        local w=$1 env=$2; shift 2
        T kill-server 2>/dev/null; sleep 0.5
        T new-session -d -s r -x "$w" -y 60 "HOME='$HOME' MULLAMA_MODELS='$MULLAMA_MODELS' $env '$MU' run $*; echo EXITED-\$?; sleep 30"
        idle || fail "repl: prompt appears" "$(screen | tail -5)"
}
