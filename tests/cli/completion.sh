# CLI: shell completion.  `mullama completion SHELL` prints completions/*;
# each script is loaded into its real shell and asked what `mullama r<TAB>`,
# `mullama run <TAB>` (local model names), flags and flag values complete to.
# bash via its programmable completion (complete -p, COMP_* + the function),
# zsh through its completion system on a pseudo-terminal (zcomplete.zsh),
# fish with `complete -C`.
. tests/cli/lib.sh

# `mullama` on PATH is the binary under test (the scripts run the binary the
# user typed, so `mullama` here)
mkdir -p "$TMP/bin"
ln -s "$MU" "$TMP/bin/mullama"
export PATH="$TMP/bin:$PATH"

for sh in bash zsh fish; do
        expect_rc "completion: $sh script printed" 0 "$MU" completion "$sh"
        if [ "$OUT" = "$(cat "completions/mullama.$sh")" ]; then
                pass "completion: $sh script is completions/mullama.$sh"
        else
                fail "completion: $sh script is completions/mullama.$sh" "embedded copy differs"
        fi
done
expect_rc "completion: no shell is a usage error" 2 "$MU" completion
expect_rc "completion: unknown shell is a usage error" 2 "$MU" completion tcsh
expect_grep "completion: unknown shell named" "unknown shell 'tcsh'" "$ERR"

# the subcommands `mullama --help` lists, sorted, one line
cmds=$("$MU" --help | awk '/^Commands:/ { c = 1; next } c && !NF { exit } c { print $1 }' | sort | tr '\n' ' ')
# two local models, from the smallest test model there is
have_model=0
for g in llama-2-tiny-random.gguf stories260K.gguf SmolLM2-135M-Instruct.Q4_1.gguf; do
        p=$(model "$g") || continue
        printf 'FROM %s\n' "$p" >"$TMP/Modelfile"
        "$MU" create tiny -f "$TMP/Modelfile" 2>/dev/null &&
                "$MU" cp tiny other/name:v2 >/dev/null 2>&1 && have_model=1
        break
done
models_want="other/name:v2 tiny:latest "
nomodel="no test model in tests/models (run make models)"

norm() { sort -u | grep -v '^$' | tr '\n' ' '; }

# ---- bash -----------------------------------------------------------------
bash_complete() { # LINE -> candidates, sorted, one line
        bash --norc --noprofile -c '
                source <(mullama completion bash) || exit 1
                COMP_LINE=$1; COMP_POINT=${#1}
                read -ra COMP_WORDS <<<"$1"; COMP_CWORD=${#COMP_WORDS[@]}
                [[ $1 == *" " ]] || COMP_CWORD=$((COMP_CWORD - 1))
                _mullama mullama; printf "%s\n" "${COMPREPLY[@]}"' bash "$1" | norm
}
spec=$(bash --norc --noprofile -c 'source <(mullama completion bash) && complete -p mullama')
expect_grep "completion: bash registers _mullama" '^complete -F _mullama mullama$' "$spec"
got=$(bash_complete "mullama r")
[ "$got" = "rm run " ] && pass "completion: bash mullama r<TAB>" ||
        fail "completion: bash mullama r<TAB>" "got '$got'"
got=$(bash_complete "mullama ")
[ "$got" = "$cmds" ] && pass "completion: bash lists every subcommand" ||
        fail "completion: bash lists every subcommand" "got '$got', --help has '$cmds'"
if [ $have_model = 1 ]; then
        got=$(bash_complete "mullama run ")
        [ "$got" = "$models_want" ] && pass "completion: bash mullama run <TAB>" ||
                fail "completion: bash mullama run <TAB>" "got '$got'"
        # bash breaks words at ':'; the candidate is what follows it
        got=$(bash_complete "mullama show tiny:")
        [ "$got" = "latest " ] && pass "completion: bash completes after name:" ||
                fail "completion: bash completes after name:" "got '$got'"
        got=$(bash_complete "mullama rm tiny:latest o")
        [ "$got" = "other/name:v2 " ] && pass "completion: bash rm takes several models" ||
                fail "completion: bash rm takes several models" "got '$got'"
        got=$(bash_complete "mullama run tiny ")
        [ -z "$got" ] && pass "completion: bash no model for the prompt" ||
                fail "completion: bash no model for the prompt" "got '$got'"
else
        skip "completion: bash mullama run <TAB>" "$nomodel"
fi
# every flag in each command's --help is offered after "--"
bad=""
for c in $cmds; do
        [ "$c" = help ] && continue
        want=$("$MU" "$c" --help | sed -n '/^Options:/,$p' | grep -oE -- '--[a-z0-9-]+' | norm)
        got=$(bash_complete "mullama $c --")
        [ "$got" = "$want" ] || bad="$bad $c(got '$got' want '$want')"
done
[ -z "$bad" ] && pass "completion: bash offers every flag of every command" ||
        fail "completion: bash offers every flag of every command" "$bad"
got=$(bash_complete "mullama bench --format ")
[ "$got" = "csv json jsonl md table " ] && pass "completion: bash flag values" ||
        fail "completion: bash flag values" "got '$got'"
mkdir -p "$TMP/mf" && : >"$TMP/mf/Modelfile.one" && : >"$TMP/mf/Modelfile.two"
got=$(bash_complete "mullama create x -f $TMP/mf/Modelfile.t")
[ "$got" = "$TMP/mf/Modelfile.two " ] && pass "completion: bash files for -f" ||
        fail "completion: bash files for -f" "got '$got'"
got=$(bash_complete "mullama completion ")
[ "$got" = "bash fish zsh " ] && pass "completion: bash completion SHELL" ||
        fail "completion: bash completion SHELL" "got '$got'"

# ---- zsh ------------------------------------------------------------------
zsh_complete() { # LINE -> candidates
        zsh -f tests/cli/zcomplete.zsh "$TMP/zsh-script" "$TMP/zsh-out" "$1" || echo "(timeout)"
        norm <"$TMP/zsh-out"
}
if command -v zsh >/dev/null; then
        "$MU" completion zsh >"$TMP/zsh-script"
        got=$(zsh_complete "mullama r")
        [ "$got" = "rm run " ] && pass "completion: zsh mullama r<TAB>" ||
                fail "completion: zsh mullama r<TAB>" "got '$got'"
        if [ $have_model = 1 ]; then
                got=$(zsh_complete "mullama run ")
                [ "$got" = "$models_want" ] && pass "completion: zsh mullama run <TAB>" ||
                        fail "completion: zsh mullama run <TAB>" "got '$got'"
        else
                skip "completion: zsh mullama run <TAB>" "$nomodel"
        fi
        got=$(zsh_complete "mullama run --verb")
        [ "$got" = "--verbose " ] && pass "completion: zsh flags" ||
                fail "completion: zsh flags" "got '$got'"
        got=$(zsh_complete "mullama bench --format ")
        [ "$got" = "csv json jsonl md table " ] && pass "completion: zsh flag values" ||
                fail "completion: zsh flag values" "got '$got'"
else
        skip "completion: zsh" "zsh not installed (make deps installs it)"
fi

# ---- fish -----------------------------------------------------------------
fish_complete() { # LINE -> candidates (without descriptions)
        fish --no-config -c "mullama completion fish | source; complete -C '$1'" | cut -f1 | norm
}
if command -v fish >/dev/null; then
        got=$(fish_complete "mullama r")
        [ "$got" = "rm run " ] && pass "completion: fish mullama r<TAB>" ||
                fail "completion: fish mullama r<TAB>" "got '$got'"
        if [ $have_model = 1 ]; then
                got=$(fish_complete "mullama run ")
                [ "$got" = "$models_want" ] && pass "completion: fish mullama run <TAB>" ||
                        fail "completion: fish mullama run <TAB>" "got '$got'"
        else
                skip "completion: fish mullama run <TAB>" "$nomodel"
        fi
        got=$(fish_complete "mullama run --verb")
        [ "$got" = "--verbose " ] && pass "completion: fish flags" ||
                fail "completion: fish flags" "got '$got'"
        got=$(fish_complete "mullama bench --format ")
        [ "$got" = "csv json jsonl md table " ] && pass "completion: fish flag values" ||
                fail "completion: fish flag values" "got '$got'"
else
        skip "completion: fish" "fish not installed (make deps installs it)"
fi
exit $_failed
