#!/bin/sh
# regen.sh -- regenerate the llama.cpp reference token ids for the prompts in
# prompts/ (node-llama-cpp 3.22.1 = llama.cpp v0.5.0, prebuilt CPU libs; see
# /work/anchors/README.md).
#   MODEL.jsonl          golden.mjs: per prompt file one JSON line with
#                        prompt_tokens (BOS added when the model adds it) and
#                        tokenize_plain (model.tokenize(text, false):
#                        add_special = parse_special = false)
#   MODEL.special.jsonl  special.mjs: tokenize_special (model.tokenize(text,
#                        true): add_special = false, parse_special = true)
# Run from the repository root:  sh tests/data/tokenizer/regen.sh
set -e
ANCHORS=${ANCHORS:-/work/anchors}
export ANCHORS
D=tests/data/tokenizer
for m in SmolLM2-135M-Instruct.Q4_1 gemma-3-270m-q4_k_m stories260K; do
        node "$ANCHORS/golden.mjs" --model "tests/models/$m.gguf" --gen 0 "$D"/prompts/*.txt \
                > "$D/$m.jsonl"
        node "$D/special.mjs" "tests/models/$m.gguf" "$D"/prompts/*.txt > "$D/$m.special.jsonl"
done
