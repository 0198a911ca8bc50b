# doc/vdcc.bash - bash completion for vdcc, installed by tools/install.sh
# as share/bash-completion/completions/vdcc.  Commands come from
# `vdcc --help` and each command's options from `vdcc CMD --help`, so the
# completion follows the tool it completes.

_vdcc() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local vdcc=${COMP_WORDS[0]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        local cmds
        cmds=$("$vdcc" --help 2>/dev/null | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
        COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
        return
    fi
    local cmd=${COMP_WORDS[1]}
    case $prev in
        --backend)
            COMPREPLY=($(compgen -W "ref toy" -- "$cur") $(compgen -f -X '!*.so' -- "$cur") $(compgen -d -- "$cur"))
            return ;;
        --junit | -o | --script | --contract)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --outdir | --dir | --scratch)
            COMPREPLY=($(compgen -d -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        local opts
        opts=$("$vdcc" "$cmd" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _vdcc vdcc
