# CLI: the interactive chat, driven in a real terminal through tmux.
. tests/cli/lib.sh
s=$(model stories260K.gguf)
command -v tmux >/dev/null || { skip "repl: all" "tmux not installed"; exit 0; }
[ -n "$s" ] || { skip "repl: all" "stories260K.gguf not in tests/models"; exit 0; }
. tests/cli/tmux_lib.sh

# A story model whose template concatenates the conversation: the second
# answer continues from the first, so it depends on it.
mkdir -p "$TMP/mf"
cat > "$TMP/mf/Modelfile" <<MF
FROM $s
TEMPLATE """{{ range .Messages }}{{ .Content }}{{ end }}"""
PARAMETER temperature 0
PARAMETER num_predict 12
MF
"$MU" create story -f "$TMP/mf/Modelfile" >/dev/null 2>&1 || fail "repl: create story model"

start 120 "" story
ask "Once upon a time"
first=$(answer_of "Once upon a time" | tr -d '\n')
ask "The dog"
second=$(answer_of "The dog" | tr -d '\n')
T send-keys -t r "/bye" Enter
wait_for 'EXITED-0' && pass "repl: /bye exits 0" || fail "repl: /bye exits 0" "$(screen | tail -3)"
# the same second question alone gives a different answer
start 120 "" story
ask "The dog"
alone=$(answer_of "The dog" | tr -d '\n')
if [ -n "$first" ] && [ -n "$second" ] && [ "$second" != "$alone" ]; then
        pass "repl: second answer depends on the first"
else fail "repl: second answer depends on the first" "first='$first' second='$second' alone='$alone'"; fi

# /set parameter, /clear, same question twice -> same answer
T send-keys -t r "/set parameter num_predict 8" Enter
wait_for "Set parameter 'num_predict' to '8'" && pass "repl: /set parameter" || fail "repl: /set parameter" "$(screen | tail -3)"
T send-keys -t r "/clear" Enter; wait_for 'Cleared session context'
ask "Lily"
a1=$(answer_of Lily | tr -d '\n')
T send-keys -t r "/clear" Enter; sleep 0.3
ask "Lily"
a2=$(answer_of Lily | tr -d '\n')
if [ -n "$a1" ] && [ "$a1" = "$a2" ]; then pass "repl: temperature 0 repeats the answer"
else fail "repl: temperature 0 repeats the answer" "'$a1' vs '$a2'"; fi

# multi-line input
c0=$(count '... a ball"""')
T send-keys -t r '"""' Enter 'Tom had' Enter 'a ball"""' Enter
wait_for '^\.\.\. a ball"""' && pass "repl: multi-line input" || fail "repl: multi-line input" "$(screen | tail -5)"
settle '... a ball"""' "$c0"

# Ctrl-C at an empty prompt: a hint, no exit
T send-keys -t r C-c
wait_for 'Use Ctrl \+ d or /bye to exit' && pass "repl: Ctrl-C at prompt hints" || fail "repl: Ctrl-C at prompt hints" "$(screen | tail -3)"
# unknown command
T send-keys -t r "/frob" Enter
wait_for "Unknown command '/frob'" && pass "repl: unknown command hint" || fail "repl: unknown command hint"
# Ctrl-C mid-answer (long answer), then the prompt is back
T send-keys -t r "/set parameter num_predict 4000" Enter
T send-keys -t r "Once upon a time" Enter; sleep 0.4; T send-keys -t r C-c
sleep 0.5
T send-keys -t r "/show info" Enter
wait_for 'architecture +llama' && pass "repl: Ctrl-C stops the answer, prompt back" || fail "repl: Ctrl-C stops the answer, prompt back" "$(screen | tail -5)"
# /save a model with the conversation, then show lists the messages
T send-keys -t r "/save saved" Enter
wait_for "Created new model 'saved'" && pass "repl: /save" || fail "repl: /save" "$(screen | tail -3)"
T send-keys -t r C-d
wait_for 'EXITED-0' && pass "repl: Ctrl-D exits" || fail "repl: Ctrl-D exits"
expect_rc "repl: show saved model" 0 "$MU" show saved --modelfile
expect_grep "repl: saved model has the conversation as MESSAGEs" 'MESSAGE user .*Lily' "$(printf '%s' "$OUT" | tr '\n' ' ')"
# history persisted
if grep -q '^/save saved$' "$HOME/.mullama/history" 2>/dev/null; then pass "repl: history persisted"
else fail "repl: history persisted" "$(cat "$HOME/.mullama/history" 2>&1 | tail -3)"; fi
T kill-server 2>/dev/null
exit $_failed
