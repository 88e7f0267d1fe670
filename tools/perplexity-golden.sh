#!/usr/bin/env bash
# perplexity-golden.sh -- llama.cpp's llama-perplexity on the test text, for
# tests/cli/perplexity.sh.  llama-perplexity is compiled (once) from the
# llama.cpp source bundled with the anchors' node-llama-cpp, linked to the
# shipped libraries, into $ANCHORS/tmp-engine (ANCHORS=/work/anchors).
# Usage: tools/perplexity-golden.sh > tests/data/perplexity/expected.txt
set -euo pipefail
A=${ANCHORS:-/work/anchors}
src=$A/build/llama.cpp-src
bins=$(readlink -f "$A/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64")
out=$A/tmp-engine
mkdir -p "$out"
if [ ! -x "$out/llama-perplexity" ]; then
        g++ -std=c++17 -O2 -DNDEBUG -I"$src/common" -I"$src/include" -I"$src/ggml/include" \
                -I"$src/vendor" "$src"/tools/perplexity/*.cpp -o "$out/llama-perplexity" \
                -L"$A/build/lib" -lllama-common -lllama -lggml -lggml-base -lpthread \
                -Wl,-rpath,"$bins"
        # ggml loads its CPU backend from the executable's directory
        for f in "$bins"/libggml-cpu-*.so; do ln -sf "$f" "$out/"; done
fi
echo "# llama-perplexity -m MODEL -f tests/data/perplexity/story.txt -c 64 -b 64 -t 1"
echo "# (llama.cpp v0.5.0, made by tools/perplexity-golden.sh); columns: model final-PPL"
for m in stories260K.gguf; do
        ppl=
        # its logger thread sometimes loses the last lines at exit: retry
        for try in 1 2 3 4 5 6 7 8; do
                ppl=$("$out/llama-perplexity" -m "tests/models/$m" -f tests/data/perplexity/story.txt \
                        -c 64 -b 64 -t 1 2>&1 | grep -a "Final estimate" | awk '{ print $7 }') || true
                [ -n "$ppl" ] && break
        done
        echo "$m $ppl"
done
