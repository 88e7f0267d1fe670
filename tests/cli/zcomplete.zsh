#!/usr/bin/zsh -f
# zcomplete.zsh SCRIPT OUT LINE -- what interactive zsh offers for LINE<TAB>.
#
# Starts an interactive `zsh -f -i` on a pseudo-terminal (zsh/zpty), runs
# compinit, loads SCRIPT (a completion script), types LINE and a TAB, and
# writes each candidate the completion system was given (one per line, via a
# compadd wrapper) to the file OUT.  Exit 0 when the TAB was handled, 1 on a
# timeout.  Used by tests/cli/completion.sh.
script=$1 out=$2 line=$3
done_file=$out.done rc=$out.rc
rm -f -- $out $done_file
: >$out
{
        print -r -- "__zc_out=${(q)out} __zc_done_file=${(q)done_file}"
        print -r -- "source ${(q)script}"
        cat <<'RC'
compadd() {
        # calls that only compute matches (-O/-A/-D) pass through untouched
        if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
        local -a __hits
        builtin compadd -A __hits "$@"
        (( $#__hits )) && print -rl -- $__hits >>$__zc_out
        builtin compadd "$@"
}
__zc_done() { print ok >$__zc_done_file; }
zle -N __zc_done
bindkey '^X^D' __zc_done
print ready >$__zc_done_file
RC
} >$rc
zmodload zsh/zpty || exit 1
zpty z zsh -f -i || exit 1
zpty -w z "PS1='' PS2='' RPS1=''; unsetopt autolist automenu menucomplete listbeep beep; autoload -Uz compinit && compinit -u -D && source ${(q)rc}"
wait_done() {
        local i
        for i in {1..600}; do
                [[ -e $done_file ]] && return 0
                sleep 0.1
        done
        return 1
}
wait_done || { zpty -d z; rm -f -- $rc; exit 1; }
rm -f -- $done_file
# the TAB, then a key bound to a widget that runs after completion finished
zpty -w -n z "$line"$'\t\C-x\C-d'
wait_done
ok=$?
zpty -d z
rm -f -- $done_file $rc
exit $ok
