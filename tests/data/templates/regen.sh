#!/usr/bin/env bash
# regen.sh -- regenerate the expected renderings in expected/ with the
# reference renderer (@huggingface/jinja through render-template.mjs).
#
#   tests/data/templates/regen.sh [ANCHORS_DIR]     (default /work/anchors)
#
# For every TEMPLATE.jinja here and every conv/CONV.json it writes
# expected/TEMPLATE--CONV.txt (the exact rendering), or
# expected/TEMPLATE--CONV.err (the error message) when the template raises.
# tests/test_template.c renders the same pairs and compares byte for byte.
# The .jinja files are copies of tests/models/templates/*.jinja plus the
# chat templates extracted from GGUF files by extract_gguf_template.py.
set -eu
cd "$(dirname "$0")"
anchors=${1:-/work/anchors}
rm -rf expected
mkdir expected
for t in *.jinja; do
        for c in conv/*.json; do
                name=${t%.jinja}--$(basename "${c%.json}")
                if node "$anchors/render-template.mjs" "$t" "$c" >"expected/$name.txt" 2>"expected/$name.stderr"; then
                        rm "expected/$name.stderr"
                else
                        rm "expected/$name.txt"
                        sed -e '1s/^error: //' "expected/$name.stderr" >"expected/$name.err"
                        rm "expected/$name.stderr"
                fi
        done
done
# features/: one small template per language feature, rendered with conv/multi.json
rm -rf features/expected
mkdir features/expected
for t in features/*.jinja; do
        name=$(basename "${t%.jinja}")
        node "$anchors/render-template.mjs" "$t" conv/multi.json >"features/expected/$name.txt"
done
echo "$(ls expected | wc -l) expected renderings, $(ls features/expected | wc -l) feature renderings written"
