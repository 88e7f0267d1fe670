#!/bin/sh
# Regenerate the llama.cpp references used by tests/test_engine_ref.c.
# Needs /work/anchors (node-llama-cpp 3.22.1 prebuilt CPU libs, llama.cpp v0.5.0).
# Run from the repository root: tests/data/engine/regen.sh
#   <model>.jsonl      golden.mjs: prompt token ids and the greedy 32 tokens
#   <model>.top4.txt   llama.cpp's top-4 logits at every greedy step, evaluating
#                      prompt + greedy tokens in one batch (tools/llamacpp-logits.mjs)
#   smollm2.f64.txt    float64 reference logits (tools/ref-forward.py) for one prompt,
#                      with llama.cpp's (see the file's header)
set -e
A=${ANCHORS:-/work/anchors}
D=tests/data/engine
for m in "smollm2 SmolLM2-135M-Instruct.Q4_1.gguf" "gemma3 gemma-3-270m-q4_k_m.gguf"; do
        set -- $m
        node "$A/golden.mjs" --model tests/models/$2 --gen 32 $D/prompts/*.txt > $D/$1.jsonl
        node tools/llamacpp-logits.mjs --anchors "$A" --model tests/models/$2 \
                --jsonl $D/$1.jsonl --top 4 > $D/$1.top4.txt
done
