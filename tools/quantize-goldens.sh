#!/usr/bin/env bash
# quantize-goldens.sh -- regenerate tests/data/quantize/expected.sha256: the SHA-256 of
# llama.cpp's llama-quantize output (the anchors' build/llama-quantize, llama.cpp
# v0.5.0) for each input model and type that tests/cli/quantize.sh checks.
# Usage, from the repository root after `make` (ANCHORS=/work/anchors by default):
#   tools/quantize-goldens.sh
set -euo pipefail
A=${ANCHORS:-/work/anchors}
Q=$A/build/llama-quantize
. tests/data/quantize/cases.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
MULLAMA_SYNTH_OUT=$tmp tests/mullama-test synth_llama_matches >/dev/null
"$Q" "$tmp/synth-llama.gguf" "$tmp/synth-llama-Q8_0.gguf" Q8_0 >/dev/null 2>&1
out=tests/data/quantize/expected.sha256
{
        echo "# sha256 of llama-quantize --allow-requantize IN OUT TYPE (llama.cpp v0.5.0),"
        echo "# made by tools/quantize-goldens.sh; columns: sha256 input type"
        for c in "${QUANT_CASES[@]}"; do
                set -- $c
                in=$1; type=$2
                case $in in
                synth-llama*) path=$tmp/$in.gguf ;;
                *) path=tests/models/$in ;;
                esac
                "$Q" --allow-requantize "$path" "$tmp/out.gguf" "$type" >/dev/null 2>&1
                echo "$(sha256sum < "$tmp/out.gguf" | cut -d' ' -f1) $in $type"
        done
} > "$out"
echo "wrote $out"
