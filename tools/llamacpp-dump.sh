#!/bin/sh
# llamacpp-dump.sh -- build and run tools/llamacpp-dump.cpp against the llama.cpp that the
# anchors ship (headers from the source bundle that /work/anchors/build-tools.sh unpacks,
# the prebuilt shared libraries of @node-llama-cpp/linux-x64; nothing of llama.cpp is
# compiled or committed here).
#   tools/llamacpp-dump.sh MODEL.gguf OUTDIR TOK,TOK,...
# CPU_VARIANT picks the ggml CPU backend (default zen4: AVX-512 without AMX, the backend
# that made tests/data/engine/*.jsonl; "sapphirerapids" adds AMX, which gives other
# logits, see tests/data/engine/README.md).
set -e
A=${ANCHORS:-/work/anchors}
bins=$A/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
src=$A/build/llama.cpp-src
out=${TMPDIR:-/tmp}/llamacpp-dump
[ -d "$src" ] || "$A/build-tools.sh"
if [ ! -x "$out" ] || [ "$out" -ot "$(dirname "$0")/llamacpp-dump.cpp" ]; then
        g++ -std=c++17 -O1 -I"$src/include" -I"$src/ggml/include" "$(dirname "$0")/llamacpp-dump.cpp" \
                -o "$out" -L"$A/build/lib" -lllama -lggml -lggml-base -Wl,-rpath,"$bins"
fi
mkdir -p "$2"
CPU_BE=$bins/libggml-cpu-${CPU_VARIANT:-zen4}.so exec "$out" "$@"
