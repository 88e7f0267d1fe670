# CLI: MULLAMA_CPU forces each CPU kernel table, and every table this CPU runs
# gives the same greedy continuation on real quantized models (Q4_1 + Q8_0:
# SmolLM2; Q4_K + Q6_K: Gemma 3), which also runs the unit kernel tests'
# table loop end to end.  The expected text is the scalar table's (the
# reference kernels).  SmolLM2 is checked on its first line only: its third
# line starts at a near tie that float rounding order can flip.
. tests/cli/lib.sh
m=$(model SmolLM2-135M-Instruct.Q4_1.gguf)
g=$(model gemma-3-270m-q4_k_m.gguf)

for isa in scalar avx2 avx512; do
        MULLAMA_CPU=$isa "$MU" --version >"$TMP/out" 2>"$TMP/err"
        if grep -q "not available here" "$TMP/err"; then
                skip "kernels: MULLAMA_CPU=$isa" "this CPU cannot run it"
                continue
        fi
        expect_grep "kernels: MULLAMA_CPU=$isa selects it" "backends: cpu\\($isa\\)" "$(cat "$TMP/out")"
        if [ -n "$m" ]; then
                expect_rc "kernels: $isa SmolLM2 greedy runs" 0 env MULLAMA_CPU=$isa "$MU" run "$m" --raw \
                        --temperature 0 -n 8 "The capital of France is"
                expect_grep "kernels: $isa SmolLM2 greedy text" '^ Paris\.$' "$(printf '%s' "$OUT" | head -n 1)"
        else
                skip "kernels: $isa SmolLM2" "SmolLM2 not in tests/models"
        fi
        if [ -n "$g" ]; then
                expect_rc "kernels: $isa Gemma 3 greedy runs" 0 env MULLAMA_CPU=$isa "$MU" run "$g" --raw \
                        --temperature 0 -n 8 "The capital of France is"
                expect_grep "kernels: $isa Gemma 3 greedy text" '^ the capital of the country of France\.$' "$OUT"
        else
                skip "kernels: $isa Gemma 3" "gemma-3-270m not in tests/models"
        fi
done
exit $_failed
