# fish completion for mullama.
#
# Installed by `make install` as share/fish/vendor_completions.d/mullama.fish,
# or load it by hand:
#     mullama completion fish | source
#
# Subcommands and flags are read from the binary's own `mullama --help` and
# `mullama CMD --help`, so they always match it; local model names come from
# `mullama list --quiet`.

function __mullama_bin
    set -l t (commandline -opc)
    string replace -r '^~' -- $HOME $t[1]
end

# "name<TAB>summary" per subcommand
function __mullama_commands
    set -l bin (__mullama_bin)
    $bin --help 2>/dev/null | awk '/^Commands:/ { c = 1; next }
        c && !NF { exit }
        c { n = $1; $1 = ""; sub(/^ +/, ""); print n "\t" $0 }'
end

# CMD -> "--long US -s US ARG US help" (US: the \x1f separator) per option
function __mullama_options
    set -l bin (__mullama_bin)
    $bin $argv[1] --help 2>/dev/null | awk '/^Options:/ { o = 1; next }
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
end

# the subcommand's index in the tokens before the cursor (0: none yet)
function __mullama_cmd_index
    set -l t (commandline -opc)
    for i in (seq 2 (count $t))
        if not string match -q -- '-*' $t[$i]
            echo $i
            return 0
        end
    end
    echo 0
    return 1
end

function __mullama_needs_command
    not __mullama_cmd_index >/dev/null
end

# CMD --LONG ARG -> fixed values of a flag's argument, or FILE, DIR, MODEL
function __mullama_values
    switch $argv[2]
        case --format
            if test "$argv[1]" = bench
                printf '%s\n' table json jsonl csv md
            else
                echo json
            end
            return
        case --kv-type
            printf '%s\n' f16 q8_0 f32
            return
        case --quantize
            printf '%s\n' q4_0 q4_1 q5_0 q5_1 q8_0 q2_K q3_K_S q3_K_M q3_K_L q4_K_S q4_K_M q5_K_S q5_K_M q6_K
            return
        case --gpu-layers
            if test "$argv[1]" = bench
                printf '%s\n' 0 1 half all
            else
                printf '%s\n' 0 1 all
            end
            return
        case --preload
            echo MODEL
            return
    end
    switch "$argv[3]"
        case 'FILE*' 'PATH*'
            echo FILE
        case 'DIR*'
            echo DIR
        case 'MODEL*'
            echo MODEL
    end
end

# every candidate for the token under the cursor, once a subcommand is given
function __mullama_args
    set -l t (commandline -opc)
    set -l cur (commandline -ct)
    set -l ci (__mullama_cmd_index)
    set -l cmd $t[$ci]
    if not string match -q -- '-*' $cur
        switch $cmd
            case help
                test (count $t) -eq $ci; and __mullama_commands
                return
            case completion
                printf '%s\n' bash zsh fish
                return
        end
    end
    set -l opts (__mullama_options $cmd)
    set -l npos 0
    set -l arg ''
    set -l argname ''
    for j in (seq (math $ci + 1) (count $t))
        if test -n "$arg"
            set arg ''
            continue
        end
        if string match -qr -- '^-.' $t[$j]; and not string match -q -- '*=*' $t[$j]
            for o in $opts
                set -l f (string split \x1f -- $o)
                if test -n "$f[3]"; and contains -- $t[$j] $f[1] $f[2]
                    set arg $f[1]
                    set argname $f[3]
                end
            end
        else
            set npos (math $npos + 1)
        end
    end
    set -l kind ''
    if test -n "$arg"
        set kind (__mullama_values $cmd $arg $argname)
        switch "$kind"
            case FILE DIR MODEL ''
            case '*'
                printf '%s\n' $kind
                return
        end
    else if string match -q -- '-*' $cur
        for o in $opts
            set -l f (string split \x1f -- $o)
            printf '%s\t%s\n' $f[1] $f[4]
            test -n "$f[2]"; and printf '%s\t%s\n' $f[2] $f[4]
        end
        return
    else
        switch $cmd
            case run show cp copy export push
                test $npos -eq 0; and set kind MODEL
            case bench rm delete stop pull
                set kind MODEL
            case import
                set kind FILE
        end
    end
    switch "$kind"
        case MODEL
            set -l bin (__mullama_bin)
            $bin list --quiet 2>/dev/null
            # a path, for commands that accept GGUF files
            if contains -- $cmd run show bench; and string match -qr -- '^[.~]|/' $cur
                __fish_complete_suffix .gguf
            end
        case FILE
            __fish_complete_path $cur
        case DIR
            __fish_complete_directories $cur
    end
end

complete -c mullama -f
complete -c mullama -n __mullama_needs_command -s h -l help -d 'show help'
complete -c mullama -n __mullama_needs_command -s v -l version -d 'show version, build commit and backends'
complete -c mullama -n __mullama_needs_command -a '(__mullama_commands)'
complete -c mullama -n 'not __mullama_needs_command' -a '(__mullama_args)'
