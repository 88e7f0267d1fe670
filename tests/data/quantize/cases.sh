# The (input, type) pairs tests/cli/quantize.sh compares with llama-quantize
# (sourced by it and by tools/quantize-goldens.sh).  synth-llama is the random
# F32 llama model that tests/test_synth.c writes (rows of 256 and 512, so every
# K-quant applies); synth-llama-Q8_0 is that model quantized to Q8_0 by the same
# tool first (requantizing); the others are in tests/models.
QUANT_CASES=(
        "synth-llama Q4_0" "synth-llama Q4_1" "synth-llama Q5_0" "synth-llama Q5_1"
        "synth-llama Q8_0" "synth-llama Q2_K" "synth-llama Q3_K_S" "synth-llama Q3_K_M"
        "synth-llama Q3_K_L" "synth-llama Q4_K_S" "synth-llama Q4_K_M" "synth-llama Q5_K_S"
        "synth-llama Q5_K_M" "synth-llama Q6_K" "synth-llama F16" "synth-llama BF16"
        "synth-llama F32"
        "stories260K.gguf Q4_K_M" "stories260K.gguf Q8_0" "stories260K.gguf Q3_K_M"
        "llama-2-tiny-random.gguf Q4_K_M" "llama-2-tiny-random.gguf Q5_1"
        "llama-2-tiny-random.gguf BF16" "synth-llama-Q8_0 Q4_K_M" "synth-llama-Q8_0 Q6_K"
)
