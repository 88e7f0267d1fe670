#!/bin/sh
# Regenerate the llama.cpp greedy references used by tests/test_engine.c.
# Needs /work/anchors (node-llama-cpp 3.22.1 prebuilt CPU libs, llama.cpp v0.5.0).
# Run from the repository root: tests/data/engine/regen.sh
set -e
A=${ANCHORS:-/work/anchors}
D=tests/data/engine
node "$A/golden.mjs" --model tests/models/SmolLM2-135M-Instruct.Q4_1.gguf --gen 32 \
        $D/prompts/*.txt > $D/smollm2.jsonl
node "$A/golden.mjs" --model tests/models/gemma-3-270m-q4_k_m.gguf --gen 32 \
        $D/prompts/*.txt > $D/gemma3.jsonl
