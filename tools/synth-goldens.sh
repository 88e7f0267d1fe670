#!/usr/bin/env bash
# synth-goldens.sh -- regenerate tests/data/synth/<arch>.logits: llama.cpp's logits
# (node-llama-cpp's prebuilt CPU libraries from the anchors) for the random-weight
# models that tests/test_synth.c writes, after the prompt below (the same list as
# synth_prompt in tests/test_synth.c).
# Usage, from the repository root after `make tests/mullama-test`:
#   tools/synth-goldens.sh            (ANCHORS=/work/anchors by default)
set -euo pipefail
A=${ANCHORS:-/work/anchors}
TOKENS=1,45,310,77,402,12,260,199,31,488,5,140,367,91,222,18,455,63,301,150,9,420,274,88
D=tests/data/synth
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# write the models (the comparisons fail until the goldens exist; that is fine here)
MULLAMA_SYNTH_OUT=$tmp tests/mullama-test synth_ >/dev/null 2>&1 || true
mkdir -p "$D"
for f in "$tmp"/synth-*.gguf; do
        name=$(basename "$f" .gguf); name=${name#synth-}
        {
                echo "# llama.cpp logits after the prompt for the synthetic '$name' model of"
                echo "# tests/test_synth.c; made by tools/synth-goldens.sh:"
                echo "#   node tools/llamacpp-logits.mjs --model synth-$name.gguf --tokens \$TOKENS --top 0"
                echo "tokens $TOKENS"
                node tools/llamacpp-logits.mjs --anchors "$A" --model "$f" --tokens "$TOKENS" --top 0 |
                        tr ' ' '\n' | tail -n +2 | cut -d: -f2
        } > "$D/$name.logits"
        echo "wrote $D/$name.logits"
done
