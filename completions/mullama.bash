# bash completion for mullama                              -*- shell-script -*-
#
# Installed by `make install` as share/bash-completion/completions/mullama
# (loaded on demand by the bash-completion package), or load it by hand:
#     source <(mullama completion bash)
#
# Subcommands and flags are read from the binary's own `mullama --help` and
# `mullama CMD --help`, so they always match the binary being completed;
# local model names come from `mullama list --quiet`.  Paths complete where a
# command takes a file (run/show/bench accept ./x.gguf, create -f, import).

# BIN -> "name<TAB>summary" per subcommand
__mullama_commands() {
        "$1" --help 2>/dev/null | awk '/^Commands:/ { c = 1; next }
                c && !NF { exit }
                c { n = $1; $1 = ""; sub(/^ +/, ""); print n "\t" $0 }'
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

# CMD --LONG ARG -> fixed values of a flag's argument, or "FILE", "DIR", "MODEL"
__mullama_values() {
        case "$2" in
        --format)
                case "$1" in
                bench) echo "table json jsonl csv md" ;;
                *) echo "json" ;;
                esac
                return ;;
        --kv-type) echo "f16 q8_0 f32"; return ;;
        --quantize)
                echo "q4_0 q4_1 q5_0 q5_1 q8_0 q2_K q3_K_S q3_K_M q3_K_L q4_K_S q4_K_M q5_K_S q5_K_M q6_K"
                return ;;
        --gpu-layers) [[ $1 == bench ]] && echo "0 1 half all" || echo "0 1 all"; return ;;
        --preload) echo MODEL; return ;;
        esac
        case "$3" in
        FILE* | PATH*) echo FILE ;;
        DIR*) echo DIR ;;
        MODEL*) echo MODEL ;;
        esac
}

_mullama() {
        local line=${COMP_LINE:0:COMP_POINT} bin cur cmd="" i npos=0
        local -a w opts
        COMPREPLY=()
        read -ra w <<<"$line"
        if [[ ${#w[@]} -eq 0 || $line == *[[:space:]] ]]; then w+=(""); fi
        cur=${w[${#w[@]} - 1]}
        bin=${w[0]/#\~/$HOME}

        # the subcommand: the first word after the binary that is not a flag
        for ((i = 1; i < ${#w[@]} - 1; i++)); do
                if [[ ${w[i]} != -* ]]; then cmd=${w[i]}; break; fi
        done
        if [[ -z $cmd ]]; then
                if [[ $cur == -* ]]; then
                        mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
                else
                        mapfile -t COMPREPLY < <(compgen -W "$(__mullama_commands "$bin" | cut -f1)" -- "$cur")
                fi
                return 0
        fi
        [[ $cur == -* ]] || case "$cmd" in
        help)
                [[ $i -eq $((${#w[@]} - 2)) ]] &&
                        mapfile -t COMPREPLY < <(compgen -W "$(__mullama_commands "$bin" | cut -f1)" -- "$cur")
                return 0 ;;
        completion)
                mapfile -t COMPREPLY < <(compgen -W "bash zsh fish" -- "$cur")
                return 0 ;;
        esac

        mapfile -t opts < <(__mullama_options "$bin" "$cmd")
        # walk the words after the subcommand up to the one being completed:
        # count positionals and note a flag that is still waiting for its value
        local j o lo sh ar last=$((${#w[@]} - 1)) arg="" argname=""
        for ((j = i + 1; j < last; j++)); do
                if [[ -n $arg ]]; then arg=""; continue; fi
                if [[ ${w[j]} == -?* && ${w[j]} != *=* ]]; then
                        for o in "${opts[@]}"; do
                                IFS=$'\037' read -r lo sh ar _ <<<"$o"
                                if [[ -n $ar && (${w[j]} == "$lo" || ${w[j]} == "$sh") ]]; then
                                        arg=$lo; argname=$ar
                                fi
                        done
                else
                        ((npos++))
                fi
        done
        local kind=""
        if [[ -n $arg ]]; then
                kind=$(__mullama_values "$cmd" "$arg" "$argname")
                case "$kind" in FILE | DIR | MODEL | "") ;; *)
                        mapfile -t COMPREPLY < <(compgen -W "$kind" -- "$cur"); return 0 ;;
                esac
        elif [[ $cur == -* ]]; then
                local words=""
                for o in "${opts[@]}"; do
                        IFS=$'\037' read -r lo sh ar _ <<<"$o"
                        words+=" $lo $sh"
                done
                mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
                return 0
        else
                case "$cmd" in
                run | show | cp | copy | export | push) [[ $npos -eq 0 ]] && kind=MODEL ;;
                bench | rm | delete | stop | pull) kind=MODEL ;;
                import) kind=FILE ;;
                esac
        fi
        case "$kind" in
        MODEL)
                mapfile -t COMPREPLY < <(compgen -W "$("$bin" list --quiet 2>/dev/null)" -- "$cur")
                # bash splits words at ':' (COMP_WORDBREAKS): complete the part after it
                if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
                        local pre=${cur%"${cur##*:}"}
                        COMPREPLY=("${COMPREPLY[@]#"$pre"}")
                fi
                # a path, for commands that accept GGUF files
                if [[ $cmd != rm && $cmd != cp && $cmd != export && $cmd != pull &&
                        ($cur == */* || $cur == .* || $cur == \~*) ]]; then
                        compopt -o filenames 2>/dev/null
                        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
                fi ;;
        FILE)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
        DIR)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
        esac
        return 0
}

complete -F _mullama mullama
