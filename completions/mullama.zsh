#compdef mullama
# zsh completion for mullama.
#
# Installed by `make install` as share/zsh/site-functions/_mullama (any
# directory in $fpath works; run compinit after), or load it by hand after
# compinit:
#     source <(mullama completion zsh)
#
# Subcommands and flags are read from the binary's own `mullama --help` and
# `mullama CMD --help`, so they always match it; local model names come from
# `mullama list --quiet`.

# BIN -> "name:summary" per subcommand
__mullama_commands() {
        "$1" --help 2>/dev/null | awk '/^Commands:/ { c = 1; next }
                c && !NF { exit }
                c { n = $1; $1 = ""; sub(/^ +/, ""); print n ":" $0 }'
}

# BIN CMD -> "--long US -s US ARG US help" (US: the \037 separator) per option of CMD
__mullama_options() {
        "$1" "$2" --help 2>/dev/null | awk '/^Options:/ { o = 1; next }
                o && /^ +-/ {
                        s = $0; sub(/^ +/, "", s); i = index(s, "  ")
                        if (i) { l = substr(s, 1, i - 1); d = substr(s, i); sub(/^ +/, "", d) }
                        else { l = s; d = "" }
                        n = split(l, a, " "); lo = ""; sh = ""; ar = ""
                        for (k = 1; k <= n; k++)
                                if (a[k] ~ /^--/) lo = a[k]
                                else if (a[k] ~ /^-[^-],?$/) { sh = a[k]; sub(/,$/, "", sh) }
                                else ar = a[k]
                        print lo "\037" sh "\037" ar "\037" d
                }'
}

# CMD --LONG ARG -> fixed values of a flag's argument, or FILE, DIR, MODEL
__mullama_values() {
        case $2 in
        (--format) [[ $1 == bench ]] && print -- "table json jsonl csv md" || print -- json; return ;;
        (--kv-type) print -- "f16 q8_0 f32"; return ;;
        (--quantize)
                print -- "q4_0 q4_1 q5_0 q5_1 q8_0 q2_K q3_K_S q3_K_M q3_K_L q4_K_S q4_K_M q5_K_S q5_K_M q6_K"
                return ;;
        (--gpu-layers) [[ $1 == bench ]] && print -- "0 1 half all" || print -- "0 1 all"; return ;;
        (--preload) print -- MODEL; return ;;
        esac
        case $3 in
        (FILE*|PATH*) print -- FILE ;;
        (DIR*) print -- DIR ;;
        (MODEL*) print -- MODEL ;;
        esac
}

_mullama() {
        local bin=${~words[1]} cmd="" cur=${words[CURRENT]} i j ci=0 npos=0 arg="" argname="" kind=""
        local -a cmds opts models flags vals
        local o lo sh ar d expl

        for (( i = 2; i < CURRENT; i++ )); do
                if [[ ${words[i]} != -* ]]; then cmd=${words[i]}; ci=$i; break; fi
        done
        if [[ -z $cmd ]]; then
                if [[ $cur == -* ]]; then
                        flags=('--help:show help' '--version:show version, build commit and backends')
                        _describe -t options 'mullama option' flags
                else
                        cmds=(${(f)"$(__mullama_commands $bin)"})
                        _describe -t commands 'mullama command' cmds
                fi
                return
        fi
        [[ $cur == -* ]] || case $cmd in
        (help)
                if (( CURRENT == ci + 1 )); then
                        cmds=(${(f)"$(__mullama_commands $bin)"})
                        _describe -t commands 'mullama command' cmds
                fi
                return ;;
        (completion)
                vals=(bash zsh fish)
                _describe -t shells 'shell' vals
                return ;;
        esac

        opts=(${(f)"$(__mullama_options $bin $cmd)"})
        for (( j = ci + 1; j < CURRENT; j++ )); do
                if [[ -n $arg ]]; then arg=""; continue; fi
                if [[ ${words[j]} == -?* && ${words[j]} != *=* ]]; then
                        for o in $opts; do
                                IFS=$'\037' read -r lo sh ar d <<<"$o"
                                if [[ -n $ar && ( ${words[j]} == $lo || ${words[j]} == $sh ) ]]; then
                                        arg=$lo; argname=$ar
                                fi
                        done
                else
                        (( npos++ ))
                fi
        done

        if [[ -n $arg ]]; then
                kind=$(__mullama_values $cmd $arg $argname)
                case $kind in
                (FILE|DIR|MODEL|"") ;;
                (*) vals=(${=kind}); _wanted values expl "value for $arg" compadd -a vals; return ;;
                esac
        elif [[ $cur == -* ]]; then
                for o in $opts; do
                        IFS=$'\037' read -r lo sh ar d <<<"$o"
                        d=${d//:/\\:}
                        flags+=("$lo:$d")
                        [[ -n $sh ]] && flags+=("$sh:$d")
                done
                _describe -t options "mullama $cmd option" flags
                return
        else
                case $cmd in
                (run|show|cp|copy|export|push) (( npos == 0 )) && kind=MODEL ;;
                (bench|rm|delete|stop|pull) kind=MODEL ;;
                (import) kind=FILE ;;
                esac
        fi
        case $kind in
        (MODEL)
                models=(${(f)"$($bin list --quiet 2>/dev/null)"})
                models=(${models//:/\\:})
                _describe -t models 'model' models
                # a path, for commands that accept GGUF files
                if [[ $cmd == (run|show|bench) && ( $cur == [.~]* || $cur == */* ) ]]; then
                        _files -g '*.gguf'
                fi ;;
        (FILE) _files ;;
        (DIR) _files -/ ;;
        esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
        _mullama "$@"
else
        compdef _mullama mullama
fi
