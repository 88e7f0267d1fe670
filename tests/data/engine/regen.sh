#!/bin/sh
# Regenerate the llama.cpp references used by tests/test_engine_ref.c.
# Needs /work/anchors (node-llama-cpp 3.22.1 prebuilt CPU libs, llama.cpp v0.5.0).
# Run from the repository root: tests/data/engine/regen.sh
#   <model>.jsonl      golden.mjs: prompt token ids and the greedy 32 tokens
#   <model>.steps.txt  llama.cpp's 4 highest logits at every step of that greedy run
#                      (tools/llamacpp-steps.mjs: prompt in one decode, then one per token)
# llama.cpp's output depends on which of its CPU backends it loads (README.md): the
# goldens come from the zen4 backend (AVX-512, no AMX).  ggml loads the best backend the
# CPU runs, so this script runs node from a copy of the anchors' node_modules holding only
# libggml-cpu-$CPU_VARIANT.so (default zen4; on a CPU without AVX-512 pick haswell and
# expect other goldens).  The f64 files (tools/ref-forward.py) are not remade here.
set -e
A=${ANCHORS:-/work/anchors}
V=${CPU_VARIANT:-zen4}
D=tests/data/engine
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cp "$A/package.json" "$A/golden.mjs" "$T/"
cp -a "$A/node_modules" "$T/"
for f in "$T"/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-*.so; do
        [ "$(basename "$f")" = "libggml-cpu-$V.so" ] || rm "$f"
done
for m in "smollm2 SmolLM2-135M-Instruct.Q4_1.gguf" "gemma3 gemma-3-270m-q4_k_m.gguf"; do
        set -- $m
        (cd "$T" && node golden.mjs --model "$OLDPWD/tests/models/$2" --gen 32 "$OLDPWD"/$D/prompts/*.txt) > $D/$1.jsonl
        node tools/llamacpp-steps.mjs --anchors "$T" --model tests/models/$2 --jsonl $D/$1.jsonl \
                > $D/$1.steps.txt
        if grep -q mismatch $D/$1.steps.txt; then
                echo "regen: llamacpp-steps.mjs disagrees with golden.mjs on $1" >&2
                exit 1
        fi
done
